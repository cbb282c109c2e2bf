import { describe, expect, it } from 'vitest';
// Through the layer's entry point, so it is compiled and resolved by the test run too.
import { correlate, speechLikeSignal } from '../../audio/index.js';

const SPEECH = speechLikeSignal({ seconds: 2, seed: 4 });

describe('correlate', () => {
  it('gives 1 at lag 0 for a signal and a scaled copy of it', () => {
    const r = correlate(
      SPEECH,
      SPEECH.map((x) => 0.3 * x),
    );
    expect(r.correlation).toBeCloseTo(1, 9);
    expect(r.lag).toBe(0);
  });

  it('finds the delay of a delayed copy inside the lag window', () => {
    const delayed = new Float32Array(SPEECH.length + 37);
    delayed.set(SPEECH, 37);
    const r = correlate(SPEECH, delayed, { maxLag: 100 });
    expect(r.lag).toBe(37);
    expect(r.correlation).toBeCloseTo(1, 6);
    expect(correlate(delayed, SPEECH, { maxLag: 100 }).lag).toBe(-37);
  });

  it('gives about 0 for a delay outside the window, for other speech, for an inverted copy, and for silence', () => {
    expect(correlate(SPEECH.subarray(16000), SPEECH, { maxLag: 320 }).correlation).toBeLessThan(0.2);
    expect(correlate(SPEECH, speechLikeSignal({ seconds: 2, seed: 5 })).correlation).toBeLessThan(0.2);
    expect(
      correlate(
        SPEECH,
        SPEECH.map((x) => -x),
        { maxLag: 0 },
      ).correlation,
    ).toBe(0);
    expect(correlate(SPEECH, new Float32Array(SPEECH.length)).correlation).toBe(0);
  });
});

describe('speechLikeSignal', () => {
  it('is deterministic: the same options give the same samples, another seed other samples', () => {
    expect(speechLikeSignal({ seconds: 1, seed: 9 })).toEqual(speechLikeSignal({ seconds: 1, seed: 9 }));
    expect(speechLikeSignal({ seconds: 1, seed: 9 })).not.toEqual(speechLikeSignal({ seconds: 1, seed: 10 }));
  });

  it('is the same utterance at any sample rate (16 kHz vs 48 kHz decimated: correlation > 0.95)', () => {
    const at48k = speechLikeSignal({ seconds: 1, sampleRate: 48000, seed: 2 });
    const at16k = speechLikeSignal({ seconds: 1, sampleRate: 16000, seed: 2 });
    const picked = at16k.map((_, i) => at48k[3 * i]!);
    expect(correlate(at16k, picked, { maxLag: 2 }).correlation).toBeGreaterThan(0.95);
  });

  it('has syllables and pauses: loud 20 ms windows and near-silent ones, peaks within the level', () => {
    const level = 0.5;
    const x = speechLikeSignal({ seconds: 3, seed: 3, level });
    const rms: number[] = [];
    for (let i = 0; i + 320 <= x.length; i += 320) {
      rms.push(Math.sqrt(x.subarray(i, i + 320).reduce((a, v) => a + v * v, 0) / 320));
    }
    expect(rms.filter((r) => r > 0.05).length).toBeGreaterThan(rms.length * 0.3);
    expect(rms.filter((r) => r < 0.001).length).toBeGreaterThan(rms.length * 0.1);
    expect(Math.max(...x.map(Math.abs))).toBeLessThanOrEqual(level);
  });
});
