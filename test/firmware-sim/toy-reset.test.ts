/**
 * Factory reset (PROTOCOL.md §6 "Pairing table and roles", §8 "Factory reset confirmation"): only
 * with the paws, everything erased but what is printed on the tag, old phones refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bytesEqual } from '../../protocol/bytes.js';
import { AlertCode } from '../../protocol/link.js';
import { decodeToyPairingState } from '../../protocol/pairing/state.js';
import { type Bench, pairAndConnect, startBench, TestPhone, voiceMessage } from './fixtures/toy-bench.js';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

function state(b: Bench) {
  return decodeToyPairingState(b.toy.storage.loadPairingState()!);
}

describe('factory reset', () => {
  it('both paws held 10 s erase the toy: messages, pairings, keys and settings go; the tag stays valid; the old phone is refused and a new one pairs with the same code', async () => {
    bench = await startBench();
    const { toy } = bench;
    const { container } = await voiceMessage(8, 1);
    const { phone, paired, identity } = await pairAndConnect(bench, 'parent');
    await phone.upload(container);
    await phone.request({ type: 'SetVolume', volume: 10 });
    await phone.close();
    const before = state(bench);
    const tag = toy.tagStatus;

    await toy.hold('both', 9_000); // not long enough
    expect(state(bench).pairings).toHaveLength(1);
    expect(bench.events.has((e) => e.event === 'playback-started' || e.event === 'recording-started')).toBe(
      false,
    );

    await toy.hold('both', 10_000);
    expect(await bench.toyEvent('factory-reset')).toEqual({ event: 'factory-reset', by: 'paws' });
    const after = state(bench);
    expect(after.pairings).toHaveLength(0);
    expect(after.tagKey).toBeUndefined();
    expect(after.discriminator).toBe(before.discriminator);
    expect(bytesEqual(after.verifier.w0, before.verifier.w0)).toBe(true);
    expect(bytesEqual(after.toyStaticPublicKey, before.toyStaticPublicKey)).toBe(false);
    expect(toy.storage.listMessages()).toEqual([]);
    expect(toy.speaker.volume).toBe(128);
    expect(toy.tagStatus).toEqual(tag);
    expect(toy.led.shown().layer).toBe('base');

    const old = await TestPhone.connect(bench, identity);
    // Its Noise message 1 is sealed to the old static key: the new toy cannot open it.
    await expect(old.openSession(paired)).rejects.toBeDefined();
    expect(old.events.has((e) => e.type === 'alert' && e.code === AlertCode.ProtocolError)).toBe(true);
    expect(old.events.has((e) => e.type === 'session-open')).toBe(false);
    await old.close();

    const { phone: fresh, paired: again } = await pairAndConnect(bench, 'new owner');
    expect(again.role).toBe('admin');
    expect(bytesEqual(again.toyStaticPublicKey, after.toyStaticPublicKey)).toBe(true);
    expect(await fresh.request({ type: 'StatusRequest' })).toMatchObject({
      type: 'Status',
      incomingCount: 0,
    });
    await fresh.close();
  });

  it("an admin's FactoryResetRequest needs both paws held 2 s within 30 s: meanwhile the heart flashes and a single paw does nothing", async () => {
    bench = await startBench();
    const { toy } = bench;
    const { container } = await voiceMessage(9, 1);
    const { phone } = await pairAndConnect(bench, 'parent');
    await phone.upload(container);
    expect(await phone.request({ type: 'FactoryResetRequest' })).toMatchObject({ type: 'Ok' });
    expect(toy.led.shown()).toEqual({
      layer: 'resetPending',
      pattern: { mode: 'blink', periodMs: 800, onMs: 100 },
    });
    expect(
      await phone.request({ type: 'Lullaby', messageId: 1, loop: { mode: 'times', times: 1 } }),
    ).toMatchObject({
      type: 'Error',
      code: 'BUSY',
    });
    await toy.press('record');
    await toy.press('listen');
    expect(bench.events.has((e) => ['recording-started', 'playback-started'].includes(e.event))).toBe(false);

    await toy.hold('both', 2_000);
    expect(await bench.toyEvent('factory-reset')).toEqual({ event: 'factory-reset', by: 'confirmed' });
    expect(await phone.next('closed')).toBeDefined();
    expect(state(bench).pairings).toHaveLength(0);
    expect(toy.storage.listMessages()).toEqual([]);
    expect(toy.led.has('resetPending')).toBe(false);
  });

  it('a FactoryResetRequest not confirmed within 30 s erases nothing, and the paws work again', async () => {
    bench = await startBench();
    const { toy } = bench;
    const { container } = await voiceMessage(10, 1);
    const { phone } = await pairAndConnect(bench, 'parent');
    await phone.upload(container);
    expect(await phone.request({ type: 'FactoryResetRequest' })).toMatchObject({ type: 'Ok' });
    await phone.close();
    await bench.toyEvent('factory-reset-cancelled');
    expect(toy.led.has('resetPending')).toBe(false);
    expect(state(bench).pairings).toHaveLength(1);
    expect(toy.storage.listMessages('incoming')).toHaveLength(1);
    await toy.hold('both', 2_000);
    expect(bench.events.has((e) => e.event === 'factory-reset')).toBe(false);
    await toy.press('listen');
    expect(await bench.toyEvent('playback-finished')).toMatchObject({ state: 'finished' });
  });
});
