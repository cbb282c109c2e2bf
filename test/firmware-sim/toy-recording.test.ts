/**
 * The record paw: the microphone on only by a press, the LED showing it, the recording stored and
 * announced, downloadable, and what happens when there is no room.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice } from '../../audio/decode.js';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { writeWav } from '../../audio/wav.js';
import { type Bench, pairAndConnect, startBench } from './fixtures/toy-bench.js';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'pawlink-mic-'));
const micFile = join(dir, 'child.wav');
const heard = speechLikeSignal({ seconds: 4, seed: 11 });
beforeAll(async () => {
  await writeWav(micFile, floatToInt16(heard), 16_000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function wait(b: Bench, ms: number): Promise<void> {
  return new Promise((resolve) => b.toy.hardwareClock.setTimer(resolve, ms));
}

describe('recording with the record paw', () => {
  it('a press turns the microphone on with the heart steady on; a second press stores it, announces it to the phone, and the phone downloads what the microphone heard', async () => {
    bench = await startBench({ microphone: `file:${micFile}` });
    const { toy } = bench;
    const { phone } = await pairAndConnect(bench, 'parent');
    await toy.press('record');
    await bench.toyEvent('recording-started');
    expect(toy.led.shown()).toEqual({ layer: 'recording', pattern: { mode: 'on' } });
    expect(toy.microphone.recording).toBe(true);
    // The listen paw does nothing while the child records (the microphone would hear the speaker).
    await toy.press('listen');
    await wait(bench, 2_000);
    await toy.press('record');

    const event = await phone.appEvent('RecordingStoredEvent');
    const stored = await bench.toyEvent('recording-stored');
    expect(stored).toMatchObject({ messageId: event.messageId, sizeBytes: event.sizeBytes, replaced: [] });
    expect(event.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(event.durationMs).toBeLessThanOrEqual(2_300);
    expect(toy.led.shown().layer).toBe('base');
    expect(toy.microphone.recording).toBe(false);
    expect(bench.events.has((e) => e.event === 'playback-started' || e.event === 'nothing-to-play')).toBe(
      false,
    );

    const content = await phone.download(event.messageId);
    const { pcm } = await decodeVoice(content);
    expect(correlate(heard.subarray(0, pcm.length), pcm).correlation).toBeGreaterThan(0.9);
    expect(correlate(heard.subarray(16_000, 16_000 + pcm.length), pcm).correlation).toBeLessThan(0.3);
    await bench.toyEvent('download-finished');
    expect(toy.storage.getMessage(event.messageId)).toMatchObject({ kind: 'recording', played: true });
    await phone.close();
  });

  it('a recording nobody stops ends at the 120 s limit and is stored', async () => {
    bench = await startBench({ microphone: 'none' });
    await bench.toy.press('record');
    const stored = await bench.toyEvent('recording-stored');
    expect(stored.durationMs).toBeGreaterThan(119_000);
    expect(stored.durationMs).toBeLessThanOrEqual(120_000);
    expect(bench.toy.led.shown().layer).toBe('base');
  });

  it('when storage is full, a new recording replaces the oldest recording', async () => {
    bench = await startBench({
      microphone: `file:${micFile}`,
      storagePolicy: { maxMessages: 2, minIncomingSlots: 1, minRecordingSlots: 1 },
    });
    const { toy } = bench;
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      await toy.press('record');
      await wait(bench, 500);
      await toy.press('record');
      const stored = await bench.toyEvent('recording-stored');
      ids.push(stored.messageId);
      expect(stored.replaced).toEqual(i === 0 ? [] : [ids[0]]);
    }
    expect(toy.storage.listMessages('recording').map((m) => m.id)).toEqual([ids[1]]);
  });
});
