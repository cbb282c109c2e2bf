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
import { decodeAppMessage } from '../../protocol/messages/index.js';
import {
  decodeTransferMessage,
  encodeTransferMessage,
  isTransferPlaintext,
} from '../../protocol/transfer/index.js';
import { voiceMessage } from '../firmware-sim/fixtures/toy-bench.js';
import { type FramedLink, type Lab, makePhoneIdentity, openLab, TestPhone } from './kit/index.js';

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

describe('malformed input from a paired phone', () => {
  /** Plaintexts an app gone wrong could seal: bad lengths, values, types, transfers. */
  function malformed(): Array<{ name: string; channel: 0 | 1; bytes: Uint8Array }> {
    const u16 = (v: number) => [v & 0xff, v >> 8];
    const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
    // Application messages go on the Control channel, transfer messages (0x40–0x4F) on Audio.
    const control = (name: string, ...b: number[]) => ({
      name,
      channel: (b[0]! >= 0x40 && b[0]! <= 0x4f ? 1 : 0) as 0 | 1,
      bytes: Uint8Array.from(b),
    });
    const init = (transferId: number, direction: number, codec: number, total: number) =>
      control(
        `TransferInit dir ${direction} codec ${codec} total ${total}`,
        ...encodeTransferMessage({
          type: 'TransferInit',
          transferId,
          direction,
          codec,
          totalBytes: total,
          sha256: new Uint8Array(32),
          startOffset: 0,
        }),
      );
    return [
      control('empty record'),
      control('SetVolume without its value', 0x02, ...u16(1)),
      control('SetVolume with trailing bytes', 0x02, ...u16(1), 9, 9, 9),
      control('Identify 0 s', 0x03, ...u16(1), ...u16(0)),
      control('SetLed unknown mode', 0x04, ...u16(1), 7),
      control('DeleteMessage id 0', 0x06, ...u16(1), ...u32(0)),
      control('ListMessages unknown filter', 0x05, ...u16(1), 9),
      control('OpenPairingWindow 0 s', 0x0b, ...u16(1), 1, ...u16(0)),
      control('RemovePairing short id', 0x0c, ...u16(1), 1, 2, 3),
      control('request id 0', 0x01, 0, 0),
      control('unknown request type', 0x3e, ...u16(1)),
      control('a response sent to the toy', 0x80, ...u16(1)),
      control('an event sent to the toy', 0xc0, 0, 0, 0),
      control('reserved transfer type', 0x4f, ...u16(1)),
      {
        name: 'oversize StatusRequest',
        channel: 0,
        bytes: Uint8Array.from([0x01, ...u16(1), ...new Uint8Array(1500)]),
      },
      init(5, 0, 9, 1000),
      init(6, 7, 1, 1000),
      init(7, 0, 1, 0),
      init(8, 0, 1, 0xffffffff),
      {
        name: 'Block for a transfer never started',
        channel: 1,
        bytes: encodeTransferMessage({ type: 'Block', transferId: 99, offset: 0, data: new Uint8Array(100) }),
      },
      control('End for a transfer never started', ...encodeTransferMessage({ type: 'End', transferId: 98 })),
      // The encoder refuses message id 0, so its last 4 bytes are zeroed by hand.
      control(
        'DownloadRequest for message 0',
        ...encodeTransferMessage({ type: 'DownloadRequest', transferId: 97, messageId: 1 }).map((b, i, a) =>
          i >= a.length - 4 ? 0 : b,
        ),
      ),
    ];
  }

  it('each gets an Error, an abort or a closed link; the toy keeps everything it had and still serves its owner', async () => {
    lab = await openLab();
    const { phone, paired, identity } = await lab.owner();
    const { container } = await voiceMessage(6, 1);
    await phone.upload(container);
    await phone.close();
    const before = lab.state();
    const outcomes: string[] = [];
    let link: FramedLink | undefined;
    for (const m of malformed()) {
      if (!link?.open) {
        const s = await lab.stranger();
        link = s.link;
        await link.session(identity, paired, identity.random);
      }
      const from = link.received.length;
      link.sendRecord(m.channel, m.bytes);
      await link.until(() => link!.received.length > from || !link!.open, 3_000);
      const replies = link.open ? link.openRecords() : [];
      const reply = replies[0];
      outcomes.push(
        `${m.name}: ${
          !link.open
            ? 'closed'
            : reply === undefined
              ? 'ignored'
              : isTransferPlaintext(reply)
                ? decodeTransferMessage(reply).type
                : decodeAppMessage(reply, 'toPhone').type
        }`,
      );
    }
    if (process.env.SHOW_OUTCOMES) console.log(outcomes.join('\n'));
    // Nothing was acted on: an app request gets Error, a transfer message TransferAbort, and a
    // stray Block or End for no transfer is dropped (PROTOCOL.md §4.6); none is answered Ok.
    expect(outcomes.filter((o) => !/: (Error|TransferAbort|ignored)$/.test(o))).toEqual([]);
    expect(outcomes.filter((o) => o.endsWith('ignored'))).toEqual([
      'Block for a transfer never started: ignored',
      'End for a transfer never started: ignored',
    ]);
    expect(lab.state()).toEqual(before);
    expect(outcomes.length).toBe(malformed().length);
    await link?.conn.disconnect();
    const owner = await TestPhone.connect(lab.bench, identity);
    await owner.openSession(paired);
    expect(await owner.request({ type: 'StatusRequest' })).toMatchObject({
      type: 'Status',
      incomingCount: 1,
    });
    await owner.close();
  });
});
