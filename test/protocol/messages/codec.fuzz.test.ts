/**
 * Fuzzing the application-message codec: random bytes, mutated valid encodings and arbitrary
 * JavaScript values given to the encoder. The codec may only ever throw MessageError (the exact
 * class), never changes its input, and is canonical: whatever decodes re-encodes to the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../protocol/bytes.js';
import { MessageError } from '../../../protocol/errors.js';
import {
  type AppMessage,
  type Direction,
  decodeAppMessage,
  encodeAppMessage,
  MESSAGE_TABLE,
} from '../../../protocol/messages/index.js';
import { fuzzParams } from '../../fuzz/config.js';
import { anyMessage } from './arbitraries.js';

const CODES = Object.values(MESSAGE_TABLE).map((s) => s.code);
const direction = fc.constantFrom<Direction | undefined>(undefined, 'toToy', 'toPhone');

function isExactMessageError(e: unknown): boolean {
  return e instanceof MessageError && e.constructor === MessageError && /^[A-Z][A-Z0-9_]*$/.test(e.code);
}

/** Decodes; on success checks direction, the microphone rule and canonical re-encoding; on failure the error class. */
function checkDecode(bytes: Uint8Array, dir: Direction | undefined): void {
  const before = bytes.slice();
  try {
    const m = decodeAppMessage(bytes, dir);
    const spec = MESSAGE_TABLE[m.type];
    if (dir !== undefined) expect(spec.direction).toBe(dir);
    expect(spec.drives).not.toContain('microphone');
    expect(bytesEqual(encodeAppMessage(m), bytes)).toBe(true);
  } catch (e) {
    if (!isExactMessageError(e)) throw e;
  }
  expect(bytesEqual(bytes, before)).toBe(true);
}

/** One mutation of a valid encoding: flip a bit, set a byte, truncate, extend, insert or delete. */
const mutated: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    anyMessage,
    fc.nat(),
    fc.integer({ min: 0, max: 0xff }),
    fc.uint8Array({ minLength: 1, maxLength: 8 }),
  )
  .chain(([m, at, value, extra]) => {
    const b = encodeAppMessage(m);
    const i = at % b.length;
    return fc.constantFrom(
      (() => {
        const c = b.slice();
        c[i] = c[i]! ^ (1 << (value & 7));
        return c;
      })(),
      (() => {
        const c = b.slice();
        c[i] = value;
        return c;
      })(),
      b.slice(0, i),
      Uint8Array.from([...b, ...extra]),
      Uint8Array.from([...b.subarray(0, i), ...extra, ...b.subarray(i)]),
      Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]),
    );
  });

describe('application message decoder fuzz', () => {
  it('random bytes (any first byte, or an assigned type byte) throw only MessageError', () => {
    const first = fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.constantFrom(...CODES));
    fc.assert(
      fc.property(first, fc.uint8Array({ maxLength: 200 }), direction, (b, rest, dir) => {
        checkDecode(Uint8Array.of(b, ...rest), dir);
      }),
      fuzzParams(),
    );
  });

  it('mutated valid encodings throw only MessageError, or decode canonically', () => {
    fc.assert(
      fc.property(mutated, direction, (bytes, dir) => {
        checkDecode(bytes, dir);
      }),
      fuzzParams(),
    );
  });
});

describe('application message encoder fuzz', () => {
  it('arbitrary JavaScript values throw only MessageError', () => {
    const typeName = fc.constantFrom(...Object.keys(MESSAGE_TABLE));
    const value = fc.oneof(
      fc.anything(),
      fc.record({ type: typeName, requestId: fc.anything() }),
      fc
        .dictionary(fc.string(), fc.anything())
        .chain((d) => typeName.map((type) => ({ ...d, type, requestId: 1 }))),
    );
    fc.assert(
      fc.property(value, direction, (v, dir) => {
        try {
          const bytes = encodeAppMessage(v as AppMessage, dir);
          expect(decodeAppMessage(bytes, dir).type).toBe((v as AppMessage).type);
        } catch (e) {
          if (!isExactMessageError(e)) throw e;
        }
      }),
      fuzzParams(),
    );
  });

  it('valid messages with one field replaced by an arbitrary value throw only MessageError, or still round-trip', () => {
    const broken = fc.tuple(anyMessage, fc.nat(), fc.anything()).map(([m, i, v]) => {
      const keys = Object.keys(m).filter((k) => k !== 'type');
      return { ...m, [keys[i % keys.length]!]: v } as AppMessage;
    });
    fc.assert(
      fc.property(broken, (m) => {
        try {
          const bytes = encodeAppMessage(m);
          expect(bytesEqual(encodeAppMessage(decodeAppMessage(bytes)), bytes)).toBe(true);
        } catch (e) {
          if (!isExactMessageError(e)) throw e;
        }
      }),
      fuzzParams(),
    );
  });
});
