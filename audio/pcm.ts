/**
 * PCM helpers: sample-format conversions, downmixing, gain. Pure functions, no I/O.
 *
 * Conventions: float samples are in [-1, 1]; 16-bit samples are signed integers in [-32768, 32767];
 * a float maps to 16 bits as round(x * 32767), clipped (so 1.0 -> 32767 and -1.0 -> -32767, and a
 * round trip 16 -> float -> 16 is exact).
 */
import { audioError } from './errors.js';

/** Any mono signal the audio layer accepts: 16-bit integers or floats in [-1, 1]. */
export type PcmSamples = Int16Array | Float32Array | Float64Array;

const INT16_SCALE = 32767;

/** Float samples -> 16-bit, rounded and clipped. */
export function floatToInt16(samples: ArrayLike<number>): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * INT16_SCALE);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** 16-bit samples -> floats in [-1, 1]. */
export function int16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / INT16_SCALE;
  return out;
}

/** Any accepted PCM -> floats (a copy for integers, the same values for floats). */
export function toFloat(samples: PcmSamples): Float32Array {
  if (samples instanceof Int16Array) return int16ToFloat(samples);
  return samples instanceof Float32Array ? samples : Float32Array.from(samples);
}

/** Any accepted PCM -> 16-bit (the same array when it already is). */
export function toInt16(samples: PcmSamples): Int16Array {
  return samples instanceof Int16Array ? samples : floatToInt16(samples);
}

/** Interleaved frames of `channels` samples -> one array per channel. */
export function deinterleave<T extends PcmSamples>(samples: T, channels: number): T[] {
  checkChannels(channels);
  if (samples.length % channels !== 0) {
    throw audioError(
      'BAD_CHANNELS',
      `${samples.length} interleaved samples are not a whole number of ${channels}-channel frames`,
    );
  }
  const frames = samples.length / channels;
  const Ctor = samples.constructor as new (n: number) => T;
  const out: T[] = [];
  for (let c = 0; c < channels; c++) {
    const ch = new Ctor(frames);
    for (let i = 0; i < frames; i++) ch[i] = samples[i * channels + c]!;
    out.push(ch);
  }
  return out;
}

/**
 * Several channels -> one, as their mean (no clipping possible; a signal in one channel of two comes
 * out 6 dB quieter, like most players' mono fold-down). All channels must have the same length.
 */
export function downmix(channels: readonly ArrayLike<number>[]): Float32Array {
  if (channels.length === 0) throw audioError('BAD_CHANNELS', 'no channels to downmix');
  const n = channels[0]!.length;
  const out = new Float32Array(n);
  if (channels.length === 1) {
    const only = channels[0]!;
    for (let i = 0; i < n; i++) out[i] = only[i]!;
    return out;
  }
  for (const ch of channels) {
    if (ch.length !== n) throw audioError('BAD_CHANNELS', 'channels of different lengths');
    for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  }
  const k = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= k;
  return out;
}

/** Multiplies 16-bit samples by `gain` (>= 0), rounding and clipping. Gain 1 returns a copy. */
export function applyGain(samples: Int16Array, gain: number): Int16Array {
  if (gain === 1) return samples.slice();
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * gain);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Raw signed 16-bit little-endian bytes -> samples (independent of the host's byte order). */
export function s16leToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) {
    throw audioError('BAD_PCM', `raw s16le PCM must have an even number of bytes, got ${bytes.length}`);
  }
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    out[i] = v >= 0x8000 ? v - 0x10000 : v;
  }
  return out;
}

/** Samples -> raw signed 16-bit little-endian bytes. */
export function int16ToS16le(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]! & 0xffff;
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >>> 8;
  }
  return out;
}

/** Throws BAD_CHANNELS unless `channels` is an integer in 1..255 (the WAV and Ogg Opus limits). */
export function checkChannels(channels: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 255) {
    throw audioError('BAD_CHANNELS', `channel count ${channels} must be an integer in 1..255`);
  }
}
