/**
 * A two-endpoint test bench for the framing layer: a phone and a toy `BtpEndpoint` joined by an
 * ordered pipe in each direction, driven in virtual time. The pipe delays each ATT value by a
 * random amount without reordering (GATT is ordered) and so delivers in random bursts; a `tamper`
 * hook can drop, duplicate or reorder values to show what the endpoints do with a broken link.
 */
import { toHex } from '../../../protocol/bytes.js';
import type { FramingError } from '../../../protocol/errors.js';
import {
  BtpEndpoint,
  type BtpEndpointOptions,
  type FramingEvent,
} from '../../../protocol/framing/endpoint.js';

export type Direction = 'phone>toy' | 'toy>phone';

/** Deterministic PRNG (mulberry32) in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchOptions {
  phone: BtpEndpointOptions;
  toy: BtpEndpointOptions;
  /** Random source for delays; omit for zero delay (lockstep delivery). */
  random?: () => number;
  /** Largest extra delay of one ATT value, ms. */
  maxDelayMs?: number;
  /** Chance that a value travels with the one before it (same delivery time). */
  burstChance?: number;
  /**
   * Called for each ATT value put on the air, with its index in that direction (0 = first) and the
   * virtual time; returns the values actually delivered (default: [value]).
   */
  tamper?: (direction: Direction, index: number, value: Uint8Array, now: number) => Uint8Array[];
  /** Record every delivered value (`trace`) and every driver call with its output (`calls`). */
  trace?: boolean;
}

interface InFlight {
  at: number;
  value: Uint8Array;
}

export interface TraceEntry {
  t: number;
  dir: Direction;
  hex: string;
}

/** One driver call on one endpoint and what it produced (recorded when `trace` is on). */
export interface CallEntry {
  t: number;
  side: 'phone' | 'toy';
  /** `close` is the driver reporting LINK_LOST after the other side dropped the link. */
  call: 'create' | 'send' | 'receive' | 'tick' | 'close';
  /** The message sent or the ATT value received, hex. */
  input?: string;
  /** ATT values the call produced, hex, in order. */
  transmit: string[];
  /** Messages the call delivered, hex. */
  delivered: string[];
  /** Close code, if the call closed the endpoint. */
  closed?: string;
}

export class Bench {
  now = 0;
  readonly phone: BtpEndpoint;
  readonly toy: BtpEndpoint;
  readonly received: Record<'phone' | 'toy', Uint8Array[]> = { phone: [], toy: [] };
  readonly closed: Partial<Record<'phone' | 'toy', { at: number; reason: FramingError }>> = {};
  readonly opened: Partial<Record<'phone' | 'toy', number>> = {};
  readonly trace: TraceEntry[] = [];
  readonly calls: CallEntry[] = [];
  /** ATT values each side put on the air (before tampering). */
  readonly sent: Record<Direction, number> = { 'phone>toy': 0, 'toy>phone': 0 };
  private readonly pipes: Record<Direction, InFlight[]> = { 'phone>toy': [], 'toy>phone': [] };
  private readonly lastAt: Record<Direction, number> = { 'phone>toy': 0, 'toy>phone': 0 };
  private readonly scheduled: Array<{ at: number; side: 'phone' | 'toy'; message: Uint8Array }> = [];

  constructor(private readonly options: BenchOptions) {
    this.toy = BtpEndpoint.peripheral(options.toy, 0);
    this.record('toy', 'create', undefined);
    this.phone = BtpEndpoint.central(options.phone, 0);
    this.record('phone', 'create', undefined);
  }

  /** Drains `side` after a call on it, records the call when tracing, then lets a close drop the link. */
  private record(side: 'phone' | 'toy', call: CallEntry['call'], input: Uint8Array | undefined): void {
    const events = this.drain(side);
    if (this.options.trace && !(call === 'tick' && events.length === 0)) {
      const entry: CallEntry = {
        t: this.now,
        side,
        call,
        ...(input === undefined ? {} : { input: toHex(input) }),
        transmit: events.flatMap((e) => (e.type === 'transmit' ? [toHex(e.value)] : [])),
        delivered: events.flatMap((e) => (e.type === 'message' ? [toHex(e.message)] : [])),
      };
      const closed = events.find((e) => e.type === 'closed');
      if (closed?.type === 'closed') entry.closed = closed.reason.code;
      this.calls.push(entry);
    }
    if (events.some((e) => e.type === 'closed')) {
      // The closing side drops the BLE link: nothing in flight arrives any more, and the other
      // side's driver reports LINK_LOST.
      this.pipes['phone>toy'] = [];
      this.pipes['toy>phone'] = [];
      const otherSide = side === 'phone' ? 'toy' : 'phone';
      const other = otherSide === 'phone' ? this.phone : this.toy;
      if (other.state !== 'closed') {
        other.close('LINK_LOST');
        this.record(otherSide, 'close', undefined);
      }
    }
  }

  /** Schedules `message` to be sent by `side` at virtual time `at` (ms). */
  sendAt(at: number, side: 'phone' | 'toy', message: Uint8Array): void {
    this.scheduled.push({ at, side, message });
    this.scheduled.sort((a, b) => a.at - b.at);
  }

  private delay(): number {
    const { random, maxDelayMs = 0, burstChance = 0.5 } = this.options;
    if (random === undefined || maxDelayMs === 0) return 0;
    return random() < burstChance ? 0 : random() * maxDelayMs;
  }

  /** Takes `side`'s events and routes them: transmits into the pipe, messages, open, close. */
  private drain(side: 'phone' | 'toy'): FramingEvent[] {
    const endpoint = side === 'phone' ? this.phone : this.toy;
    const direction: Direction = side === 'phone' ? 'phone>toy' : 'toy>phone';
    const events = endpoint.takeEvents();
    for (const event of events) {
      if (event.type === 'transmit') {
        const index = this.sent[direction]++;
        const values = this.options.tamper?.(direction, index, event.value, this.now) ?? [event.value];
        for (const value of values) {
          const at = Math.max(this.lastAt[direction], this.now + this.delay());
          this.lastAt[direction] = at;
          this.pipes[direction].push({ at, value });
        }
      } else if (event.type === 'message') {
        this.received[side].push(event.message);
      } else if (event.type === 'open') {
        this.opened[side] = this.now;
      } else {
        this.closed[side] = { at: this.now, reason: event.reason };
      }
    }
    return events;
  }

  /** The next time something happens, or undefined when nothing ever will. */
  nextEventTime(): number | undefined {
    const times = [
      this.pipes['phone>toy'][0]?.at,
      this.pipes['toy>phone'][0]?.at,
      this.phone.nextDeadline(),
      this.toy.nextDeadline(),
      this.scheduled[0]?.at,
    ].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Advances to the next event time and processes everything due then. Returns false if idle. */
  step(): boolean {
    const t = this.nextEventTime();
    if (t === undefined) return false;
    this.now = Math.max(this.now, t);
    while (this.scheduled.length > 0 && this.scheduled[0]!.at <= this.now) {
      const { side, message } = this.scheduled.shift()!;
      const endpoint = side === 'phone' ? this.phone : this.toy;
      if (endpoint.state !== 'closed') {
        endpoint.send(message, this.now);
        this.record(side, 'send', message);
      }
    }
    for (const direction of ['phone>toy', 'toy>phone'] as const) {
      const pipe = this.pipes[direction];
      while (pipe.length > 0 && pipe[0]!.at <= this.now) {
        const { value } = pipe.shift()!;
        if (this.options.trace) this.trace.push({ t: this.now, dir: direction, hex: toHex(value) });
        const side = direction === 'phone>toy' ? 'toy' : 'phone';
        (side === 'toy' ? this.toy : this.phone).receive(value, this.now);
        this.record(side, 'receive', value);
      }
    }
    for (const side of ['phone', 'toy'] as const) {
      const endpoint = side === 'phone' ? this.phone : this.toy;
      const d = endpoint.nextDeadline();
      if (d !== undefined && d <= this.now) {
        endpoint.tick(this.now);
        this.record(side, 'tick', undefined);
        // A tick consumes everything due: a deadline still in the past would make a driver spin.
        const after = endpoint.nextDeadline();
        if (after !== undefined && after <= this.now)
          throw new Error(`${side}: deadline ${after} still due at ${this.now}`);
      }
    }
    return true;
  }

  /** Steps until `until()` holds or virtual time passes `limit`; returns whether `until()` held. */
  runUntil(until: () => boolean, limit: number): boolean {
    let steps = 0;
    while (!until()) {
      if (this.nextEventTime() === undefined || (this.nextEventTime() ?? 0) > limit) return false;
      this.step();
      if (++steps > 1_000_000) throw new Error('bench did not settle');
    }
    return true;
  }

  /** Runs until virtual time `t` (processing every event due before or at it). */
  runTo(t: number): void {
    while ((this.nextEventTime() ?? Number.POSITIVE_INFINITY) <= t) this.step();
    this.now = Math.max(this.now, t);
  }
}
