import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice } from '../../audio/decode.js';
import { voiceFromFile } from '../../audio/input.js';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { encodeWav, readWav, writeWav } from '../../audio/wav.js';
import { makeWav, maxAbsDiff, speech16k, tempDir, type WavDepth } from './helpers.js';

const RATES = [8000, 16000, 22050, 44100, 48000] as const;
const DEPTHS: WavDepth[] = ['8', '16', '24', '32', '32f'];
/** Largest reading error per depth for samples within [-0.5, 0.5] (quantisation, and 8-bit's 127/128 scale). */
const TOLERANCE: Record<WavDepth, number> = { '8': 0.01, '16': 1e-4, '24': 1e-6, '32': 1e-8, '32f': 1e-7 };

const sources = new Map<number, [Float32Array, Float32Array]>();
/** Two different 0.1 s utterances at `rate` (computed once per rate). */
function sourceAt(rate: number): [Float32Array, Float32Array] {
  let pair = sources.get(rate);
  if (!pair) {
    pair = [
      speechLikeSignal({ seconds: 0.1, sampleRate: rate, seed: 1 }),
      speechLikeSignal({ seconds: 0.1, sampleRate: rate, seed: 2, level: 0.3 }),
    ];
    sources.set(rate, pair);
  }
  return pair;
}

describe('readWav: every common rate, bit depth and channel count', () => {
  for (const rate of RATES) {
    for (const depth of DEPTHS) {
      for (const channels of [1, 2]) {
        it(`reads ${rate} Hz, ${depth}-bit, ${channels === 1 ? 'mono' : 'stereo'} sample for sample`, () => {
          const [left, right] = sourceAt(rate);
          const source = channels === 1 ? [left] : [left, right];
          const wav = readWav(makeWav(source, rate, depth));
          expect(wav.sampleRate).toBe(rate);
          expect(wav.channels.length).toBe(channels);
          expect(wav.longerThanLimit).toBe(false);
          wav.channels.forEach((ch, c) => {
            expect(maxAbsDiff(ch, source[c]!)).toBeLessThanOrEqual(TOLERANCE[depth]);
          });
        });
      }
    }
  }
});

describe('voiceFromFile on WAV files', () => {
  it.each(RATES.map((rate, i) => [rate, DEPTHS[i]!, i % 2 === 0 ? 2 : 1] as const))(
    'encodes a %i Hz %s-bit %i-channel WAV so the toy plays the speech back (correlation >= 0.9)',
    async (rate, depth, channels) => {
      const dir = await tempDir();
      const source = Array.from({ length: channels }, (_, c) =>
        speechLikeSignal({ seconds: 0.75, sampleRate: rate, seed: 10 + c }),
      );
      const path = join(dir, 'in.wav');
      await writeFile(path, makeWav(source, rate, depth));
      const voice = await voiceFromFile(path);
      expect(voice).toMatchObject({ source: 'wav', reencoded: true, truncated: false, sampleCount: 12000 });
      const played = (await decodeVoice(voice.container)).pcm;
      // What the toy should play: the downmix of the same utterances rendered at 16 kHz.
      const at16k = Array.from({ length: channels }, (_, c) =>
        speechLikeSignal({ seconds: 0.75, seed: 10 + c }),
      );
      const expected = floatToInt16(
        at16k[0]!.map((_, i) => at16k.reduce((a, ch) => a + ch[i]!, 0) / channels),
      );
      expect(correlate(expected, played, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
    },
  );
});

describe('other WAV layouts', () => {
  it('reads A-law and mu-law files', () => {
    const pcm = speech16k(0.3, 5);
    for (const codec of ['alaw', 'mulaw'] as const) {
      const w = new wavefile.WaveFile();
      w.fromScratch(1, 8000, '16', pcm);
      if (codec === 'alaw') w.toALaw();
      else w.toMuLaw();
      const wav = readWav(w.toBuffer());
      expect(wav.encoding).toBe(codec);
      expect(correlate(floatToInt16(wav.channels[0]!), pcm, { maxLag: 0 }).correlation).toBeGreaterThan(0.99);
    }
  });

  it('reads big-endian RIFX files', () => {
    const w = new wavefile.WaveFile();
    const pcm = speech16k(0.1, 6);
    w.fromScratch(1, 16000, '16', pcm);
    w.toRIFX();
    expect(floatToInt16(readWav(w.toBuffer()).channels[0]!)).toEqual(pcm);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE float by its sub-format', () => {
    const samples = Float32Array.of(0.25, -0.5, 0.75, 0);
    const wav = readWav(extensibleFloatWav(samples, 44100));
    expect(wav.encoding).toBe('float-32');
    expect(Array.from(wav.channels[0]!)).toEqual(Array.from(samples));
  });

  it('reads a streaming recorder file whose data size is the 0xFFFFFFFF placeholder to the end', () => {
    const bytes = encodeWav(Int16Array.of(1, 2, 3, 4), 16000);
    new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
    expect(readWav(bytes).channels[0]!.length).toBe(4);
  });

  it('reports a file of more than 120 s as longer than the limit, reading only 120 s of it', () => {
    const wav = readWav(makeWav([new Float32Array(8000 * 121)], 8000, '8'), { maxMs: 120_000 });
    expect(wav.longerThanLimit).toBe(true);
    expect(wav.durationMs).toBe(121_000);
    expect(wav.channels[0]!.length).toBe(8000 * 120 + 1);
  });
});

describe('writeWav', () => {
  it('writes a canonical 16-bit mono WAV that reads back exactly, leaving no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.wav');
    const pcm = speech16k(0.5, 8);
    await writeWav(path, pcm);
    const bytes = new Uint8Array(await readFile(path));
    expect(bytes.length).toBe(44 + pcm.length * 2);
    const parsed = new wavefile.WaveFile(bytes);
    expect(parsed.fmt).toMatchObject({
      audioFormat: 1,
      numChannels: 1,
      sampleRate: 16000,
      bitsPerSample: 16,
    });
    expect(floatToInt16(readWav(bytes).channels[0]!)).toEqual(pcm);
    await writeWav(path, pcm.subarray(0, 10)); // replaces the file whole
    expect((await readFile(path)).length).toBe(44 + 20);
    expect(await readdir(dir)).toEqual(['out.wav']);
  });

  it('fails with WRITE_FAILED, not a raw I/O error, when the directory does not exist', async () => {
    const dir = await tempDir();
    await expect(writeWav(join(dir, 'missing', 'x.wav'), Int16Array.of(1))).rejects.toMatchObject({
      name: 'AudioError',
      code: 'WRITE_FAILED',
    });
  });
});

/** A WAV with a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk whose sub-format is IEEE float. */
function extensibleFloatWav(samples: Float32Array, rate: number): Uint8Array {
  const data = samples.length * 4;
  const out = new Uint8Array(12 + 8 + 40 + 8 + data);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) =>
    out.set(
      Array.from(s, (c) => c.charCodeAt(0)),
      at,
    );
  ascii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 40, true);
  v.setUint16(20, 0xfffe, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 4, true);
  v.setUint16(32, 4, true);
  v.setUint16(34, 32, true);
  v.setUint16(36, 22, true); // cbSize
  v.setUint16(38, 32, true); // valid bits
  v.setUint32(40, 4, true); // channel mask: front centre
  v.setUint32(44, 3, true); // sub-format GUID starts with the format code: IEEE float
  out.set([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 48);
  ascii(60, 'data');
  v.setUint32(64, data, true);
  samples.forEach((s, i) => {
    v.setFloat32(68 + 4 * i, s, true);
  });
  return out;
}
