/** fast-check arbitraries shared by the framing tests. */
import fc from 'fast-check';
import type { BtpPacket } from '../../../protocol/framing/codec.js';

export const u8 = fc.integer({ min: 0, max: 255 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const payload = fc.uint8Array({ minLength: 0, maxLength: 260 });
export const maybeAck = fc.option(u8, { nil: undefined });

export const packetArb: fc.Arbitrary<BtpPacket> = fc.oneof(
  fc.record({ kind: fc.constant('ack' as const), ack: u8, seq: u8 }),
  fc
    .record({
      kind: fc.constant('beginning' as const),
      ack: maybeAck,
      seq: u8,
      messageLength: u16,
      ending: fc.boolean(),
      payload,
    })
    .filter((p) => p.ending || p.payload.length > 0),
  fc
    .record({
      kind: fc.constant('continuing' as const),
      ack: maybeAck,
      seq: u8,
      ending: fc.boolean(),
      payload,
    })
    .filter((p) => p.payload.length > 0),
);

/**
 * A cheap assertion for fuzz loops (vitest's `expect` costs more than the code under test when run
 * 10,000 times); fast-check reports the failing input.
 */
export function must(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
