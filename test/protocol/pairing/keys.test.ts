import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../../../protocol/bytes.js';
import { hkdfSha256, sha256 } from '../../../protocol/crypto.js';
import {
  CONTEXT_LABEL,
  ID_PROVER,
  ID_VERIFIER,
  INFO_IDENTITY_KEYS,
} from '../../../protocol/pairing/constants.js';
import {
  deriveIdentityKeys,
  openPhoneIdentity,
  openToyIdentity,
  pairingContext,
  pairingParties,
  sealPhoneIdentity,
  sealToyIdentity,
} from '../../../protocol/pairing/keys.js';
import { expectPairingError } from './helpers.js';

const enc = new TextEncoder();

describe('pairing context and identities', () => {
  it('Context = SHA-256(label ‖ PbkdfParamRequest body ‖ PbkdfParamResponse body)', () => {
    const req = Uint8Array.of(0x20, 1, 2);
    const resp = Uint8Array.of(0x21, 3);
    expect(toHex(pairingContext(req, resp))).toBe(
      toHex(sha256(concat(enc.encode(CONTEXT_LABEL), req, resp))),
    );
    expect(toHex(pairingContext(req, Uint8Array.of(0x21, 4)))).not.toBe(toHex(pairingContext(req, resp)));
  });

  it('uses the fixed role labels as idProver and idVerifier', () => {
    const p = pairingParties(new Uint8Array(32));
    expect(new TextDecoder().decode(p.idProver)).toBe(ID_PROVER);
    expect(new TextDecoder().decode(p.idVerifier)).toBe(ID_VERIFIER);
  });
});

describe('identity exchange keys', () => {
  const kShared = new Uint8Array(32).fill(9);
  const keys = deriveIdentityKeys(kShared);
  const phone = {
    phoneId: new Uint8Array(16).fill(1),
    phoneStaticPublicKey: new Uint8Array(32).fill(2),
    name: 'Dad',
  };
  const toy = {
    toyId: new Uint8Array(16).fill(3),
    toyStaticPublicKey: new Uint8Array(32).fill(4),
    tagKey: new Uint8Array(16).fill(5),
    role: 'admin' as const,
  };

  it('derives phoneToToy ‖ toyToPhone = HKDF-SHA256(K_shared, no salt, info, 64)', () => {
    const okm = hkdfSha256(kShared, new Uint8Array(0), enc.encode(INFO_IDENTITY_KEYS), 64);
    expect(toHex(keys.phoneToToy)).toBe(toHex(okm.subarray(0, 32)));
    expect(toHex(keys.toyToPhone)).toBe(toHex(okm.subarray(32)));
  });

  it('seals each direction under its own key: one cannot be opened as the other', () => {
    const sealedPhone = sealPhoneIdentity(keys, phone);
    expect(openPhoneIdentity(keys, sealedPhone)).toEqual(phone);
    const swapped = { phoneToToy: keys.toyToPhone, toyToPhone: keys.phoneToToy };
    expectPairingError(() => openPhoneIdentity(swapped, sealedPhone), 'DECRYPT_FAILED');
    const sealedToy = sealToyIdentity(keys, toy);
    expect(openToyIdentity(keys, sealedToy)).toEqual(toy);
    expectPairingError(() => openToyIdentity(swapped, sealedToy), 'DECRYPT_FAILED');
  });

  it('refuses any flipped bit and any other K_shared', () => {
    const sealed = sealPhoneIdentity(keys, phone);
    for (let bit = 0; bit < sealed.length * 8; bit += 7) {
      const bad = sealed.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expectPairingError(() => openPhoneIdentity(keys, bad), 'DECRYPT_FAILED');
    }
    expectPairingError(
      () => openPhoneIdentity(deriveIdentityKeys(new Uint8Array(32)), sealed),
      'DECRYPT_FAILED',
    );
  });
});
