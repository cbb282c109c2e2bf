/** fast-check arbitraries for every transfer message (valid per the codec's structural rules). */
import fc from 'fast-check';
import type { TransferMessage } from '../../../protocol/transfer/codec.js';
import { MAX_BLOCK_BYTES } from '../../../protocol/transfer/constants.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nonZeroU32 = fc.integer({ min: 1, max: 0xffffffff });

export const transferMessage: fc.Arbitrary<TransferMessage> = fc.oneof(
  fc.record({
    type: fc.constant('TransferInit' as const),
    transferId: u32,
    direction: u8,
    codec: u8,
    totalBytes: u32,
    sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    startOffset: u32,
  }),
  fc.record({
    type: fc.constant('TransferAccept' as const),
    transferId: u32,
    maxBlock: u16,
    window: u32,
    startOffset: u32,
  }),
  fc.record({
    type: fc.constant('Block' as const),
    transferId: u32,
    offset: u32,
    data: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      // Near-maximum blocks, cheap to generate: a filled buffer with a few random bytes.
      fc
        .tuple(
          fc.integer({ min: MAX_BLOCK_BYTES - 2, max: MAX_BLOCK_BYTES }),
          fc.uint8Array({ maxLength: 8 }),
        )
        .map(([n, head]) => {
          const data = new Uint8Array(n).fill(0xa5);
          data.set(head);
          return data;
        }),
    ),
  }),
  fc.record({ type: fc.constant('BlockAck' as const), transferId: u32, committedOffset: u32 }),
  fc.record({ type: fc.constant('End' as const), transferId: u32 }),
  fc.oneof(
    fc.record({
      type: fc.constant('Done' as const),
      transferId: u32,
      status: fc.constant(0),
      messageId: nonZeroU32,
    }),
    fc.record({
      type: fc.constant('Done' as const),
      transferId: u32,
      status: fc.integer({ min: 1, max: 0xff }),
      messageId: fc.constant(0),
    }),
  ),
  fc.record({ type: fc.constant('TransferAbort' as const), transferId: u32, status: u8 }),
  fc.record({ type: fc.constant('DownloadRequest' as const), transferId: u32, messageId: nonZeroU32 }),
);
