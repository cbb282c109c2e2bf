/**
 * Similarity of two signals for tests and checks: the best normalised cross-correlation over a
 * window of lags. 1 means one signal is a positive multiple of the other at that lag, 0 unrelated.
 *
 * For each lag L in [-maxLag, maxLag], a[i] is compared with b[i + L] over the samples where both
 * exist: r(L) = sum a[i] b[i+L] / sqrt(sum a[i]^2 x sum b[i+L]^2), sums over that overlap. The
 * window absorbs a codec's delay (with the right pre-skip PawLink's delay is 0); a window of a few
 * tens of ms cannot line up different parts of speech, so unrelated audio (or the same speech 1 s
 * apart) scores near 0 (audio.md measured 0.01).
 */

export interface CorrelationResult {
  /** Best r(L) found, in [0, 1] (an inverted signal, or silence, scores 0). */
  correlation: number;
  /** The lag L where it was found: b is delayed by L samples relative to a. */
  lag: number;
}

export interface CorrelateOptions {
  /** Largest lag tried, in samples, each way (default 480 = 30 ms at 16 kHz). */
  maxLag?: number;
}

/** Best normalised cross-correlation of `a` and `b` over lags -maxLag..maxLag. O(n x lags). */
export function correlate(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: CorrelateOptions = {},
): CorrelationResult {
  const maxLag = Math.max(0, Math.floor(options.maxLag ?? 480));
  // Prefix sums of squares give each overlap's energy in O(1).
  const ea = prefixSquares(a);
  const eb = prefixSquares(b);
  let best: CorrelationResult = { correlation: 0, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const start = Math.max(0, -lag);
    const end = Math.min(a.length, b.length - lag);
    if (end - start <= 0) continue;
    let dot = 0;
    for (let i = start; i < end; i++) dot += a[i]! * b[i + lag]!;
    const energy = (ea[end]! - ea[start]!) * (eb[end + lag]! - eb[start + lag]!);
    if (energy <= 0) continue;
    const r = dot / Math.sqrt(energy);
    if (r > best.correlation) best = { correlation: r, lag };
  }
  return best;
}

function prefixSquares(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) out[i + 1] = out[i]! + x[i]! * x[i]!;
  return out;
}
