import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { aeadOpen, aeadSeal, hkdfSha256, x25519, x25519PublicKey } from '../../protocol/crypto.js';

describe('X25519 (RFC 7748 section 6.1)', () => {
  const alicePriv = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPub = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');

  it('derives the published public key and shared secret', () => {
    expect(toHex(x25519PublicKey(alicePriv))).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(x25519(alicePriv, bobPub)!)).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('refuses a low-order peer key (all-zero shared secret) with null', () => {
    expect(x25519(alicePriv, new Uint8Array(32))).toBeNull();
  });
});

describe('HKDF-SHA256 (RFC 5869 appendix A.1)', () => {
  it('reproduces test case 1', () => {
    const okm = hkdfSha256(
      fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });
});

describe('ChaCha20-Poly1305', () => {
  const key = new Uint8Array(32).fill(7);
  const nonce = new Uint8Array(12).fill(1);
  const ad = Uint8Array.of(1, 2, 3);

  it('opens what it sealed and rejects any flipped bit with null', () => {
    const sealed = aeadSeal(key, nonce, Uint8Array.of(9, 8, 7, 6), ad);
    expect(aeadOpen(key, nonce, sealed, ad)).toEqual(Uint8Array.of(9, 8, 7, 6));
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = sealed.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(aeadOpen(key, nonce, bad, ad)).toBeNull();
    }
    expect(aeadOpen(key, nonce, sealed, Uint8Array.of(1, 2))).toBeNull();
    expect(aeadOpen(key, nonce, sealed.subarray(0, 15), ad)).toBeNull();
  });
});
