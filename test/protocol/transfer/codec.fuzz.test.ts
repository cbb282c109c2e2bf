import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../../protocol/errors.js';
import { decodeTransferMessage, encodeTransferMessage } from '../../../protocol/transfer/codec.js';
import { fuzzParams } from '../../fuzz/config.js';
import { transferMessage } from './arbitraries.js';

/** Random bytes (often in the transfer type range), or a valid encoding with bytes changed, cut or added. */
const input = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .tuple(fc.integer({ min: 0x3e, max: 0x51 }), fc.uint8Array({ maxLength: 60 }))
    .map(([t, rest]) => Uint8Array.of(t, ...rest)),
  fc
    .tuple(
      transferMessage,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.integer({ min: -3, max: 3 }),
    )
    .map(([msg, edits, grow]) => {
      const bytes = encodeTransferMessage(msg);
      for (const [at, v] of edits) bytes[at % bytes.length] = v;
      const out = new Uint8Array(Math.max(0, bytes.length + grow));
      out.set(bytes.subarray(0, out.length));
      return out;
    }),
);

describe('transfer codec under fuzzing', () => {
  it('decodeTransferMessage throws only TransferError, and what it accepts re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(input, (bytes) => {
        let msg: ReturnType<typeof decodeTransferMessage>;
        try {
          msg = decodeTransferMessage(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TransferError);
          return;
        }
        expect(encodeTransferMessage(msg)).toEqual(bytes);
      }),
      fuzzParams(),
    );
  });
});
