/**
 * Attacks by a phone that is (or was) paired, and by someone holding the device (protocol brief,
 * "By a phone that is paired, or by the device itself"): member vs admin, a removed phone, keys and
 * recordings after a factory reset, and a dump of the simulated flash after a real story over the air.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FLASH_IMAGE_FILE } from '../../firmware-sim/flash.js';
import { AlertCode } from '../../protocol/link.js';
import { voiceMessage } from '../firmware-sim/fixtures/toy-bench.js';
import { type Lab, makePhoneIdentity, openLab, TestPhone } from './kit/index.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/**
 * The owner pairs and invites a member, who pairs and opens a session (the toy serves one
 * connection at a time: the owner leaves first). `admin()` reconnects the owner.
 */
async function family() {
  lab = await openLab();
  const owner = await lab.owner('mum');
  expect(await owner.phone.request({ type: 'OpenPairingWindow', role: 'member', seconds: 60 })).toMatchObject(
    {
      type: 'Ok',
    },
  );
  await owner.phone.close();
  const l = lab;
  const admin = async () => {
    const phone = await TestPhone.connect(l.bench, owner.identity);
    await phone.openSession(owner.paired);
    return phone;
  };
  const identity = makePhoneIdentity('nanny');
  const member = await TestPhone.connect(lab.bench, identity);
  const paired = await member.pair(lab.setupCode());
  expect(paired.role).toBe('member');
  await member.openSession(paired);
  return { l, owner, admin, member, memberPaired: paired, memberIdentity: identity };
}

describe('member and admin', () => {
  it('a member cannot list, add or remove pairings, or ask for a factory reset: NOT_ADMIN, the table unchanged', async () => {
    const { l, owner, member } = await family();
    const before = l.state();
    const asks = [
      { type: 'ListPairings' },
      { type: 'OpenPairingWindow', role: 'admin', seconds: 60 },
      { type: 'OpenPairingWindow', role: 'member', seconds: 60 },
      { type: 'RemovePairing', phoneId: owner.identity.phoneId },
      { type: 'FactoryResetRequest' },
    ] as const;
    for (const ask of asks) {
      expect(await member.request(ask as never), ask.type).toMatchObject({
        type: 'Error',
        code: 'NOT_ADMIN',
      });
    }
    expect(l.state()).toEqual(before);
    expect(l.bench.toy.behaviour.factoryResetPending).toBe(false);
    // The member still does what members do.
    expect(await member.request({ type: 'SetVolume', volume: 50 })).toMatchObject({ type: 'Ok' });
    await member.close();
  });

  it('a removed phone is refused with an UnknownPhone alert; nothing changes', async () => {
    const { l, admin, member, memberPaired, memberIdentity } = await family();
    await member.close();
    const owner = await admin();
    expect(await owner.request({ type: 'RemovePairing', phoneId: memberIdentity.phoneId })).toMatchObject({
      type: 'Ok',
    });
    await owner.close();
    const before = l.state();
    const again = await TestPhone.connect(l.bench, memberIdentity);
    again.driver.act((e, now) => e.openSession(memberPaired, now));
    expect((await again.next('alert')).code).toBe(AlertCode.UnknownPhone);
    expect(again.events.has((e) => e.type === 'session-open')).toBe(false);
    expect(l.state()).toEqual(before);
    await again.close();
  });
});

describe('factory reset', () => {
  it("after a reset an old phone's keys open nothing and the old messages and recordings are gone for good", async () => {
    lab = await openLab({ microphone: 'none' });
    const { phone, paired, identity } = await lab.owner('old owner');
    const { container } = await voiceMessage(3, 1);
    const uploaded = await phone.upload(container);
    await phone.close();
    await lab.bench.toy.press('record');
    await new Promise<void>((r) => lab!.bench.toy.hardwareClock.setTimer(r, 1_000));
    await lab.bench.toy.press('record');
    const recorded = (await lab.bench.toyEvent('recording-stored')).messageId;
    const recording = lab.bench.toy.storage.readMessage(recorded)!;

    await lab.bench.toy.hold('both', 10_000);
    await lab.bench.toyEvent('factory-reset');

    const old = await TestPhone.connect(lab.bench, identity);
    await expect(old.openSession(paired)).rejects.toBeDefined();
    expect(old.events.has((e) => e.type === 'session-open')).toBe(false);
    await old.close();

    const { phone: fresh } = await lab.owner('new owner');
    for (const id of [uploaded, recorded]) {
      await expect(fresh.download(id)).rejects.toThrow();
    }
    expect(await fresh.request({ type: 'ListMessages', filter: 'all' })).toMatchObject({ entries: [] });
    await fresh.close();
    // Nothing of the old audio is left in the flash, encrypted or not, under the old key or the new.
    const image = readFileSync(join(lab.bench.stateDir, FLASH_IMAGE_FILE));
    for (const secret of [container, recording]) {
      for (let at = 0; at + 16 <= secret.length; at += 64) {
        expect(image.indexOf(Buffer.from(secret.subarray(at, at + 16)))).toBe(-1);
      }
    }
  });
});

describe('the device itself', () => {
  it('a dump of the flash after pairing, an upload and a recording holds no plaintext audio, private key, tag key or pairing secret', async () => {
    lab = await openLab({ microphone: 'none' });
    const { phone, paired } = await lab.owner();
    const { container } = await voiceMessage(4, 2);
    await phone.upload(container);
    await phone.close();
    await lab.bench.toy.press('record');
    await new Promise<void>((r) => lab!.bench.toy.hardwareClock.setTimer(r, 1_500));
    await lab.bench.toy.press('record');
    const recorded = (await lab.bench.toyEvent('recording-stored')).messageId;
    const recording = lab.bench.toy.storage.readMessage(recorded)!;
    const identity = lab.bench.toy.storage.loadIdentity()!;
    const pairingState = lab.bench.toy.storage.loadPairingState()!;
    await lab.bench.toy.close();

    const image = readFileSync(join(lab.bench.stateDir, FLASH_IMAGE_FILE));
    const leaks = (secret: Uint8Array, window: number) => {
      for (let at = 0; at + window <= secret.length; at += Math.max(window, 32)) {
        if (image.indexOf(Buffer.from(secret.subarray(at, at + window))) >= 0) return true;
      }
      return false;
    };
    // The control: the scan does find what is there in the clear (the store's index magic).
    expect(leaks(new TextEncoder().encode('PLKV'), 4)).toBe(true);
    expect(leaks(container, 16)).toBe(false);
    expect(leaks(recording, 16)).toBe(false);
    expect(leaks(identity.privateKey, 8)).toBe(false);
    expect(leaks(paired.tagKey, 8)).toBe(false);
    expect(leaks(pairingState, 16)).toBe(false);
    // The restart in openLab's close needs a running toy.
    await lab.bench.restart();
  });
});
