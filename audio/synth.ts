/**
 * A deterministic speech-like test signal, so tests need no recorded fixture: syllables of voiced
 * sound (a harmonic series on a gliding pitch with a slight vibrato, shaped by three vowel formants
 * that may glide to another vowel), some with a noisy consonant onset, separated by pauses.
 * Deterministic: the same options give the same samples (a 32-bit xorshift generator; V8's Math.sin
 * is a portable software implementation). The utterance (timing, vowels, pitch) depends only on the
 * seed, not on the sample rate, so renderings at 16 and 48 kHz are the same sound.
 *
 * It is not speech, but it has what matters to a speech codec and to the tests: a 100..250 Hz pitch
 * that moves, formant structure that changes every syllable, silence between bursts, and no long
 * periodicity, so a copy shifted by more than a few ms correlates near 0 with the original.
 */

export interface SpeechLikeOptions {
  /** Duration in seconds (default 5). */
  seconds?: number;
  /** Sample rate in Hz (default 16000). */
  sampleRate?: number;
  /** Any integer; different seeds give different "utterances" (default 1). */
  seed?: number;
  /** Largest absolute sample value, 0..1 (default 0.5); loud syllables come close to it. */
  level?: number;
}

/** First three formants (Hz) of a few vowels, rounded from classic measurements of adult speech. */
const VOWELS: readonly (readonly [number, number, number])[] = [
  [730, 1090, 2440], // a
  [530, 1840, 2480], // e
  [270, 2290, 3010], // i
  [570, 840, 2410], // o
  [300, 870, 2240], // u
  [660, 1720, 2410], // ae
  [490, 1350, 1690], // er
];
const FORMANT_BANDWIDTHS = [90, 110, 170] as const;
/** Samples per control block: pitch and harmonic amplitudes are updated every 5 ms. */
const BLOCK_MS = 5;

/** Float samples in [-level, level] of a speech-like signal. */
export function speechLikeSignal(options: SpeechLikeOptions = {}): Float32Array {
  const seconds = options.seconds ?? 5;
  const fs = options.sampleRate ?? 16000;
  const level = options.level ?? 0.5;
  const rand = xorshift(options.seed ?? 1);
  const out = new Float32Array(Math.round(seconds * fs));
  const basePitch = 100 + 120 * rand(); // the "speaker"
  const maxHarmonicHz = Math.min(7000, 0.45 * fs);
  const block = Math.max(1, Math.round((BLOCK_MS * fs) / 1000));
  let t = Math.round((0.05 + 0.1 * rand()) * fs); // a short lead-in of silence
  while (t < out.length) {
    const syllable = Math.round((0.12 + 0.23 * rand()) * fs);
    const amp = level * (0.55 + 0.45 * rand());
    // Optional consonant: band-limited noise burst before the vowel.
    if (rand() < 0.45) {
      const len = Math.round((0.03 + 0.05 * rand()) * fs);
      // The burst's own generator, so the sequence of `rand` (the utterance) does not depend on the rate.
      t = noiseBurst(
        out,
        t,
        len,
        2500 + 3500 * rand(),
        0.25 * amp,
        fs,
        xorshift(Math.floor(rand() * 2 ** 31)),
      );
    }
    const v0 = VOWELS[Math.floor(rand() * VOWELS.length)]!;
    const v1 = rand() < 0.35 ? VOWELS[Math.floor(rand() * VOWELS.length)]! : v0;
    const f0Start = basePitch * (0.9 + 0.3 * rand());
    const f0End = basePitch * (0.75 + 0.35 * rand());
    const phases = new Float64Array(64);
    const end = Math.min(out.length, t + syllable);
    for (let b = t; b < end; b += block) {
      const x = (b - t) / syllable; // 0..1 through the syllable
      const vibrato = 1 + 0.01 * Math.sin(2 * Math.PI * 5.5 * ((b - t) / fs));
      const f0 = (f0Start + (f0End - f0Start) * x) * vibrato;
      const formants = v0.map((f, i) => f + (v1[i]! - f) * x);
      const harmonics = Math.min(phases.length, Math.floor(maxHarmonicHz / f0));
      const amps = new Float64Array(harmonics);
      let norm = 0;
      for (let k = 1; k <= harmonics; k++) {
        const f = k * f0;
        let g = 0;
        formants.forEach((F, i) => {
          const d = (f - F) / (FORMANT_BANDWIDTHS[i]! / 2);
          g += (i === 0 ? 1 : i === 1 ? 0.6 : 0.3) / (1 + d * d);
        });
        amps[k - 1] = g / Math.sqrt(k); // source roll-off
        norm += amps[k - 1]!;
      }
      const stop = Math.min(end, b + block);
      for (let n = b; n < stop; n++) {
        const env = envelope((n - t) / fs, syllable / fs);
        let s = 0;
        for (let k = 1; k <= harmonics; k++) {
          phases[k - 1] = (phases[k - 1]! + (2 * Math.PI * k * f0) / fs) % (2 * Math.PI);
          s += amps[k - 1]! * Math.sin(phases[k - 1]!);
        }
        out[n]! += (amp * env * s) / Math.max(norm, 1e-9);
      }
    }
    t = end;
    // Pause: mostly short gaps between syllables, sometimes a phrase break.
    t += Math.round((rand() < 0.2 ? 0.25 + 0.3 * rand() : 0.04 + 0.12 * rand()) * fs);
  }
  // A resonant noise burst can overshoot: keep the promise that no sample exceeds `level`.
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  if (peak > level) for (let i = 0; i < out.length; i++) out[i]! *= level / peak;
  return out;
}

/** Raised-cosine attack (20 ms) and release (40 ms) of a syllable lasting `length` seconds. */
function envelope(time: number, length: number): number {
  const attack = 0.02;
  const release = 0.04;
  if (time < attack) return 0.5 - 0.5 * Math.cos((Math.PI * time) / attack);
  if (time > length - release)
    return Math.max(0, 0.5 - 0.5 * Math.cos((Math.PI * (length - time)) / release));
  return 1;
}

/** Adds a noise burst through a two-pole resonator at `centre` Hz; returns the sample after it. */
function noiseBurst(
  out: Float32Array,
  start: number,
  length: number,
  centre: number,
  amp: number,
  fs: number,
  rand: () => number,
): number {
  const fc = Math.min(centre, 0.4 * fs);
  const r = 0.9;
  const a1 = 2 * r * Math.cos((2 * Math.PI * fc) / fs);
  const a2 = -r * r;
  let y1 = 0;
  let y2 = 0;
  const end = Math.min(out.length, start + length);
  for (let n = start; n < end; n++) {
    const y = (1 - r) * (2 * rand() - 1) + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    out[n]! += amp * 3 * y * envelope((n - start) / fs, length / fs);
  }
  return end;
}

/** xorshift32 in [0, 1). */
function xorshift(seed: number): () => number {
  let s = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x2545f491) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
