import { describe, expect, it } from 'vitest';
import {
  FORBIDDEN_SETUP_CODES,
  generateDiscriminator,
  generateSetupCode,
  isForbiddenSetupCode,
  parseSetupCode,
} from '../../../protocol/pairing/index.js';
import { type RandomSource, seededRandom } from '../../../protocol/random.js';
import { expectPairingError } from './helpers.js';

/** A RandomSource that replays the given byte arrays, one per call. */
function scripted(...draws: number[][]): RandomSource {
  return (n) => {
    const next = draws.shift();
    if (!next || next.length !== n) throw new Error(`unexpected draw of ${n} bytes`);
    return Uint8Array.from(next);
  };
}
const u32be = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

describe('generateSetupCode', () => {
  it('returns 8 digits, reducing a big-endian u32 mod 10^8 with leading zeros kept', () => {
    expect(generateSetupCode(scripted(u32be(4_100_000_042)))).toBe('00000042');
    expect(generateSetupCode(scripted(u32be(31_415_926)))).toBe('31415926');
  });

  it('rejects draws at or above 42·10^8 so every code is equally likely', () => {
    // 4_200_000_000 would map to 00000000 (forbidden anyway); 4_294_967_295 would map to 94967295
    // and make codes below 94967296 more likely if it were kept.
    expect(generateSetupCode(scripted(u32be(4_294_967_295), u32be(4_200_000_001), u32be(55_555_556)))).toBe(
      '55555556',
    );
    // The largest kept draw, just below the limit.
    expect(generateSetupCode(scripted(u32be(4_199_999_998)))).toBe('99999998');
  });

  it('never returns a forbidden code: it draws again', () => {
    expect(
      generateSetupCode(scripted(u32be(12_345_678), u32be(87_654_321), u32be(11_111_111), u32be(1))),
    ).toBe('00000001');
  });

  it('is deterministic for a seeded source and spreads over the whole range', () => {
    const r = seededRandom('setup codes');
    const codes = Array.from({ length: 2000 }, () => generateSetupCode(r));
    for (const c of codes) {
      expect(c).toMatch(/^\d{8}$/);
      expect(isForbiddenSetupCode(c)).toBe(false);
    }
    // Leading digit roughly uniform: 2000 draws, each digit expected 200 times.
    const counts = new Array(10).fill(0);
    for (const c of codes) counts[Number(c[0])]++;
    for (const n of counts) expect(n).toBeGreaterThan(140);
    expect(generateSetupCode(seededRandom('same'))).toBe(generateSetupCode(seededRandom('same')));
  });
});

describe('parseSetupCode', () => {
  it('accepts 8 digits and returns them', () => {
    expect(parseSetupCode('31415926')).toBe('31415926');
  });

  it('removes spaces and hyphens typed between digits', () => {
    expect(parseSetupCode('3141-5926')).toBe('31415926');
    expect(parseSetupCode(' 314 159 26 ')).toBe('31415926');
    expect(parseSetupCode('31-41-59-26')).toBe('31415926');
  });

  it('refuses anything else with BAD_SETUP_CODE', () => {
    for (const bad of [
      '',
      '3141592',
      '314159265',
      '3141592a',
      '3141.5926',
      '3141_5926',
      '+31415926',
      '３１４１５９２６', // full-width digits
      '٣١٤١٥٩٢٦', // Arabic-Indic digits
      '31415926\n',
      '3141\t5926',
      `${'-'.repeat(30)}31415926`,
    ]) {
      expectPairingError(() => parseSetupCode(bad), 'BAD_SETUP_CODE');
    }
  });

  it('refuses every forbidden code, also when typed with separators', () => {
    expect(FORBIDDEN_SETUP_CODES).toHaveLength(12);
    for (const code of FORBIDDEN_SETUP_CODES) {
      expectPairingError(() => parseSetupCode(code), 'FORBIDDEN_SETUP_CODE');
    }
    expectPairingError(() => parseSetupCode('1234-5678'), 'FORBIDDEN_SETUP_CODE');
    expectPairingError(() => parseSetupCode('8765 4321'), 'FORBIDDEN_SETUP_CODE');
    expectPairingError(() => parseSetupCode('0000-0000'), 'FORBIDDEN_SETUP_CODE');
  });
});

describe('generateDiscriminator', () => {
  it('keeps the low 12 bits of a big-endian u16', () => {
    expect(generateDiscriminator(scripted([0xff, 0xff]))).toBe(4095);
    expect(generateDiscriminator(scripted([0xf0, 0x00]))).toBe(0);
    expect(generateDiscriminator(scripted([0x1a, 0xbc]))).toBe(0xabc);
  });

  it('stays within 0..4095', () => {
    const r = seededRandom('discriminators');
    for (let i = 0; i < 1000; i++) {
      const d = generateDiscriminator(r);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4095);
    }
  });
});
