import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../../../protocol/bytes.js';
import { sha256 } from '../../../protocol/crypto.js';
import {
  checkToyPairingState,
  createToyPairingState,
  decodeToyPairingState,
  deriveSetupScalars,
  encodeToyPairingState,
  factoryResetState,
  makeVerifier,
  provisionToy,
  type ToyPairingState,
} from '../../../protocol/pairing/index.js';
import { computeL, scalarToBytes } from '../../../protocol/pairing/spake2plus.js';
import { seededRandom } from '../../../protocol/random.js';
import { CODE, expectPairingError, initialState, VERIFIER } from './helpers.js';

const le16 = (n: number) => Uint8Array.of(n & 0xff, n >> 8);
const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);

function paired(): ToyPairingState {
  return initialState('state test', {
    lifetimeFailures: 7,
    tagKey: new Uint8Array(16).fill(0x7a),
    pairings: [
      {
        phoneId: new Uint8Array(16).fill(1),
        phoneStaticPublicKey: new Uint8Array(32).fill(2),
        role: 'admin',
        name: 'Mum',
      },
      {
        phoneId: new Uint8Array(16).fill(3),
        phoneStaticPublicKey: new Uint8Array(32).fill(4),
        role: 'member',
        name: '',
      },
    ],
  });
}

/** Re-seals a tampered body with a correct checksum, to reach the field checks. */
function reseal(bytes: Uint8Array): Uint8Array {
  const body = bytes.subarray(0, bytes.length - 4);
  return concat(body, sha256(body).subarray(0, 4));
}

describe('verifier', () => {
  it('stores w0 and L = w1·P from the setup code, never the code', () => {
    const salt = new Uint8Array(16).fill(0x5a);
    const { w0, w1 } = deriveSetupScalars(CODE, salt, 1000);
    expect(toHex(VERIFIER.w0)).toBe(toHex(scalarToBytes(w0)));
    expect(toHex(VERIFIER.L)).toBe(toHex(computeL(w1)));
    expect(toHex(encodeToyPairingState(initialState()))).not.toContain(toHex(new TextEncoder().encode(CODE)));
  });

  it('normalises the code and refuses forbidden codes and bad PBKDF parameters', () => {
    const salt = new Uint8Array(16).fill(0x5a);
    expect(makeVerifier('3141-5926', salt, 1000)).toEqual(VERIFIER);
    expectPairingError(() => makeVerifier('12345678', salt, 1000), 'FORBIDDEN_SETUP_CODE');
    expectPairingError(() => makeVerifier(CODE, new Uint8Array(8), 1000), 'BAD_PBKDF_PARAMS');
    expectPairingError(() => makeVerifier(CODE, salt, 10), 'BAD_PBKDF_PARAMS');
  });

  it('provisions a random code, discriminator and verifier, deterministically for a seed', () => {
    const a = provisionToy(seededRandom('line 1'), { iterations: 1000 });
    const b = provisionToy(seededRandom('line 1'), { iterations: 1000 });
    const c = provisionToy(seededRandom('line 2'), { iterations: 1000 });
    expect(a).toEqual(b);
    expect(a.setupCode).not.toBe(c.setupCode);
    expect(a.verifier.salt).toHaveLength(32);
    expect(a.verifier).toEqual(makeVerifier(a.setupCode, a.verifier.salt, 1000));
  });
});

describe('persisted state encoding', () => {
  it('has the documented layout', () => {
    const s = paired();
    const body = concat(
      new TextEncoder().encode('PLPS'),
      Uint8Array.of(1),
      le16(s.discriminator),
      le32(s.verifier.iterations),
      Uint8Array.of(s.verifier.salt.length),
      s.verifier.salt,
      s.verifier.w0,
      s.verifier.L,
      s.toyId,
      s.toyStaticPublicKey,
      Uint8Array.of(7, 2),
      s.tagKey!,
      new Uint8Array(16).fill(1),
      new Uint8Array(32).fill(2),
      Uint8Array.of(1, 3),
      new TextEncoder().encode('Mum'),
      new Uint8Array(16).fill(3),
      new Uint8Array(32).fill(4),
      Uint8Array.of(2, 0),
    );
    expect(toHex(encodeToyPairingState(s))).toBe(toHex(concat(body, sha256(body).subarray(0, 4))));
  });

  it('round-trips an empty and a populated state', () => {
    for (const s of [initialState(), paired()]) {
      expect(decodeToyPairingState(encodeToyPairingState(s))).toEqual(s);
    }
  });

  it('reports any damage as CORRUPT_STATE', () => {
    const good = encodeToyPairingState(paired());
    expectPairingError(() => decodeToyPairingState(good.subarray(0, 8)), 'CORRUPT_STATE');
    expectPairingError(() => decodeToyPairingState(good.subarray(0, good.length - 1)), 'CORRUPT_STATE');
    for (const i of [0, 5, 20, 100, good.length - 1]) {
      const bad = good.slice();
      bad[i]! ^= 0x10;
      expectPairingError(() => decodeToyPairingState(bad), 'CORRUPT_STATE');
    }
  });

  it('reports a newer format as UNSUPPORTED_STATE_VERSION', () => {
    const bad = encodeToyPairingState(paired());
    bad[4] = 2;
    expectPairingError(() => decodeToyPairingState(reseal(bad)), 'UNSUPPORTED_STATE_VERSION');
  });

  it('checks every field even when the checksum matches', () => {
    const good = encodeToyPairingState(paired());
    const saltLen = 16;
    const failuresAt = 12 + saltLen + 32 + 65 + 16 + 32;
    const countAt = failuresAt + 1;
    const firstRoleAt = countAt + 1 + 16 + 16 + 32;
    const edits: [string, number, number][] = [
      ['discriminator above 4095', 6, 0x10],
      ['iterations below 1000', 7, 0x00],
      ['w0 zero', 12 + saltLen, 0x00],
      ['L off the curve', 12 + saltLen + 32 + 40, 0x00],
      ['101 lifetime failures', failuresAt, 101],
      ['17 pairings', countAt, 17],
      ['unknown role', firstRoleAt, 3],
      ['no admin left', firstRoleAt, 2],
    ];
    for (const [what, at, value] of edits) {
      const bad = good.slice();
      if (what === 'iterations below 1000') bad.set([0xe7, 0x03, 0, 0], 7);
      else if (what === 'w0 zero') bad.fill(0, at, at + 32);
      else bad[at] = value;
      let code = '';
      try {
        decodeToyPairingState(reseal(bad));
      } catch (e) {
        code = (e as { code: string }).code;
      }
      expect(code, what).toBe('CORRUPT_STATE');
    }
  });

  it('keeps a tag key exactly when paired', () => {
    expectPairingError(
      () => checkToyPairingState({ ...initialState(), tagKey: new Uint8Array(16) }),
      'BAD_STATE',
    );
    const { tagKey: _, ...noTag } = paired();
    expectPairingError(() => checkToyPairingState(noTag), 'BAD_STATE');
  });

  it('refuses duplicate phones', () => {
    const s = paired();
    expectPairingError(
      () =>
        checkToyPairingState({
          ...s,
          pairings: [s.pairings[0]!, { ...s.pairings[1]!, phoneId: s.pairings[0]!.phoneId }],
        }),
      'BAD_STATE',
    );
  });
});

describe('fresh state and factory reset', () => {
  it('starts with no pairings, no tag key, no failures and a random toy id', () => {
    const r = seededRandom('fresh');
    const s = createToyPairingState(
      { discriminator: 42, verifier: VERIFIER, toyStaticPublicKey: new Uint8Array(32) },
      r,
    );
    expect(s.pairings).toEqual([]);
    expect(s.tagKey).toBeUndefined();
    expect(s.lifetimeFailures).toBe(0);
    expect(s.toyId).toHaveLength(16);
  });

  it('keeps only the verifier and discriminator across a factory reset', () => {
    const before = paired();
    const after = factoryResetState(before, new Uint8Array(32).fill(0xee), seededRandom('reset'));
    expect(after.verifier).toEqual(before.verifier);
    expect(after.discriminator).toBe(before.discriminator);
    expect(toHex(after.toyId)).not.toBe(toHex(before.toyId));
    expect(toHex(after.toyStaticPublicKey)).toBe('ee'.repeat(32));
    expect(after.pairings).toEqual([]);
    expect(after.tagKey).toBeUndefined();
    expect(after.lifetimeFailures).toBe(0);
  });
});
