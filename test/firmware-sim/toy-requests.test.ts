/**
 * The toy's answers to a paired phone's application requests (PROTOCOL.md §8): what persists, the
 * LED, lullabies, game mode, deleting, and that no request reaches the microphone.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMicrophone, type ToyMicrophone } from '../../firmware-sim/hardware/microphone.js';
import type { AppRequest } from '../../protocol/messages/types.js';
import { type Bench, pairAndConnect, startBench, TestPhone, voiceMessage } from './fixtures/toy-bench.js';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

describe('application requests', () => {
  it('volume and the base LED mode persist across a restart and reach the speaker; Status reports them', async () => {
    bench = await startBench();
    const { phone, paired, identity } = await pairAndConnect(bench, 'parent');
    expect(await phone.request({ type: 'SetVolume', volume: 77 })).toMatchObject({ type: 'Ok' });
    const blink = { mode: 'blink', periodMs: 2000, onMs: 500 } as const;
    expect(await phone.request({ type: 'SetLed', led: blink })).toMatchObject({ type: 'Ok' });
    expect(bench.toy.speaker.volume).toBe(77);
    expect(bench.toy.led.shown()).toEqual({ layer: 'base', pattern: blink });
    await phone.close();

    const toy = await bench.restart();
    expect(toy.speaker.volume).toBe(77);
    expect(toy.led.shown()).toEqual({ layer: 'base', pattern: blink });
    const again = await TestPhone.connect(bench, identity);
    await again.openSession(paired);
    const status = await again.request({ type: 'StatusRequest' });
    expect(status).toMatchObject({
      type: 'Status',
      volume: 77,
      led: blink,
      firmware: { major: 0, minor: 1, patch: 0 },
      incomingCount: 0,
      gameMode: false,
      pairingWindowOpen: false,
      lullabyPlaying: false,
    });
    await again.close();
  });

  it('Identify blinks the heart for its seconds, under the recording indicator, then stops by itself', async () => {
    bench = await startBench();
    const { toy } = bench;
    const { phone } = await pairAndConnect(bench, 'parent');
    expect(await phone.request({ type: 'Identify', seconds: 2 })).toMatchObject({ type: 'Ok' });
    expect(toy.led.shown()).toEqual({
      layer: 'identify',
      pattern: { mode: 'blink', periodMs: 400, onMs: 200 },
    });
    await toy.press('record');
    expect(toy.led.shown().layer).toBe('recording');
    expect(await phone.request({ type: 'Identify', seconds: 5 })).toMatchObject({ type: 'Ok' });
    expect(toy.led.shown().layer).toBe('recording');
    await toy.press('record');
    await bench.toyEvent('recording-stored');
    while (toy.led.has('identify')) await bench.toyEvent('led');
    expect(toy.led.shown().layer).toBe('base');
    await phone.close();
  });

  it('Lullaby loops a stored message and reports started and finished; LullabyStop and a paw press stop one', async () => {
    bench = await startBench();
    const { container } = await voiceMessage(3, 1);
    const { phone } = await pairAndConnect(bench, 'parent');
    const id = await phone.upload(container);
    expect(
      await phone.request({ type: 'Lullaby', messageId: id, loop: { mode: 'times', times: 3 } }),
    ).toMatchObject({
      type: 'Ok',
    });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({
      messageId: id,
      state: 'started',
      source: 'lullaby',
    });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({
      messageId: id,
      state: 'finished',
      source: 'lullaby',
    });
    expect(readdirSync(bench.playbackDir).filter((f) => f.endsWith(`message-${id}.wav`))).toHaveLength(3);
    // A lullaby does not count as the child listening: the message is still new.
    expect(bench.toy.storage.getMessage(id)?.played).toBe(false);

    await phone.request({ type: 'Lullaby', messageId: id, loop: { mode: 'seconds', seconds: 3600 } });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({ state: 'started', source: 'lullaby' });
    expect(await phone.request({ type: 'StatusRequest' })).toMatchObject({ lullabyPlaying: true });
    expect(await phone.request({ type: 'LullabyStop' })).toMatchObject({ type: 'Ok' });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({ state: 'stopped', source: 'lullaby' });

    await phone.request({ type: 'Lullaby', messageId: id, loop: { mode: 'times', times: 100 } });
    await phone.appEvent('PlaybackEvent');
    await bench.toy.press('record'); // the record paw starts a recording: the lullaby ends
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({ state: 'stopped', source: 'lullaby' });
    expect(
      await phone.request({ type: 'Lullaby', messageId: id, loop: { mode: 'times', times: 1 } }),
    ).toMatchObject({
      type: 'Error',
      code: 'BUSY',
    });
    expect(
      await phone.request({ type: 'Lullaby', messageId: 999, loop: { mode: 'times', times: 1 } }),
    ).toMatchObject({
      type: 'Error',
    });
    await phone.close();
  });

  it('DeleteMessage stops the playback of that message first, erases it, and answers NOT_FOUND for an unknown id', async () => {
    bench = await startBench();
    const { container } = await voiceMessage(4, 2);
    const { phone } = await pairAndConnect(bench, 'parent');
    const id = await phone.upload(container);
    await phone.request({ type: 'Lullaby', messageId: id, loop: { mode: 'times', times: 50 } });
    await phone.appEvent('PlaybackEvent');
    expect(await phone.request({ type: 'DeleteMessage', messageId: id })).toMatchObject({ type: 'Ok' });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({ messageId: id, state: 'stopped' });
    expect(bench.toy.storage.getMessage(id)).toBeUndefined();
    expect(await phone.request({ type: 'ListMessages', filter: 'all' })).toMatchObject({ entries: [] });
    expect(await phone.request({ type: 'DeleteMessage', messageId: id })).toMatchObject({
      type: 'Error',
      code: 'NOT_FOUND',
    });
    expect(bench.toy.led.has('newMessage')).toBe(false);
    await phone.close();
  });

  it('in game mode paw presses and holds go to the phone as PawEvents and play or record nothing; game mode ends with the session', async () => {
    bench = await startBench();
    const { container } = await voiceMessage(5, 1);
    const { phone, paired, identity } = await pairAndConnect(bench, 'parent');
    await phone.upload(container);
    expect(await phone.request({ type: 'SetGameMode', enabled: true })).toMatchObject({ type: 'Ok' });
    await bench.toy.press('listen');
    expect(await phone.appEvent('PawEvent')).toMatchObject({
      paw: 'listen',
      action: 'press',
      durationMs: 100,
    });
    await bench.toy.hold('record', 1_500);
    expect(await phone.appEvent('PawEvent')).toMatchObject({
      paw: 'record',
      action: 'hold',
      durationMs: 1500,
    });
    expect(await phone.request({ type: 'StatusRequest' })).toMatchObject({
      gameMode: true,
      unplayedCount: 1,
    });
    expect(bench.events.has((e) => e.event === 'playback-started' || e.event === 'recording-started')).toBe(
      false,
    );

    await phone.close();
    expect(await bench.toyEvent('game-mode', (e) => !e.enabled)).toBeDefined();
    await bench.toy.press('listen');
    await bench.toyEvent('playback-finished');
    const again = await TestPhone.connect(bench, identity);
    await again.openSession(paired);
    expect(await again.request({ type: 'StatusRequest' })).toMatchObject({
      gameMode: false,
      unplayedCount: 0,
    });
    await again.close();
  });

  it('no request of any type turns the microphone on; only the record paw does', async () => {
    const real = await createMicrophone('none', {
      clock: { now: () => 0, setTimer: () => ({ cancel() {} }) },
    });
    let starts = 0;
    let mic: ToyMicrophone | undefined;
    const spy: ToyMicrophone = {
      kind: real.kind,
      notice: real.notice,
      get recording() {
        return mic?.recording ?? false;
      },
      start(options) {
        starts++;
        return mic!.start(options);
      },
    };
    bench = await startBench({ microphone: spy });
    mic = await createMicrophone('none', { clock: bench.toy.hardwareClock });
    const { container } = await voiceMessage(6, 1);
    const { phone, paired } = await pairAndConnect(bench, 'parent');
    const id = await phone.upload(container);
    const requests: DistributiveOmit<AppRequest, 'requestId'>[] = [
      { type: 'StatusRequest' },
      { type: 'SetVolume', volume: 255 },
      { type: 'Identify', seconds: 1 },
      { type: 'SetLed', led: { mode: 'on' } },
      { type: 'ListMessages', filter: 'recording' },
      { type: 'Lullaby', messageId: id, loop: { mode: 'times', times: 1 } },
      { type: 'LullabyStop' },
      { type: 'SetGameMode', enabled: true },
      { type: 'SetGameMode', enabled: false },
      { type: 'ListPairings' },
      { type: 'OpenPairingWindow', role: 'member', seconds: 5 },
      { type: 'RemovePairing', phoneId: new Uint8Array(16) },
      { type: 'FactoryResetRequest' },
      { type: 'DeleteMessage', messageId: id },
    ];
    for (const r of requests) await phone.request(r);
    expect(starts).toBe(0);
    expect(bench.toy.led.has('recording')).toBe(false);
    await bench.toyEvent('factory-reset-cancelled');
    await bench.toy.press('record');
    await bench.toyEvent('recording-started');
    expect(starts).toBe(1);
    expect(paired.role).toBe('admin');
    await phone.close();
  });
});
