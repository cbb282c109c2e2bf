import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FramingError } from '../../../protocol/errors.js';
import {
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
} from '../../../protocol/framing/codec.js';
import { fuzzParams } from '../../fuzz/config.js';
import { must, packetArb, u8, u16 } from './arbitraries.js';

/** A valid encoding, then damaged: bytes overwritten, bits flipped, cut short or extended. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), u8), { maxLength: 3 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: 3 }),
    )
    .map(([bytes, edits, cut, extra]) => {
      const out = Uint8Array.from(bytes);
      for (const [at, x] of edits) if (out.length > 0) out[at % out.length] = out[at % out.length]! ^ x;
      const kept = cut === undefined ? out : out.subarray(0, cut % (out.length + 1));
      return Uint8Array.from([...kept, ...extra]);
    });
}

const anyBytes = fc.uint8Array({ maxLength: 40 });

const requests = fc
  .record({
    versions: fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 8 }),
    attMtu: u16,
    window: u8,
  })
  .map(encodeHandshakeRequest);
const responses = fc
  .record({ version: fc.integer({ min: 0, max: 15 }), segmentSize: u16, window: u8 })
  .map(encodeHandshakeResponse);
const packets = packetArb.map(encodePacket);

function onlyFramingErrors(decode: (b: Uint8Array) => unknown) {
  return (bytes: Uint8Array) => {
    const copy = Uint8Array.from(bytes);
    try {
      decode(bytes);
    } catch (e) {
      must((e as Error).constructor === FramingError, `threw ${String(e)}, not a FramingError`);
      must(/^[A-Z_]+$/.test((e as FramingError).code), 'error code is not UPPER_SNAKE');
    }
    must(Buffer.compare(bytes, copy) === 0, 'the decoder modified its input');
  };
}

describe('framing decoders under fuzzing throw only FramingError', () => {
  it('decodeHandshakeRequest: random and mutated requests', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(requests)), onlyFramingErrors(decodeHandshakeRequest)),
      fuzzParams(),
    );
  });

  it('decodeHandshakeResponse: random and mutated responses', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(responses)), onlyFramingErrors(decodeHandshakeResponse)),
      fuzzParams(),
    );
  });

  it('decodePacket: random and mutated data packets', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(packets)), onlyFramingErrors(decodePacket)),
      fuzzParams(),
    );
  });
});
