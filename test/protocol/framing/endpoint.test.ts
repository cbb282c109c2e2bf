import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { FramingError } from '../../../protocol/errors.js';
import {
  type BtpPacket,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
} from '../../../protocol/framing/codec.js';
import {
  BtpEndpoint,
  type BtpEndpointOptions,
  type FramingEvent,
} from '../../../protocol/framing/endpoint.js';
import { Bench } from './harness.js';

const values = (events: FramingEvent[]): Uint8Array[] =>
  events.flatMap((e) => (e.type === 'transmit' ? [e.value] : []));
const packets = (events: FramingEvent[]): BtpPacket[] => values(events).map(decodePacket);
const messages = (events: FramingEvent[]): Uint8Array[] =>
  events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
const closedCode = (events: FramingEvent[]): string | undefined =>
  events.flatMap((e) => (e.type === 'closed' ? [e.reason.code] : []))[0];

/** A packet as a fake peer writes it: the sequence number is filled in unless given. */
type PeerPacket = BtpPacket extends infer P
  ? P extends BtpPacket
    ? Omit<P, 'seq'> & { seq?: number }
    : never
  : never;

/** A phone and a toy with the handshake done at time 0 and every event drained. */
function openPair(
  phoneOptions: Partial<BtpEndpointOptions> = {},
  toyOptions: Partial<BtpEndpointOptions> = {},
) {
  const phone = BtpEndpoint.central({ attMtu: 23, ...phoneOptions }, 0);
  const toy = BtpEndpoint.peripheral({ attMtu: 23, ...toyOptions }, 0);
  const request = values(phone.takeEvents())[0]!;
  toy.receive(request, 0);
  const response = values(toy.takeEvents())[0]!;
  phone.receive(response, 0);
  phone.takeEvents();
  return { phone, toy, request, response };
}

/** The phone alone, opened by a hand-made response; returns a sender of toy packets. */
function phoneFacingFakeToy(window = 16, segmentSize = 20) {
  const phone = BtpEndpoint.central({ attMtu: segmentSize + 3 }, 0);
  phone.takeEvents();
  phone.receive(encodeHandshakeResponse({ version: 4, segmentSize, window }), 0);
  phone.takeEvents();
  let seq = 1;
  const fromToy = (p: PeerPacket, now: number): FramingEvent[] => {
    const packet = { ...p, seq: p.seq ?? seq } as BtpPacket;
    seq = (packet.seq + 1) & 0xff;
    phone.receive(encodePacket(packet), now);
    return phone.takeEvents();
  };
  return { phone, fromToy };
}

/** The toy alone, opened by a hand-made request; returns a sender of phone packets. */
function toyFacingFakePhone(window = 16, attMtu = 23) {
  const toy = BtpEndpoint.peripheral({ attMtu: 247 }, 0);
  toy.receive(encodeHandshakeRequest({ versions: [4], attMtu, window }), 0);
  toy.takeEvents();
  let seq = 0;
  const fromPhone = (p: PeerPacket, now: number): FramingEvent[] => {
    const packet = { ...p, seq: p.seq ?? seq } as BtpPacket;
    seq = (packet.seq + 1) & 0xff;
    toy.receive(encodePacket(packet), now);
    return toy.takeEvents();
  };
  return { toy, fromPhone };
}

const bytes = (n: number, fill = 0xa5) => new Uint8Array(n).fill(fill);

describe('handshake', () => {
  it('opens both sides on the same version, segment size, window and 15-byte transcript', () => {
    const phone = BtpEndpoint.central({ attMtu: 185 }, 0);
    const toy = BtpEndpoint.peripheral({ attMtu: 247 }, 0);
    const [req] = phone.takeEvents();
    expect(req).toEqual({ type: 'transmit', att: 'write', value: fromHex('656c04000000b90020') });
    toy.receive((req as { value: Uint8Array }).value, 3);
    const toyEvents = toy.takeEvents();
    expect(toyEvents).toEqual([
      { type: 'transmit', att: 'notify', value: fromHex('656c04b60010') },
      { type: 'open', version: 4, segmentSize: 182, window: 16 },
    ]);
    phone.receive(values(toyEvents)[0]!, 4);
    expect(phone.takeEvents()).toEqual([{ type: 'open', version: 4, segmentSize: 182, window: 16 }]);
    for (const side of [phone, toy]) {
      expect(side.state).toBe('open');
      expect([side.version, side.segmentSize, side.window]).toEqual([4, 182, 16]);
      expect(toHex(side.handshakeTranscript!)).toBe('656c04000000b90020' + '656c04b60010');
    }
  });

  it('numbers packets as Matter does: the phone starts at 0 and acks the response (0), the toy starts at 1', () => {
    const { phone, toy } = openPair();
    phone.send(bytes(3), 1);
    const [first] = packets(phone.takeEvents());
    expect(first).toMatchObject({ kind: 'beginning', ack: 0, seq: 0, messageLength: 3, ending: true });
    toy.send(bytes(3), 1);
    const [toyFirst] = packets(toy.takeEvents());
    expect(toyFirst).toMatchObject({ kind: 'beginning', seq: 1 });
    expect(toyFirst).not.toHaveProperty('ack');
  });

  it('queues messages sent before the handshake completes and sends them once open', () => {
    const phone = BtpEndpoint.central({ attMtu: 23 }, 0);
    const toy = BtpEndpoint.peripheral({ attMtu: 23 }, 0);
    phone.send(bytes(50, 1), 0);
    toy.send(bytes(10, 2), 0);
    expect(values(phone.takeEvents())).toHaveLength(1); // only the request
    toy.receive(encodeHandshakeRequest({ versions: [4], attMtu: 23, window: 32 }), 1);
    const out = packets(
      toy
        .takeEvents()
        .filter((e) => e.type === 'transmit')
        .slice(1) as FramingEvent[],
    );
    expect(out).toEqual([
      { kind: 'beginning', seq: 1, messageLength: 10, ending: true, payload: bytes(10, 2) },
    ]);
  });

  it('the toy closes without answering when no version is shared or the window would be below 3', () => {
    for (const [request, code] of [
      [{ versions: [3], attMtu: 23, window: 8 }, 'NO_COMMON_VERSION'],
      [{ versions: [4], attMtu: 23, window: 2 }, 'BAD_WINDOW'],
    ] as const) {
      const toy = BtpEndpoint.peripheral({ attMtu: 23 }, 0);
      toy.receive(encodeHandshakeRequest({ ...request, versions: [...request.versions] }), 0);
      const events = toy.takeEvents();
      expect(values(events)).toEqual([]);
      expect(closedCode(events)).toBe(code);
      expect(toy.handshakeTranscript).toBeUndefined();
    }
  });

  it('either side closes on a malformed handshake packet', () => {
    const toy = BtpEndpoint.peripheral({ attMtu: 23 }, 0);
    toy.receive(fromHex('0500010041'), 0); // data before the handshake
    expect(closedCode(toy.takeEvents())).toBe('NOT_HANDSHAKE');
    for (const [hex, code] of [
      ['656c05001406', 'BAD_VERSION'],
      ['656c04001402', 'BAD_WINDOW'],
      ['656c04001506', 'BAD_SEGMENT_SIZE'],
      ['656c041406', 'TRUNCATED'],
      ['0500010041', 'NOT_HANDSHAKE'],
    ]) {
      const phone = BtpEndpoint.central({ attMtu: 23 }, 0);
      phone.takeEvents();
      phone.receive(fromHex(hex!), 0);
      expect(closedCode(phone.takeEvents())).toBe(code);
    }
  });

  it('validates local options', () => {
    expect(() => BtpEndpoint.central({ attMtu: 22 }, 0)).toThrow(FramingError);
    expect(() => BtpEndpoint.central({ attMtu: 23, window: 2 }, 0)).toThrow(FramingError);
    expect(() => BtpEndpoint.peripheral({ attMtu: 23, window: 33 }, 0)).toThrow(FramingError);
    expect(() => BtpEndpoint.central({ attMtu: 23, versions: [16] }, 0)).toThrow(FramingError);
    expect(() => BtpEndpoint.central({ attMtu: 23, versions: [] }, 0)).toThrow(FramingError);
  });
});

describe('segmentation and reassembly', () => {
  it('delivers messages of 0, 1, 2048 bytes whole, in order, exactly once', () => {
    const bench = new Bench({ phone: { attMtu: 23 }, toy: { attMtu: 23 } });
    const sent = [bytes(0), bytes(1, 7), Uint8Array.from({ length: 2048 }, (_, i) => i & 0xff), bytes(17, 3)];
    for (const m of sent) bench.sendAt(1, 'phone', m);
    expect(bench.runUntil(() => bench.received.toy.length === sent.length, 20_000)).toBe(true);
    expect(bench.received.toy).toEqual(sent);
    expect(bench.closed).toEqual({});
  });

  it('cuts segments exactly at the segment size, piggy-backing the pending ack on the first', () => {
    const { phone } = openPair({ attMtu: 185 }, { attMtu: 185 });
    phone.send(bytes(400), 1);
    const out = values(phone.takeEvents());
    // 5-byte header (with ack) + 177, 2 + 180, 2 + 43.
    expect(out.map((v) => v.length)).toEqual([182, 182, 45]);
    expect(out.map(decodePacket)).toMatchObject([
      { kind: 'beginning', ack: 0, seq: 0, messageLength: 400, ending: false },
      { kind: 'continuing', seq: 1, ending: false },
      { kind: 'continuing', seq: 2, ending: true },
    ]);
  });

  it('refuses to queue a message over 2048 bytes or beyond the queue bound, changing nothing', () => {
    const { phone } = openPair({ maxQueuedBytes: 3000 });
    const before = phone.snapshot();
    expect(() => phone.send(bytes(2049), 1)).toThrowError(
      expect.objectContaining({ code: 'MESSAGE_TOO_LONG' }),
    );
    expect(phone.snapshot()).toEqual(before);
    // The window holds the first segments back, so most of 2048 stays queued.
    phone.send(bytes(2048), 1);
    phone.takeEvents();
    const queued = phone.queuedBytes;
    expect(queued).toBeGreaterThan(3000 - 2048);
    expect(() => phone.send(bytes(3001 - queued), 1)).toThrowError(
      expect.objectContaining({ code: 'QUEUE_FULL' }),
    );
    expect(phone.queuedBytes).toBe(queued);
    phone.send(bytes(3000 - queued), 1);
    expect(phone.queuedBytes).toBe(3000);
  });

  it('survives sequence numbers wrapping past 255 many times', () => {
    const bench = new Bench({
      phone: { attMtu: 23, window: 5, maxQueuedBytes: 30_000 },
      toy: { attMtu: 23, window: 5 },
    });
    const sent = Array.from({ length: 12 }, (_, i) => bytes(2048, i));
    for (const m of sent) bench.sendAt(1, 'phone', m);
    for (const m of sent.slice(0, 6)) bench.sendAt(1, 'toy', m);
    bench.runUntil(() => bench.received.toy.length === 12 && bench.received.phone.length === 6, 25_000);
    expect(bench.received.toy).toEqual(sent);
    expect(bench.received.phone).toEqual(sent.slice(0, 6));
    expect(bench.sent['phone>toy']).toBeGreaterThan(3 * 256);
    expect(bench.closed).toEqual({});
  });
});

describe('acknowledgements', () => {
  it('sends a stand-alone ack 50 ms after an unacknowledged data segment, not before', () => {
    const { toy, fromPhone } = toyFacingFakePhone();
    fromPhone({ kind: 'beginning', ack: 0, messageLength: 1, ending: true, payload: bytes(1) }, 100);
    expect(toy.nextDeadline()).toBe(150);
    toy.tick(149);
    expect(toy.takeEvents()).toEqual([]);
    toy.tick(150);
    expect(packets(toy.takeEvents())).toEqual([{ kind: 'ack', ack: 0, seq: 1 }]);
  });

  it('acks at once when half the window is unacknowledged', () => {
    const { fromPhone } = toyFacingFakePhone(16);
    let out: FramingEvent[] = [];
    for (let i = 0; i < 8; i++) {
      const packet: PeerPacket =
        i === 0
          ? { kind: 'beginning', ack: 0, messageLength: 200, ending: false, payload: bytes(10) }
          : { kind: 'continuing', ending: false, payload: bytes(10) };
      out = fromPhone(packet, 10);
      if (i < 7) expect(values(out)).toEqual([]);
    }
    expect(packets(out)).toEqual([{ kind: 'ack', ack: 7, seq: 1 }]);
  });

  it('with a window of 3, acks every data segment at once (Matter: two or fewer free slots)', () => {
    const { toy, fromPhone } = toyFacingFakePhone(3);
    const out = fromPhone(
      { kind: 'beginning', ack: 0, messageLength: 1, ending: true, payload: bytes(1) },
      10,
    );
    expect(packets(out)).toEqual([{ kind: 'ack', ack: 0, seq: 1 }]);
    expect(toy.snapshot().unacked).toBe(0);
  });

  it('piggy-backs a pending ack on the next data segment instead of a stand-alone ack', () => {
    const { toy, fromPhone } = toyFacingFakePhone();
    fromPhone({ kind: 'beginning', ack: 0, messageLength: 1, ending: true, payload: bytes(1) }, 10);
    toy.send(bytes(5), 20);
    expect(packets(toy.takeEvents())).toEqual([
      { kind: 'beginning', ack: 0, seq: 1, messageLength: 5, ending: true, payload: bytes(5) },
    ]);
    expect(toy.snapshot().deadlines.sendAck).toBeUndefined();
  });

  it('acks a stand-alone ack only after 5 s (the keep-alive), and a data segment shortens that to 50 ms', () => {
    const { phone, fromToy } = phoneFacingFakeToy();
    phone.tick(50);
    expect(packets(phone.takeEvents())).toEqual([{ kind: 'ack', ack: 0, seq: 0 }]);
    fromToy({ kind: 'ack', ack: 0 }, 100);
    expect(phone.nextDeadline()).toBe(5_100);
    fromToy({ kind: 'beginning', messageLength: 1, ending: true, payload: bytes(1) }, 200);
    expect(phone.nextDeadline()).toBe(250);
    phone.tick(250);
    expect(packets(phone.takeEvents())).toEqual([{ kind: 'ack', ack: 2, seq: 1 }]);
  });

  it('keeps an idle link alive with a stand-alone ack every 5 s, alternating sides, then closes it at 30 s', () => {
    const bench = new Bench({ phone: { attMtu: 23 }, toy: { attMtu: 23 }, trace: true });
    bench.sendAt(1_000, 'phone', bytes(3));
    bench.runTo(29_000);
    expect(bench.closed).toEqual({});
    const keepAlives = bench.trace.filter((t) => t.t > 2_000);
    expect(keepAlives.length).toBeGreaterThanOrEqual(5);
    keepAlives.forEach((k, i) => {
      expect(k.hex).toMatch(/^08[0-9a-f]{4}$/); // a 3-byte stand-alone ack
      if (i > 0) {
        expect(k.dir).not.toBe(keepAlives[i - 1]!.dir);
        expect(k.t - keepAlives[i - 1]!.t).toBe(5_000);
      }
    });
    bench.runTo(31_001);
    expect(bench.closed.phone?.reason.code).toBe('IDLE_TIMEOUT');
    expect(bench.closed.phone?.at).toBe(31_000);
  });

  it('rejects an ack for a packet never sent, and an ack repeated', () => {
    const a = toyFacingFakePhone();
    expect(closedCode(a.fromPhone({ kind: 'ack', ack: 1 }, 10))).toBe('BAD_ACK');
    const b = toyFacingFakePhone();
    b.fromPhone({ kind: 'ack', ack: 0 }, 10);
    expect(closedCode(b.fromPhone({ kind: 'ack', ack: 0 }, 20))).toBe('BAD_ACK');
    const c = phoneFacingFakeToy();
    expect(closedCode(c.fromToy({ kind: 'ack', ack: 0 }, 10))).toBe('BAD_ACK'); // the phone sent nothing yet
  });
});

describe('windows and the deadlock rule', () => {
  it('keeps the last slot of the peer window for a packet that carries an ack', () => {
    const { phone, fromToy } = phoneFacingFakeToy(4);
    phone.tick(50); // the ack of the response takes 1 of the toy's 4 slots
    phone.takeEvents();
    phone.send(bytes(200), 60);
    // Slots 2 and 3; slot 4 stays free because the phone has nothing to ack.
    expect(packets(phone.takeEvents()).map((p) => p.seq)).toEqual([1, 2]);
    expect(phone.snapshot().outstanding).toBe(3);
    expect(phone.nextDeadline()).toBe(50 + 15_000); // only the ack-received timer: nothing is due
    // The toy sends data without an ack: now the phone has an ack to give, and it may use slot 4.
    const out = fromToy({ kind: 'beginning', messageLength: 1, ending: true, payload: bytes(1) }, 70);
    expect(packets(out)).toMatchObject([{ kind: 'continuing', ack: 1, seq: 3 }]);
    expect(phone.snapshot().outstanding).toBe(4);
    // Window closed: nothing goes out, not even the ack of the next toy packet, until the toy acks.
    expect(
      values(fromToy({ kind: 'beginning', messageLength: 1, ending: true, payload: bytes(1) }, 80)),
    ).toEqual([]);
    expect(phone.nextDeadline()).toBe(50 + 15_000); // a blocked ack is not a deadline
    const resumed = packets(fromToy({ kind: 'ack', ack: 3 }, 90));
    expect(resumed[0]).toMatchObject({ kind: 'continuing', ack: 3, seq: 4 });
  });

  it('closes when the peer uses the last free slot of its window for a packet without an ack', () => {
    const toy = BtpEndpoint.peripheral({ attMtu: 23, window: 4 }, 0);
    toy.receive(encodeHandshakeRequest({ versions: [4], attMtu: 23, window: 4 }), 0);
    toy.send(bytes(2000), 0); // response + 2 segments; the 4th slot is kept for an ack
    expect(toy.snapshot().outstanding).toBe(3);
    toy.takeEvents();
    const phoneSeg = (seq: number) =>
      encodePacket(
        seq === 0
          ? { kind: 'beginning', seq, messageLength: 500, ending: false, payload: bytes(5) }
          : { kind: 'continuing', seq, ending: false, payload: bytes(5) },
      );
    toy.receive(phoneSeg(0), 1); // the toy now has an ack to give: its last slot carries it
    expect(packets(toy.takeEvents())).toMatchObject([{ kind: 'continuing', ack: 0, seq: 3 }]);
    expect(toy.snapshot().outstanding).toBe(4); // the phone's window is closed for the toy
    toy.receive(phoneSeg(1), 1);
    toy.receive(phoneSeg(2), 1);
    toy.receive(phoneSeg(3), 1); // legal: the phone still had 2 free slots before sending it
    expect(toy.state).toBe('open');
    expect(toy.snapshot().unacked).toBe(3);
    toy.receive(phoneSeg(4), 1); // the phone's last free slot, used without an ack
    expect(closedCode(toy.takeEvents())).toBe('WINDOW_VIOLATION');
  });

  it('never deadlocks with the smallest window when both sides send bulk data at once', () => {
    const bench = new Bench({ phone: { attMtu: 23, window: 3 }, toy: { attMtu: 23, window: 3 } });
    const a = Array.from({ length: 6 }, (_, i) => bytes(2048, i));
    const b = Array.from({ length: 6 }, (_, i) => bytes(1500, 100 + i));
    for (const m of a) bench.sendAt(5, 'phone', m);
    for (const m of b) bench.sendAt(5, 'toy', m);
    expect(
      bench.runUntil(() => bench.received.toy.length === 6 && bench.received.phone.length === 6, 25_000),
    ).toBe(true);
    expect(bench.received.toy).toEqual(a);
    expect(bench.received.phone).toEqual(b);
    expect(bench.closed).toEqual({});
  });
});

describe('protocol errors close the connection', () => {
  const seg = (p: PeerPacket) => p;
  const cases: Array<[string, PeerPacket[], string]> = [
    [
      'a continuing segment with no message begun',
      [seg({ kind: 'continuing', ending: true, payload: bytes(1) })],
      'UNEXPECTED_CONTINUE',
    ],
    [
      'a beginning segment in the middle of a message',
      [
        seg({ kind: 'beginning', ack: 0, messageLength: 30, ending: false, payload: bytes(10) }),
        seg({ kind: 'beginning', messageLength: 3, ending: true, payload: bytes(3) }),
      ],
      'UNEXPECTED_BEGIN',
    ],
    [
      'a declared length over 2048',
      [seg({ kind: 'beginning', ack: 0, messageLength: 2049, ending: false, payload: bytes(10) })],
      'MESSAGE_TOO_LONG',
    ],
    [
      'more bytes than declared',
      [seg({ kind: 'beginning', ack: 0, messageLength: 5, ending: true, payload: bytes(6) })],
      'LENGTH_OVERFLOW',
    ],
    [
      'a continuation past the declared length',
      [
        seg({ kind: 'beginning', ack: 0, messageLength: 12, ending: false, payload: bytes(10) }),
        seg({ kind: 'continuing', ending: true, payload: bytes(3) }),
      ],
      'LENGTH_OVERFLOW',
    ],
    [
      'an ending segment short of the declared length',
      [seg({ kind: 'beginning', ack: 0, messageLength: 10, ending: true, payload: bytes(9) })],
      'LENGTH_MISMATCH',
    ],
    [
      'the declared length reached without an ending flag',
      [seg({ kind: 'beginning', ack: 0, messageLength: 9, ending: false, payload: bytes(9) })],
      'LENGTH_MISMATCH',
    ],
    ['a skipped sequence number (a lost packet)', [seg({ kind: 'ack', ack: 0, seq: 1 })], 'OUT_OF_ORDER'],
    [
      'a repeated sequence number (a duplicate)',
      [
        seg({ kind: 'ack', ack: 0, seq: 0 }),
        seg({ kind: 'beginning', messageLength: 1, ending: true, payload: bytes(1), seq: 0 }),
      ],
      'OUT_OF_ORDER',
    ],
  ];
  for (const [what, sequence, code] of cases) {
    it(`closes with ${code} on ${what}, delivering nothing`, () => {
      const { toy, fromPhone } = toyFacingFakePhone();
      const events = sequence.flatMap((p) => fromPhone(p, 10));
      expect(messages(events)).toEqual([]);
      expect(closedCode(events)).toBe(code);
      expect(events.filter((e) => e.type === 'closed')).toHaveLength(1);
      expect(toy.state).toBe('closed');
      expect(toy.closeReason).toBeInstanceOf(FramingError);
    });
  }

  it('closes with SEGMENT_TOO_LONG on a packet longer than the segment size', () => {
    const { toy } = toyFacingFakePhone(16, 23);
    toy.receive(
      encodePacket({
        kind: 'beginning',
        ack: 0,
        seq: 0,
        messageLength: 16,
        ending: true,
        payload: bytes(16),
      }),
      1,
    );
    expect(closedCode(toy.takeEvents())).toBe('SEGMENT_TOO_LONG');
  });

  it('closes with BAD_FLAGS on a second handshake request', () => {
    const { toy, request } = openPair();
    toy.receive(request, 1);
    expect(closedCode(toy.takeEvents())).toBe('BAD_FLAGS');
  });

  it('acts on nothing in a rejected packet: its ack is not taken, its data not delivered', () => {
    const { toy, fromPhone } = toyFacingFakePhone();
    const before = toy.snapshot();
    // A complete one-segment message with a valid ack, but the wrong sequence number.
    const events = fromPhone(
      { kind: 'beginning', ack: 0, seq: 3, messageLength: 1, ending: true, payload: bytes(1) },
      5,
    );
    expect(closedCode(events)).toBe('OUT_OF_ORDER');
    expect(messages(events)).toEqual([]);
    expect(values(events)).toEqual([]);
    const after = toy.snapshot();
    expect([after.txAcked, after.rxLast, after.rxAcked]).toEqual([
      before.txAcked,
      before.rxLast,
      before.rxAcked,
    ]);
  });

  it('once closed, ignores input and timers, refuses to send, and reports the first reason only', () => {
    const { toy, fromPhone } = toyFacingFakePhone();
    fromPhone({ kind: 'continuing', ending: true, payload: bytes(1) }, 1);
    expect(toy.closeReason?.code).toBe('UNEXPECTED_CONTINUE');
    toy.receive(
      encodePacket({ kind: 'beginning', ack: 0, seq: 0, messageLength: 1, ending: true, payload: bytes(1) }),
      2,
    );
    toy.tick(1_000_000);
    toy.close();
    expect(toy.takeEvents()).toEqual([]);
    expect(toy.nextDeadline()).toBeUndefined();
    expect(() => toy.send(bytes(1), 3)).toThrowError(
      expect.objectContaining({ name: 'FramingError', code: 'CLOSED' }),
    );
    expect(toy.closeReason?.code).toBe('UNEXPECTED_CONTINUE');
  });

  it('closes on request with LOCAL_CLOSE or LINK_LOST, once', () => {
    const { phone, toy } = openPair();
    phone.close();
    toy.close('LINK_LOST');
    toy.close();
    expect(closedCode(phone.takeEvents())).toBe('LOCAL_CLOSE');
    const toyEvents = toy.takeEvents();
    expect(toyEvents).toHaveLength(1);
    expect(closedCode(toyEvents)).toBe('LINK_LOST');
  });
});

describe('timers', () => {
  it('the phone gives up on the handshake at exactly 5 s', () => {
    const phone = BtpEndpoint.central({ attMtu: 23 }, 1_000);
    phone.takeEvents();
    expect(phone.nextDeadline()).toBe(6_000);
    phone.tick(5_999);
    expect(phone.state).toBe('handshake');
    phone.tick(6_000);
    expect(closedCode(phone.takeEvents())).toBe('HANDSHAKE_TIMEOUT');
  });

  it('the toy drops a central that writes no handshake request within 5 s', () => {
    const toy = BtpEndpoint.peripheral({ attMtu: 23 }, 0);
    expect(toy.nextDeadline()).toBe(5_000);
    toy.tick(5_000);
    expect(closedCode(toy.takeEvents())).toBe('HANDSHAKE_TIMEOUT');
  });

  it('the toy closes when the phone never acks the handshake response (15 s)', () => {
    const toy = BtpEndpoint.peripheral({ attMtu: 23 }, 0);
    toy.receive(encodeHandshakeRequest({ versions: [4], attMtu: 23, window: 8 }), 100);
    toy.tick(15_099);
    expect(toy.state).toBe('open');
    toy.tick(15_100);
    expect(closedCode(toy.takeEvents())).toBe('ACK_TIMEOUT');
  });

  it('the ack-received timer starts with the first unacked packet and restarts on each partial ack', () => {
    const { phone, fromToy } = phoneFacingFakeToy(16);
    phone.send(bytes(50), 100); // 3 segments: seq 0, 1, 2
    expect(phone.snapshot().deadlines.ackReceived).toBe(15_100);
    fromToy({ kind: 'ack', ack: 0 }, 10_000);
    expect(phone.snapshot().deadlines.ackReceived).toBe(25_000);
    // All acked; the phone's overdue ack of the toy's two acks goes out and starts a new period.
    expect(packets(fromToy({ kind: 'ack', ack: 2 }, 20_000))).toEqual([{ kind: 'ack', ack: 2, seq: 3 }]);
    expect(phone.snapshot().outstanding).toBe(1);
    expect(phone.snapshot().deadlines.ackReceived).toBe(35_000);
    phone.tick(25_000);
    expect(phone.state).toBe('open');
  });

  it('messages postpone the idle timeout; keep-alive acks do not', () => {
    const bench = new Bench({ phone: { attMtu: 23 }, toy: { attMtu: 23 } });
    bench.sendAt(1_000, 'phone', bytes(3));
    bench.sendAt(20_000, 'toy', bytes(3));
    bench.runTo(49_999);
    expect(bench.closed).toEqual({});
    bench.runTo(50_000);
    expect(bench.closed.phone?.reason.code).toBe('IDLE_TIMEOUT');
    expect(bench.closed.phone?.at).toBe(50_000);
  });

  it('detects a peer that goes silent through the keep-alive within 20 s', () => {
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (dir, _i, value, now) => (dir === 'toy>phone' && now >= 3_000 ? [] : [value]),
    });
    bench.sendAt(1_000, 'phone', bytes(3));
    bench.runUntil(() => bench.closed.phone !== undefined || bench.closed.toy !== undefined, 60_000);
    const first = [bench.closed.phone, bench.closed.toy].filter(
      (c) => c !== undefined && c.reason.code !== 'LINK_LOST',
    );
    expect(first).toHaveLength(1);
    expect(first[0]!.reason.code).toBe('ACK_TIMEOUT');
    expect(first[0]!.at).toBeLessThanOrEqual(3_000 + 20_000);
  });
});
