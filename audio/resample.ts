/**
 * Sample-rate conversion by band-limited interpolation: each output sample is the input convolved
 * with a Kaiser-windowed sinc centred on the output instant. Works for any pair of rates (44.1 kHz,
 * 22.05 kHz, 11.025 kHz, odd rates from phones), in one pass, in linear phase (no delay to undo).
 *
 * Why our own rather than wavefile's `toSampleRate`: wavefile's runs only on a WaveFile object (the
 * SDK also resamples raw PCM and decoded Ogg), filters in place with an IIR run forwards and
 * backwards and then interpolates cubically; this one is ~40 lines, works on plain arrays, and its
 * pass band, stop band and cost are stated here and tested (test/audio/resample.test.ts).
 *
 * The kernel: cut-off fc = RESAMPLE_CUTOFF x min(in, out) / 2, so it removes what the lower rate
 * cannot carry (anti-aliasing when going down, anti-imaging when going up); RESAMPLE_ZERO_CROSSINGS
 * zero crossings each side; a Kaiser window (beta 8, about 80 dB stop band). The kernel is tabulated
 * once per call and linearly interpolated, so any rate ratio costs the same.
 */
import {
  MAX_INPUT_SAMPLE_RATE,
  MIN_INPUT_SAMPLE_RATE,
  RESAMPLE_CUTOFF,
  RESAMPLE_KAISER_BETA,
  RESAMPLE_TABLE_RESOLUTION,
  RESAMPLE_ZERO_CROSSINGS,
} from './constants.js';
import { audioError } from './errors.js';

/** Throws BAD_SAMPLE_RATE unless `rate` is an integer in the accepted range. */
export function checkSampleRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_INPUT_SAMPLE_RATE || rate > MAX_INPUT_SAMPLE_RATE) {
    throw audioError(
      'BAD_SAMPLE_RATE',
      `sample rate ${rate} Hz must be an integer in ${MIN_INPUT_SAMPLE_RATE}..${MAX_INPUT_SAMPLE_RATE}`,
    );
  }
}

/** Number of output samples for `inputLength` samples converted from `fromRate` to `toRate`. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.round((inputLength * toRate) / fromRate);
}

/**
 * Converts mono float samples from `fromRate` to `toRate` (Hz). Returns a new array of
 * `resampledLength(input.length, fromRate, toRate)` samples; equal rates return a copy.
 */
export function resample(input: ArrayLike<number>, fromRate: number, toRate: number): Float32Array {
  checkSampleRate(fromRate);
  checkSampleRate(toRate);
  const outLength = resampledLength(input.length, fromRate, toRate);
  const out = new Float32Array(outLength);
  if (fromRate === toRate) {
    for (let i = 0; i < outLength; i++) out[i] = input[i]!;
    return out;
  }
  // Cut-off as a fraction of the input rate: the sinc's argument advances by `scale` per input sample.
  const scale = (RESAMPLE_CUTOFF * Math.min(fromRate, toRate)) / fromRate;
  const halfWidth = RESAMPLE_ZERO_CROSSINGS / scale; // kernel half-length in input samples
  const table = kernelTable();
  const step = fromRate / toRate;
  const last = input.length - 1;
  for (let m = 0; m < outLength; m++) {
    const x = m * step; // the output instant, in input samples
    const first = Math.max(0, Math.ceil(x - halfWidth));
    const end = Math.min(last, Math.floor(x + halfWidth));
    let acc = 0;
    for (let n = first; n <= end; n++) {
      const u = Math.abs(x - n) * scale * RESAMPLE_TABLE_RESOLUTION;
      const k = u | 0;
      const h = table[k]! + (table[k + 1]! - table[k]!) * (u - k);
      acc += input[n]! * h;
    }
    out[m] = acc * scale;
  }
  return out;
}

let cachedTable: Float64Array | undefined;

/** sinc(u) x kaiser(u / ZC) for u = 0 .. ZC in steps of 1/RESOLUTION, plus a trailing 0 for interpolation. */
function kernelTable(): Float64Array {
  if (cachedTable) return cachedTable;
  const n = RESAMPLE_ZERO_CROSSINGS * RESAMPLE_TABLE_RESOLUTION;
  const table = new Float64Array(n + 2);
  const i0Beta = besselI0(RESAMPLE_KAISER_BETA);
  for (let k = 0; k <= n; k++) {
    const u = k / RESAMPLE_TABLE_RESOLUTION;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
    const r = u / RESAMPLE_ZERO_CROSSINGS;
    table[k] = (sinc * besselI0(RESAMPLE_KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r)))) / i0Beta;
  }
  cachedTable = table;
  return table;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x <= 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
