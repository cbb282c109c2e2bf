import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, concat, toHex } from '../../../protocol/bytes.js';
import { packetBoundaries, planBlocks } from '../../../protocol/container/container.js';
import { ContainerScanner } from '../../../protocol/container/scanner.js';
import { sha256 } from '../../../protocol/crypto.js';
import { TransferError } from '../../../protocol/errors.js';
import { seededRandom } from '../../../protocol/random.js';
import type { TransferInit, TransferMessage } from '../../../protocol/transfer/codec.js';
import { MIN_BLOCK_BYTES } from '../../../protocol/transfer/constants.js';
import { type ReceiverOutput, TransferReceiver } from '../../../protocol/transfer/receiver.js';
import { TransferSender } from '../../../protocol/transfer/sender.js';
import { fuzzParams } from '../../fuzz/config.js';
import { syntheticContainer } from '../container/synth.js';
import { transferMessage } from './arbitraries.js';

const ID = 9;
const content = syntheticContainer(seededRandom('receiver-fuzz'), 60, 1, 60);
const boundaries = packetBoundaries(content);
const init: TransferInit = {
  type: 'TransferInit',
  transferId: ID,
  direction: 0,
  codec: 1,
  totalBytes: content.length,
  sha256: sha256(content),
  startOffset: 0,
};
const validBlocks = planBlocks(boundaries, 300, 0);

/**
 * A message for the receiver: a valid next-ish block, a valid block with its offset/data mutated,
 * a block of random bytes at a plausible offset, or any transfer message at all.
 */
const message: fc.Arbitrary<TransferMessage> = fc.oneof(
  fc.nat(validBlocks.length - 1).map((i) => block(validBlocks[i]!.offset, validBlocks[i]!.length)),
  fc
    .tuple(
      fc.nat(validBlocks.length - 1),
      fc.integer({ min: -3, max: 3 }),
      fc.integer({ min: -3, max: 3 }),
      fc.nat(),
      fc.nat(255),
    )
    .map(([i, dOff, dLen, at, v]) => {
      const s = validBlocks[i]!;
      const offset = Math.max(0, s.offset + dOff);
      const b = block(offset, Math.max(1, s.length + dLen));
      if (v > 0) b.data[at % b.data.length] = v;
      return b;
    }),
  fc
    .tuple(fc.constantFrom(...boundaries), fc.uint8Array({ minLength: 1, maxLength: 400 }))
    .map(([offset, data]): TransferMessage => ({ type: 'Block', transferId: ID, offset, data })),
  transferMessage.map((m) => ({ ...m, transferId: m.transferId % 2 === 0 ? ID : m.transferId })),
);

function block(offset: number, length: number): TransferMessage & { type: 'Block' } {
  const data = new Uint8Array(length);
  data.set(content.subarray(offset, offset + length));
  return { type: 'Block', transferId: ID, offset, data };
}

const observe = (r: TransferReceiver) =>
  `${r.state} ${r.receivedOffset} ${r.committedOffset} ${r.status} ${toHex(r.committed)}`;

describe('TransferReceiver under fuzzing', () => {
  it('refuses bad messages with TransferError only, unchanged, and commits only bytes of accepted blocks', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 512 }),
        (msgs, interval) => {
          const { receiver } = TransferReceiver.open(init, {
            direction: 0,
            assignMessageId: () => 1,
            maxBlock: MIN_BLOCK_BYTES,
            commitInterval: interval,
          });
          const accepted: Uint8Array[] = [];
          const commits: Uint8Array[] = [];
          for (const m of msgs) {
            const before = observe(receiver);
            let out: ReceiverOutput[];
            try {
              out = receiver.handle(m);
            } catch (e) {
              expect(e).toBeInstanceOf(TransferError);
              expect(observe(receiver)).toBe(before);
              continue;
            }
            if (m.type === 'Block') accepted.push(m.data);
            for (const o of out) {
              if (o.kind === 'commit') commits.push(o.bytes);
              // Only the exact original content can ever complete.
              if (o.kind === 'complete') expect(bytesEqual(o.content, content)).toBe(true);
            }
          }
          const committed = concat(...commits);
          expect(bytesEqual(committed, concat(...accepted).subarray(0, committed.length))).toBe(true);
          // What was accepted is a valid container prefix that ends on a packet boundary (it may differ
          // from the original content: a mutated header can still be valid; the sha256 catches that at End).
          if (accepted.length > 0) new ContainerScanner().push(concat(...accepted), true);
        },
      ),
      fuzzParams(),
    );
  });
});

describe('TransferSender under fuzzing', () => {
  it('refuses bad messages with TransferError only and stays unchanged', () => {
    const senderMsg: fc.Arbitrary<TransferMessage> = fc.oneof(
      transferMessage.map((m) => ({ ...m, transferId: ID })),
      fc.record({
        type: fc.constant('TransferAccept' as const),
        transferId: fc.constant(ID),
        maxBlock: fc.integer({ min: 1200, max: 2100 }),
        window: fc.integer({ min: 4000, max: 20_000 }),
        startOffset: fc.oneof(fc.constantFrom(...boundaries), fc.nat(content.length + 2)),
      }),
      fc.record({
        type: fc.constant('BlockAck' as const),
        transferId: fc.constant(ID),
        committedOffset: fc.oneof(fc.constantFrom(...boundaries), fc.nat(content.length + 2)),
      }),
    );
    fc.assert(
      fc.property(fc.array(senderMsg, { minLength: 1, maxLength: 6 }), (msgs) => {
        const s = new TransferSender({ transferId: ID, direction: 0, content });
        s.start();
        for (const m of msgs) {
          const before = JSON.stringify([s.state, s.progress, s.status, s.messageId]);
          try {
            s.handle(m);
          } catch (e) {
            expect(e).toBeInstanceOf(TransferError);
            expect(JSON.stringify([s.state, s.progress, s.status, s.messageId])).toBe(before);
          }
        }
      }),
      fuzzParams(),
    );
  });
});
