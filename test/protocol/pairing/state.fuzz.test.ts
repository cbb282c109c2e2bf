import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../../../protocol/bytes.js';
import { sha256 } from '../../../protocol/crypto.js';
import { PairingError } from '../../../protocol/errors.js';
import { decodeToyPairingState, encodeToyPairingState } from '../../../protocol/pairing/index.js';
import { fuzzParams } from '../../fuzz/config.js';
import { initialState } from './helpers.js';

const base = initialState('state fuzz', {
  tagKey: new Uint8Array(16).fill(9),
  pairings: [
    {
      phoneId: new Uint8Array(16).fill(1),
      phoneStaticPublicKey: new Uint8Array(32).fill(2),
      role: 'admin',
      name: 'Anna',
    },
    {
      phoneId: new Uint8Array(16).fill(3),
      phoneStaticPublicKey: new Uint8Array(32).fill(4),
      role: 'member',
      name: 'Ben',
    },
  ],
});
const valid = [encodeToyPairingState(base), encodeToyPairingState(initialState('state fuzz 2'))];

const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), {
  minLength: 1,
  maxLength: 4,
});
function mutate(b0: Uint8Array, list: [number, number, number][]): Uint8Array {
  let b = Array.from(b0);
  for (const [pos, val, op] of list) {
    const i = b.length === 0 ? 0 : pos % b.length;
    if (op === 0) b[i] = val;
    else if (op === 1) b.splice(i, 0, val);
    else if (op === 2) b.splice(i, 1);
    else b = b.slice(0, i);
  }
  return Uint8Array.from(b);
}
/** Mutations with a recomputed checksum: they get past the checksum into the field parser. */
const resealed = fc.tuple(fc.constantFrom(...valid), edits).map(([b, e]) => {
  const m = mutate(b, e);
  if (m.length < 4) return m;
  const body = m.subarray(0, m.length - 4);
  return concat(body, sha256(body).subarray(0, 4));
});

function property(b: Uint8Array) {
  try {
    const s = decodeToyPairingState(b);
    expect(toHex(encodeToyPairingState(s))).toBe(toHex(b));
  } catch (e) {
    expect(e).toBeInstanceOf(PairingError);
    expect(['CORRUPT_STATE', 'UNSUPPORTED_STATE_VERSION']).toContain((e as PairingError).code);
  }
}

describe('persisted pairing state decoder fuzz', () => {
  it('random bytes: CORRUPT_STATE (or a canonical state), never another error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), property), fuzzParams());
  });

  it('mutated valid states: the same', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.constantFrom(...valid), edits).map(([b, e]) => mutate(b, e)),
        property,
      ),
      fuzzParams(),
    );
  });

  it('mutated valid states with a recomputed checksum: the same', () => {
    fc.assert(fc.property(resealed, property), fuzzParams());
  });
});
