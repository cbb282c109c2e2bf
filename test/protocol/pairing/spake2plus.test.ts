import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../../protocol/bytes.js';
import { pbkdf2Sha256 } from '../../../protocol/crypto.js';
import { SPAKE2PLUS_M_HEX, SPAKE2PLUS_N_HEX } from '../../../protocol/pairing/constants.js';
import {
  computeL,
  computeShareP,
  computeShareV,
  decodePoint,
  deriveScalars,
  GROUP_ORDER,
  M_BYTES,
  N_BYTES,
  pbkdfInput,
  proverFinish,
  randomScalar,
  scalarFromBytes,
  scalarsFromPbkdfOutput,
  scalarToBytes,
  verifierRespond,
} from '../../../protocol/pairing/spake2plus.js';
import { seededRandom } from '../../../protocol/random.js';
import { loadVectors } from '../../vectors/load.js';
import { expectPairingError } from './helpers.js';

const v = loadVectors<Record<string, string>>('spake2plus-rfc9383');
const enc = new TextEncoder();
const parties = {
  context: enc.encode(v.context_utf8),
  idProver: enc.encode(v.idProver_utf8),
  idVerifier: enc.encode(v.idVerifier_utf8),
};
const big = (hex: string | undefined) => BigInt(`0x${hex}`);
const w0 = big(v.w0);
const w1 = big(v.w1);
const x = big(v.x);
const y = big(v.y);

describe('SPAKE2+ RFC 9383 Appendix C vector (P256-SHA256-HKDF-SHA256-HMAC-SHA256)', () => {
  it('uses the RFC M and N points', () => {
    expect(SPAKE2PLUS_M_HEX).toBe(v.M);
    expect(SPAKE2PLUS_N_HEX).toBe(v.N);
    // TT carries M and N uncompressed.
    expect(v.TT).toContain(toHex(M_BYTES));
    expect(v.TT).toContain(toHex(N_BYTES));
  });

  it('computes L = w1·P', () => {
    expect(toHex(computeL(w1))).toBe(v.L);
  });

  it('computes shareP = x·P + w0·M and shareV = y·P + w0·N', () => {
    expect(toHex(computeShareP(w0, x))).toBe(v.shareP);
    expect(toHex(computeShareV(w0, y))).toBe(v.shareV);
  });

  const verifier = verifierRespond({ parties, w0, L: fromHex(v.L!), y, shareP: fromHex(v.shareP!) });
  const prover = proverFinish({ parties, w0, w1, x, shareP: fromHex(v.shareP!), shareV: fromHex(v.shareV!) });
  const expected: [string, keyof typeof prover][] = [
    ['Z', 'Z'],
    ['V', 'V'],
    ['TT', 'TT'],
    ['K_main', 'kMain'],
    ['K_confirmP', 'kConfirmP'],
    ['K_confirmV', 'kConfirmV'],
    ['HMAC(K_confirmP, shareV)', 'confirmP'],
    ['HMAC(K_confirmV, shareP)', 'confirmV'],
    ['K_shared', 'kShared'],
  ];

  it('verifier side reproduces shareV, Z, V, TT and every key bit for bit', () => {
    expect(toHex(verifier.shareV)).toBe(v.shareV);
    for (const [name, field] of expected) expect(toHex(verifier.keys[field]), name).toBe(v[name]);
  });

  it('prover side reproduces Z, V, TT and every key bit for bit', () => {
    for (const [name, field] of expected) expect(toHex(prover[field]), name).toBe(v[name]);
  });
});

describe('SPAKE2+ registration', () => {
  it('builds the PBKDF input as len64le(pw) ‖ pw ‖ len64le(idProver) ‖ idProver ‖ len64le(idVerifier) ‖ idVerifier', () => {
    expect(toHex(pbkdfInput(enc.encode('1234'), enc.encode('ab'), new Uint8Array(0)))).toBe(
      `0400000000000000${toHex(enc.encode('1234'))}0200000000000000${toHex(enc.encode('ab'))}0000000000000000`,
    );
  });

  it('reads bytes 0..39 as w0s and 40..79 as w1s (big-endian) and reduces each mod n', () => {
    const as40 = (n: bigint) => fromHex(n.toString(16).padStart(80, '0'));
    const out = concat(as40(GROUP_ORDER + 5n), as40(3n * GROUP_ORDER + 7n));
    expect(scalarsFromPbkdfOutput(out)).toEqual({ w0: 5n, w1: 7n });
  });

  it('refuses a PBKDF output that is not 80 bytes or that reduces to zero', () => {
    expectPairingError(() => scalarsFromPbkdfOutput(new Uint8Array(64)), 'BAD_PBKDF_OUTPUT');
    const zero = concat(
      fromHex(GROUP_ORDER.toString(16).padStart(80, '0')),
      new Uint8Array(39),
      Uint8Array.of(1),
    );
    expectPairingError(() => scalarsFromPbkdfOutput(zero), 'BAD_SCALAR');
  });

  it('derives w0, w1 with PBKDF2-HMAC-SHA256 over the RFC input, 80 bytes', () => {
    const salt = new Uint8Array(16).fill(1);
    const out = pbkdf2Sha256(
      pbkdfInput(enc.encode('31415926'), enc.encode('P'), enc.encode('V')),
      salt,
      1000,
      80,
    );
    expect(deriveScalars(enc.encode('31415926'), salt, 1000, enc.encode('P'), enc.encode('V'))).toEqual(
      scalarsFromPbkdfOutput(out),
    );
  });

  it('refuses salts outside 16..32 bytes and iterations outside 1000..100000', () => {
    const pw = enc.encode('x');
    const e = new Uint8Array(0);
    expectPairingError(() => deriveScalars(pw, new Uint8Array(15), 1000, e, e), 'BAD_PBKDF_PARAMS');
    expectPairingError(() => deriveScalars(pw, new Uint8Array(33), 1000, e, e), 'BAD_PBKDF_PARAMS');
    expectPairingError(() => deriveScalars(pw, new Uint8Array(16), 999, e, e), 'BAD_PBKDF_PARAMS');
    expectPairingError(() => deriveScalars(pw, new Uint8Array(16), 100_001, e, e), 'BAD_PBKDF_PARAMS');
  });
});

describe('SPAKE2+ scalars and points', () => {
  it('draws scalars by rejection: 0 and values ≥ n are redrawn', () => {
    const draws = [new Uint8Array(32), scalarToBytes(GROUP_ORDER - 1n).map(() => 0xff), scalarToBytes(42n)];
    expect(randomScalar(() => draws.shift()!)).toBe(42n);
  });

  it('encodes scalars as 32 big-endian bytes and refuses 0 and n when reading them back', () => {
    expect(toHex(scalarToBytes(0x0102n))).toBe(`${'00'.repeat(30)}0102`);
    expect(scalarFromBytes(scalarToBytes(GROUP_ORDER - 1n))).toBe(GROUP_ORDER - 1n);
    expectPairingError(() => scalarFromBytes(new Uint8Array(32)), 'BAD_SCALAR');
    expectPairingError(() => scalarFromBytes(fromHex(GROUP_ORDER.toString(16))), 'BAD_SCALAR');
    expectPairingError(() => scalarFromBytes(new Uint8Array(31).fill(1)), 'BAD_SCALAR');
  });

  it('refuses points that are compressed, short, off the curve or all zero', () => {
    const good = fromHex(v.shareP!);
    expect(() => decodePoint(good)).not.toThrow();
    expectPairingError(() => decodePoint(fromHex(v.M!)), 'BAD_POINT'); // compressed form
    expectPairingError(() => decodePoint(good.subarray(0, 64)), 'BAD_POINT');
    const offCurve = good.slice();
    offCurve[64]! ^= 1;
    expectPairingError(() => decodePoint(offCurve), 'BAD_POINT');
    const zero = new Uint8Array(65);
    zero[0] = 4;
    expectPairingError(() => decodePoint(zero), 'BAD_POINT');
  });

  it('the verifier refuses an invalid shareP and one equal to w0·M (it would cancel the mask)', () => {
    const L = fromHex(v.L!);
    const bad = fromHex(v.shareP!);
    bad[10]! ^= 0x40;
    expectPairingError(() => verifierRespond({ parties, w0, L, y, shareP: bad }), 'BAD_POINT');
    const w0M = p256.Point.fromHex(v.M!).multiply(w0).toBytes(false);
    expectPairingError(() => verifierRespond({ parties, w0, L, y, shareP: w0M }), 'BAD_POINT');
  });

  it('the prover refuses an invalid shareV and one equal to w0·N', () => {
    const shareP = fromHex(v.shareP!);
    const w0N = p256.Point.fromHex(v.N!).multiply(w0).toBytes(false);
    expectPairingError(() => proverFinish({ parties, w0, w1, x, shareP, shareV: w0N }), 'BAD_POINT');
    expectPairingError(
      () => proverFinish({ parties, w0, w1, x, shareP, shareV: fromHex(v.shareP!).fill(7, 1) }),
      'BAD_POINT',
    );
  });
});

describe('SPAKE2+ between two parties', () => {
  it('agrees on K_shared with the right password and on nothing with a wrong one', () => {
    const r = seededRandom('spake2+ runs');
    const salt = new Uint8Array(16);
    const e = new Uint8Array(0);
    const right = deriveScalars(enc.encode('31415926'), salt, 1000, e, e);
    const wrong = deriveScalars(enc.encode('31415927'), salt, 1000, e, e);
    const L = computeL(right.w1);
    for (const guess of [right, wrong]) {
      const xs = randomScalar(r);
      const shareP = computeShareP(guess.w0, xs);
      const v1 = verifierRespond({ parties, w0: right.w0, L, y: randomScalar(r), shareP });
      const p1 = proverFinish({ parties, ...guess, x: xs, shareP, shareV: v1.shareV });
      const same = guess === right;
      expect(toHex(p1.kShared) === toHex(v1.keys.kShared)).toBe(same);
      expect(toHex(p1.confirmV) === toHex(v1.keys.confirmV)).toBe(same);
      expect(toHex(p1.confirmP) === toHex(v1.keys.confirmP)).toBe(same);
    }
  });

  it('binds the context: a different context gives different keys', () => {
    const shareP = fromHex(v.shareP!);
    const other = { ...parties, context: enc.encode('another context') };
    const a = verifierRespond({ parties, w0, L: fromHex(v.L!), y, shareP });
    const b = verifierRespond({ parties: other, w0, L: fromHex(v.L!), y, shareP });
    expect(toHex(a.keys.kShared)).not.toBe(toHex(b.keys.kShared));
  });
});
