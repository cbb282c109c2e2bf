/**
 * Test helpers for the audio layer: temporary directories, WAV files generated in code (wavefile,
 * the same library the reader uses for chunk parsing but an independent path for the samples), and
 * the synthetic speech at 16 kHz. No recorded fixture is needed anywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import wavefile from 'wavefile';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';

const dirs: string[] = [];

/** A fresh temporary directory, removed after the current test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pawlink-audio-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export type WavDepth = '8' | '16' | '24' | '32' | '32f';

/** Full-scale integer for a depth (8-bit WAV is unsigned, centred on 128). */
function toStored(x: number, depth: WavDepth): number {
  if (depth === '32f') return x;
  const bits = Number(depth);
  const max = 2 ** (bits - 1) - 1;
  const v = Math.max(-max - 1, Math.min(max, Math.round(x * max)));
  return depth === '8' ? v + 128 : v;
}

/** WAV bytes of float channels at `rate` and `depth`, written by wavefile. */
export function makeWav(channels: Float32Array[], rate: number, depth: WavDepth): Uint8Array {
  const w = new wavefile.WaveFile();
  const stored = channels.map((c) => Array.from(c, (x) => toStored(x, depth)));
  w.fromScratch(channels.length, rate, depth, channels.length === 1 ? stored[0]! : stored);
  return w.toBuffer();
}

/** The synthetic speech as 16 kHz 16-bit samples. */
export function speech16k(seconds: number, seed = 1): Int16Array {
  return floatToInt16(speechLikeSignal({ seconds, seed }));
}

/** Largest absolute difference between two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
