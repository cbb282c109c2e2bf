import { describe, expect, it } from 'vitest';
import { resample, resampledLength } from '../../audio/resample.js';

function sine(hz: number, rate: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * hz * i) / rate);
  return x;
}

/** RMS error against an ideal sine at 16 kHz, over the middle half (away from the edges). */
function errorDb(y: Float32Array, hz: number, amplitude: number): number {
  let err = 0;
  let sig = 0;
  for (let m = Math.floor(y.length / 4); m < Math.floor((3 * y.length) / 4); m++) {
    const ideal = amplitude * Math.sin((2 * Math.PI * hz * m) / 16000);
    err += (y[m]! - ideal) ** 2;
    sig += 0.5;
  }
  return 10 * Math.log10(err / sig);
}

describe('resample', () => {
  it.each([8000, 11025, 22050, 44100, 48000])(
    'converts a 1 kHz tone from %i Hz to 16 kHz within -60 dB',
    (rate) => {
      const x = sine(1000, rate, 0.5);
      const y = resample(x, rate, 16000);
      expect(y.length).toBe(Math.round((x.length * 16000) / rate));
      expect(errorDb(y, 1000, 1)).toBeLessThan(-60);
    },
  );

  it('keeps the pass band up to 6 kHz within 0.5 dB', () => {
    const y = resample(sine(6000, 44100, 0.5), 44100, 16000);
    expect(errorDb(y, 6000, 1)).toBeLessThan(-20); // same phase, nearly same amplitude
    let peak = 0;
    for (let m = 2000; m < 6000; m++) peak = Math.max(peak, Math.abs(y[m]!));
    expect(20 * Math.log10(peak)).toBeGreaterThan(-0.5);
  });

  it('removes what 16 kHz cannot carry: a 12 kHz tone at 48 kHz comes out below -60 dB (no aliasing to 4 kHz)', () => {
    const y = resample(sine(12000, 48000, 0.5), 48000, 16000);
    let energy = 0;
    for (let m = 2000; m < 6000; m++) energy += y[m]! ** 2;
    expect(10 * Math.log10(energy / 4000 / 0.5)).toBeLessThan(-60);
  });

  it('returns a copy for equal rates and scales lengths by the rate ratio', () => {
    const x = Float32Array.of(0.1, -0.2, 0.3);
    const y = resample(x, 16000, 16000);
    expect(Array.from(y)).toEqual(Array.from(x));
    expect(y).not.toBe(x);
    expect(resampledLength(44100, 44100, 16000)).toBe(16000);
    expect(resampledLength(1, 48000, 16000)).toBe(0);
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
  });

  it('refuses a rate that is not an integer in 1000..384000 Hz', () => {
    expect(() => resample(new Float32Array(4), 999, 16000)).toThrow(
      expect.objectContaining({ code: 'BAD_SAMPLE_RATE' }),
    );
    expect(() => resample(new Float32Array(4), 16000, 22050.5)).toThrow(
      expect.objectContaining({ code: 'BAD_SAMPLE_RATE' }),
    );
  });
});
