/**
 * Two endpoints over an ordered pipe that delays and bursts at random, in virtual time: whatever
 * the MTUs, windows, message sizes and timing, every message arrives exactly once and in order, both
 * directions at once. Then the pipe breaks its promise (drops, duplicates or reorders one packet)
 * and the endpoints must close cleanly with the right code, never delivering anything twice, out of
 * order or corrupted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtpFlag } from '../../../protocol/framing/constants.js';
import { Bench, type Direction, prng } from './harness.js';

const mtu = fc.oneof(fc.constantFrom(23, 185, 247, 517), fc.integer({ min: 23, max: 517 }));
const window = fc.integer({ min: 3, max: 32 });
const messageLength = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2048 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2048) },
);
const traffic = fc.array(fc.tuple(messageLength, fc.integer({ min: 0, max: 3_000 })), { maxLength: 5 });

function message(length: number, tag: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + tag * 7) & 0xff);
}

interface Scenario {
  phoneMtu: number;
  toyMtu: number;
  phoneWindow: number;
  toyWindow: number;
  phoneSends: Array<[number, number]>;
  toySends: Array<[number, number]>;
  seed: number;
  maxDelayMs: number;
  burstChance: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  phoneMtu: mtu,
  toyMtu: mtu,
  phoneWindow: window,
  toyWindow: window,
  phoneSends: traffic,
  toySends: traffic,
  seed: fc.integer(),
  maxDelayMs: fc.constantFrom(0, 5, 30, 120),
  burstChance: fc.double({ min: 0, max: 0.9, noNaN: true }),
});

function setUp(s: Scenario, tamper?: (d: Direction, i: number, v: Uint8Array) => Uint8Array[]) {
  const bench = new Bench({
    phone: { attMtu: s.phoneMtu, window: s.phoneWindow, maxQueuedBytes: 5 * 2048 },
    toy: { attMtu: s.toyMtu, window: s.toyWindow, maxQueuedBytes: 5 * 2048 },
    random: prng(s.seed),
    maxDelayMs: s.maxDelayMs,
    burstChance: s.burstChance,
    ...(tamper ? { tamper } : {}),
  });
  const sent = { phone: [] as Uint8Array[], toy: [] as Uint8Array[] };
  // Messages leave in the order of their send times (ties keep their order).
  const byTime = (t: Array<[number, number]>) => [...t].sort((a, b) => a[1] - b[1]);
  byTime(s.phoneSends).forEach(([length, at], i) => {
    const m = message(length, i);
    sent.phone.push(m);
    bench.sendAt(at, 'phone', m);
  });
  byTime(s.toySends).forEach(([length, at], i) => {
    const m = message(length, 100 + i);
    sent.toy.push(m);
    bench.sendAt(at, 'toy', m);
  });
  return { bench, sent };
}

/** A message segment (not a stand-alone ack, not a handshake packet). */
const isData = (v: Uint8Array) =>
  (v[0]! & BtpFlag.Handshake) === 0 && (v[0]! & (BtpFlag.Beginning | BtpFlag.Continuing)) !== 0;

describe('two endpoints over a bursty, delaying, ordered pipe', () => {
  it('deliver every message exactly once and in order, both ways at once', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { bench, sent } = setUp(s);
        // Messages are sent within 3 s and the link keeps moving, so nothing times out; the limit
        // is generous because a window of 3 with 120 ms delays moves only a few segments a second.
        const done = bench.runUntil(
          () =>
            bench.phone.state === 'open' &&
            bench.toy.state === 'open' &&
            bench.received.toy.length === sent.phone.length &&
            bench.received.phone.length === sent.toy.length,
          20 * 60_000,
        );
        expect(bench.closed).toEqual({});
        expect(done).toBe(true);
        expect(bench.received.toy).toEqual(sent.phone);
        expect(bench.received.phone).toEqual(sent.toy);
        expect(bench.phone.segmentSize).toBe(Math.min(Math.min(s.phoneMtu, s.toyMtu) - 3, 244));
        expect(bench.phone.window).toBe(Math.min(s.phoneWindow, s.toyWindow));
      }),
      { numRuns: 120 },
    );
  });
});

describe('a pipe that drops, duplicates or reorders one data packet', () => {
  const fault = fc.record({
    kind: fc.constantFrom('drop', 'duplicate', 'reorder'),
    direction: fc.constantFrom<Direction>('phone>toy', 'toy>phone'),
    index: fc.nat({ max: 40 }),
  });

  it('makes a side close with OUT_OF_ORDER or ACK_TIMEOUT, never a wrong delivery', () => {
    fc.assert(
      fc.property(scenario, fault, (s, f) => {
        let seen = 0;
        let held: Uint8Array | undefined;
        let triggered = false;
        const tamper = (d: Direction, _i: number, v: Uint8Array): Uint8Array[] => {
          if (d !== f.direction) return [v];
          if (held !== undefined) {
            const first = held;
            held = undefined;
            return [v, first];
          }
          if (!isData(v) || seen++ !== f.index) return [v];
          triggered = true;
          if (f.kind === 'drop') return [];
          if (f.kind === 'duplicate') return [v, v];
          held = v;
          return [];
        };
        const { bench, sent } = setUp(s, tamper);
        bench.runUntil(() => bench.closed.phone !== undefined && bench.closed.toy !== undefined, 20 * 60_000);
        // Whatever happened, what each side received is a prefix of what the other sent.
        expect(sent.phone.slice(0, bench.received.toy.length)).toEqual(bench.received.toy);
        expect(sent.toy.slice(0, bench.received.phone.length)).toEqual(bench.received.phone);
        const reasons = [bench.closed.phone, bench.closed.toy]
          .filter((c) => c !== undefined)
          .sort((a, b) => a.at - b.at || (a.reason.code === 'LINK_LOST' ? 1 : -1))
          .map((c) => c.reason.code);
        if (!triggered) {
          // Fewer data packets than the index: the link ends idle like any quiet link.
          expect(reasons[0]).toBe('IDLE_TIMEOUT');
          return;
        }
        expect(['OUT_OF_ORDER', 'ACK_TIMEOUT']).toContain(reasons[0]);
        // A duplicate is caught at once; so is a reordered pair (a packet held back with nothing
        // after it to swap with is simply lost, like a drop).
        if (f.kind === 'duplicate' || (f.kind === 'reorder' && held === undefined)) {
          expect(reasons[0]).toBe('OUT_OF_ORDER');
        }
        expect(reasons[1]).toBe('LINK_LOST');
      }),
      { numRuns: 150 },
    );
  });

  it('drop: the receiver closes with OUT_OF_ORDER at the next packet and the message is lost whole', () => {
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (d, i, v) => (d === 'phone>toy' && i === 2 ? [] : [v]), // 0: request, 1: first segment
    });
    bench.sendAt(10, 'phone', message(100, 1));
    bench.runUntil(() => bench.closed.toy !== undefined, 60_000);
    expect(bench.closed.toy?.reason.code).toBe('OUT_OF_ORDER');
    expect(bench.closed.toy?.at).toBe(10);
    expect(bench.closed.phone?.reason.code).toBe('LINK_LOST');
    expect(bench.received.toy).toEqual([]);
  });

  it('duplicate: the receiver closes with OUT_OF_ORDER and delivers the message at most once', () => {
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (d, i, v) => (d === 'toy>phone' && i === 1 ? [v, v] : [v]), // the toy's first data segment
    });
    bench.sendAt(10, 'toy', message(10, 1));
    bench.runUntil(() => bench.closed.phone !== undefined, 60_000);
    expect(bench.closed.phone?.reason.code).toBe('OUT_OF_ORDER');
    expect(bench.received.phone).toEqual([message(10, 1)]);
  });

  it('reorder: the receiver closes with OUT_OF_ORDER and delivers nothing of the message', () => {
    let held: Uint8Array | undefined;
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (d, i, v) => {
        if (d !== 'phone>toy') return [v];
        if (i === 1) {
          held = v;
          return [];
        }
        if (i === 2) return [v, held!];
        return [v];
      },
    });
    bench.sendAt(10, 'phone', message(60, 1));
    bench.runUntil(() => bench.closed.toy !== undefined, 60_000);
    expect(bench.closed.toy?.reason.code).toBe('OUT_OF_ORDER');
    expect(bench.received.toy).toEqual([]);
  });

  it('a lost last data packet is exposed by the next keep-alive ack: OUT_OF_ORDER', () => {
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (d, _i, v) => (d === 'phone>toy' && isData(v) ? [] : [v]),
    });
    bench.sendAt(1_000, 'phone', message(5, 1));
    bench.runUntil(() => bench.closed.toy !== undefined, 60_000);
    // The phone acked the response at 50 ms; the toy acked that lazily at 5.05 s; the phone's lazy
    // ack of that ack at 10.05 s carries sequence number 2, but the toy expected 1 (the lost data).
    expect(bench.closed.toy?.reason.code).toBe('OUT_OF_ORDER');
    expect(bench.closed.toy?.at).toBe(10_050);
    expect(bench.received.toy).toEqual([]);
  });

  it('a direction that goes dead: the sender closes with ACK_TIMEOUT 15 s after the last ack it got', () => {
    const bench = new Bench({
      phone: { attMtu: 23 },
      toy: { attMtu: 23 },
      tamper: (d, _i, v, now) => (d === 'phone>toy' && now > 500 ? [] : [v]),
    });
    bench.sendAt(1_000, 'phone', message(5, 1));
    bench.runUntil(() => bench.closed.phone !== undefined, 60_000);
    // The toy's keep-alive at 5.05 s acked the phone's packet 0, not the data (packet 1): the
    // phone's timer restarted then and ran out 15 s later.
    expect(bench.closed.phone?.reason.code).toBe('ACK_TIMEOUT');
    expect(bench.closed.phone?.at).toBe(20_050);
    expect(bench.received.toy).toEqual([]);
  });
});
