/**
 * The endpoint's receive path under fuzzing: random and mutated handshake packets and segments,
 * mostly well-numbered so that they get past the sequence check and reach the deeper rules. The
 * endpoint never throws for peer input; a packet it rejects closes it with a FramingError, acts on
 * nothing in that packet (counters unchanged, nothing delivered), and nothing follows the close.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FramingError } from '../../../protocol/errors.js';
import {
  type BtpPacket,
  decodePacket,
  encodeHandshakeRequest,
  encodePacket,
} from '../../../protocol/framing/codec.js';
import { BtpEndpoint, type FramingEvent } from '../../../protocol/framing/endpoint.js';
import { fuzzParams } from '../../fuzz/config.js';
import { maybeAck, must, u8, u16 } from './arbitraries.js';

const KNOWN_CODES = new Set([
  'TRUNCATED',
  'TRAILING_BYTES',
  'NOT_HANDSHAKE',
  'BAD_OPCODE',
  'BAD_VERSIONS',
  'BAD_RESERVED',
  'NO_COMMON_VERSION',
  'BAD_VERSION',
  'BAD_WINDOW',
  'BAD_SEGMENT_SIZE',
  'BAD_FLAGS',
  'EMPTY_SEGMENT',
  'SEGMENT_TOO_LONG',
  'OUT_OF_ORDER',
  'WINDOW_VIOLATION',
  'BAD_ACK',
  'UNEXPECTED_BEGIN',
  'UNEXPECTED_CONTINUE',
  'MESSAGE_TOO_LONG',
  'LENGTH_OVERFLOW',
  'LENGTH_MISMATCH',
  // tick() closes on its timers
  'HANDSHAKE_TIMEOUT',
  'ACK_TIMEOUT',
  'IDLE_TIMEOUT',
]);

/** Byte damage to apply to an encoding: (position, xor mask) pairs and an optional cut. */
const damage = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), u8), { maxLength: 2 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
});

function applyDamage(bytes: Uint8Array, d: { edits: Array<[number, number]>; cut: number | undefined }) {
  const out = Uint8Array.from(bytes);
  for (const [at, x] of d.edits) if (out.length > 0) out[at % out.length] = out[at % out.length]! ^ x;
  return d.cut === undefined ? out : out.subarray(0, d.cut % (out.length + 1));
}

/** Packets sized around a 20-byte segment, declaring lengths around what they carry. */
const packetNearLimits: fc.Arbitrary<BtpPacket> = fc.oneof(
  fc.record({ kind: fc.constant('ack' as const), ack: u8, seq: u8 }),
  fc
    .record({
      kind: fc.constant('beginning' as const),
      ack: maybeAck,
      seq: u8,
      messageLength: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 2040, max: 2060 }), u16),
      ending: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 22, size: 'max' }),
    })
    .filter((p) => p.ending || p.payload.length > 0),
  fc.record({
    kind: fc.constant('continuing' as const),
    ack: maybeAck,
    seq: u8,
    ending: fc.boolean(),
    payload: fc.uint8Array({ minLength: 1, maxLength: 22, size: 'max' }),
  }),
);

/** Mostly undefined: `weight` parts of undefined to one of `arb`. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight: number) =>
  fc.oneof({ weight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const counters = (e: BtpEndpoint) => {
  const { txNext, txAcked, rxLast, rxAcked } = e.snapshot();
  return `${txNext}/${txAcked}/${rxLast}/${rxAcked}`;
};

/** Feeds one input; checks the close rules; returns the events it produced. */
function checkStep(endpoint: BtpEndpoint, feed: () => void): FramingEvent[] {
  const wasClosed = endpoint.closeReason !== undefined;
  const before = counters(endpoint);
  feed(); // must not throw
  const events: FramingEvent[] = endpoint.takeEvents();
  if (wasClosed) {
    must(events.length === 0, 'a closed endpoint produced events');
    return events;
  }
  if (endpoint.state !== 'closed') return events;
  // Rejected: exactly one event, the close, with a known code; nothing of the packet acted on.
  must(events.length === 1 && events[0]!.type === 'closed', 'a rejection produced more than the close');
  const reason = (events[0] as { reason: FramingError }).reason;
  must(reason.constructor === FramingError, 'the close reason is not exactly a FramingError');
  must(KNOWN_CODES.has(reason.code), `unknown close code ${reason.code}`);
  must(counters(endpoint) === before, 'a rejected packet changed the sequence counters');
  return events;
}

describe('endpoint receive under fuzzing', () => {
  it('the toy facing random or damaged handshake requests opens or closes cleanly', () => {
    const request = fc
      .record({
        versions: fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 8 }),
        attMtu: fc.integer({ min: 0, max: 0xffff }),
        window: u8,
      })
      .map(encodeHandshakeRequest);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.tuple(request, damage).map(([b, d]) => applyDamage(b, d)),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const toy = BtpEndpoint.peripheral({ attMtu: 247 }, 0);
        checkStep(toy, () => toy.receive(bytes, 1));
        if (toy.state === 'open') {
          must(toy.handshakeTranscript?.length === 15, 'no 15-byte transcript');
          must(toy.segmentSize! >= 20 && toy.window! >= 3, 'negotiated values out of range');
        } else {
          must(toy.handshakeTranscript === undefined, 'a transcript after a refused handshake');
        }
      }),
      fuzzParams(),
    );
  });

  it('an open endpoint fed well-numbered, random and damaged packets never crashes or misdelivers', () => {
    const step = fc.record({
      packet: packetNearLimits,
      numbering: fc.constantFrom('right', 'right', 'right', 'random'),
      ackChoice: fc.nat(),
      damage: sometimes(damage, 5),
      raw: sometimes(fc.uint8Array({ maxLength: 30 }), 15),
      dt: fc.constantFrom(0, 1, 60, 5_000, 16_000),
      send: sometimes(fc.integer({ min: 0, max: 300 }), 4),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('central', 'peripheral'),
        fc.integer({ min: 3, max: 8 }),
        fc.array(step, { minLength: 1, maxLength: 12 }),
        (role, window, steps) => {
          let now = 0;
          let model: { length: number; bytes: number[] } | undefined;
          let endpoint: BtpEndpoint;
          if (role === 'peripheral') {
            endpoint = BtpEndpoint.peripheral({ attMtu: 23, window }, 0);
            endpoint.receive(encodeHandshakeRequest({ versions: [4], attMtu: 23, window }), 0);
          } else {
            endpoint = BtpEndpoint.central({ attMtu: 23, window }, 0);
            endpoint.receive(Uint8Array.of(0x65, 0x6c, 4, 20, 0, window), 0);
          }
          endpoint.takeEvents();
          for (const s of steps) {
            now += s.dt;
            const snap = endpoint.snapshot();
            if (s.send !== undefined && endpoint.state === 'open') {
              endpoint.send(new Uint8Array(s.send), now);
              endpoint.takeEvents();
            }
            let value: Uint8Array;
            if (s.raw !== undefined) {
              value = s.raw;
            } else {
              let packet: BtpPacket = s.packet;
              if (s.numbering === 'right') {
                const range = Math.max(1, snap.outstanding);
                const ack = (snap.txAcked + 1 + (s.ackChoice % range)) & 0xff;
                packet = { ...packet, seq: (snap.rxLast + 1) & 0xff };
                if (packet.kind === 'ack' || packet.ack !== undefined)
                  packet = { ...packet, ack } as BtpPacket;
              }
              value = encodePacket(packet);
              if (s.damage !== undefined) value = applyDamage(value, s.damage);
            }
            const events = checkStep(endpoint, () => endpoint.receive(value, now));
            // A model of reassembly from the packets the endpoint accepted: whatever it delivers
            // must be exactly the payloads of one begun-and-ended message.
            if (endpoint.state === 'open') {
              const p = decodePacket(value); // accepted, so it decodes
              if (p.kind === 'beginning') model = { length: p.messageLength, bytes: [...p.payload] };
              else if (p.kind === 'continuing') model!.bytes.push(...p.payload);
            }
            for (const e of events) {
              if (e.type !== 'message') continue;
              must(
                model !== undefined && model.length === e.message.length,
                'delivered a message of the wrong length',
              );
              must(
                Buffer.compare(Buffer.from(model.bytes), e.message) === 0,
                'delivered bytes that were not sent',
              );
              model = undefined;
            }
            checkStep(endpoint, () => endpoint.tick(now));
          }
        },
      ),
      fuzzParams(),
    );
  });
});
