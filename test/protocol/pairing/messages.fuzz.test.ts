import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { PairingError } from '../../../protocol/errors.js';
import {
  decodePairingMessage,
  decodePhoneIdentityPayload,
  decodeToyIdentityPayload,
  encodePairingMessage,
  encodePhoneIdentityPayload,
  encodeToyIdentityPayload,
} from '../../../protocol/pairing/index.js';
import { fuzzParams } from '../../fuzz/config.js';
import { loadVectors } from '../../vectors/load.js';

const vector = loadVectors<{ messages: Record<string, string> }>('pairing');
const valid = Object.values(vector.messages).map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
valid.push(Uint8Array.of(0x40, 0x02));

/** Valid message bodies with a few bytes flipped, inserted, removed or truncated. */
const mutated = fc
  .tuple(
    fc.constantFrom(...valid),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([base, edits]) => {
    let b = Array.from(base);
    for (const [pos, val, op] of edits) {
      const i = b.length === 0 ? 0 : pos % b.length;
      if (op === 0) b[i] = val;
      else if (op === 1) b.splice(i, 0, val);
      else if (op === 2) b.splice(i, 1);
      else b = b.slice(0, i);
    }
    return Uint8Array.from(b);
  });

/** Random bodies that start with a known type byte, so the per-type parsers get exercised. */
const typed = fc
  .tuple(fc.constantFrom(0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x40), fc.uint8Array({ maxLength: 120 }))
  .map(([t, rest]) => Uint8Array.of(t, ...rest));

function decodesOrThrowsPairingError(
  decode: (b: Uint8Array) => unknown,
  reencode?: (m: never) => Uint8Array,
) {
  return (b: Uint8Array) => {
    const copy = b.slice();
    try {
      const m = decode(b);
      // Canonical: whatever decodes re-encodes to the same bytes.
      if (reencode) expect(toHex(reencode(m as never))).toBe(toHex(b));
    } catch (e) {
      expect(e).toBeInstanceOf(PairingError);
    }
    expect(toHex(b)).toBe(toHex(copy)); // the input is never modified
  };
}

describe('pairing message decoder fuzz', () => {
  it('random bytes: a message that re-encodes identically, or a PairingError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 140 }),
        decodesOrThrowsPairingError(decodePairingMessage, encodePairingMessage),
      ),
      fuzzParams(),
    );
  });

  it('bodies with a valid type byte and random contents: the same', () => {
    fc.assert(
      fc.property(typed, decodesOrThrowsPairingError(decodePairingMessage, encodePairingMessage)),
      fuzzParams(),
    );
  });

  it('mutated valid messages: the same', () => {
    fc.assert(
      fc.property(mutated, decodesOrThrowsPairingError(decodePairingMessage, encodePairingMessage)),
      fuzzParams(),
    );
  });
});

describe('identity payload decoder fuzz', () => {
  it('PhoneIdentity plaintext: decodes canonically or throws a PairingError', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 100 }),
      fc
        .tuple(
          fc.uint8Array({ minLength: 48, maxLength: 48 }),
          fc.integer({ min: 0, max: 40 }),
          fc.uint8Array({ maxLength: 40 }),
        )
        .map(([head, n, name]) => Uint8Array.of(...head, n, ...name)),
    );
    fc.assert(
      fc.property(input, decodesOrThrowsPairingError(decodePhoneIdentityPayload, encodePhoneIdentityPayload)),
      fuzzParams(),
    );
  });

  it('ToyIdentity plaintext: decodes canonically or throws a PairingError', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ minLength: 65, maxLength: 65 }),
    );
    fc.assert(
      fc.property(input, decodesOrThrowsPairingError(decodeToyIdentityPayload, encodeToyIdentityPayload)),
      fuzzParams(),
    );
  });
});
