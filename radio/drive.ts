/**
 * Drivers: the short asynchronous glue between a protocol engine (pure, synchronous, clock
 * injected: protocol/engine/) and a link (radio/link.ts). The SDK and the simulator reuse them.
 *
 * A driver feeds the engine what the link delivers (values, disconnects), calls `tick` at the
 * engine's `nextDeadline()` on an injected scheduler, and carries out what the engine asks
 * (`takeOutputs`): values to write or notify, links to drop, events for the application.
 *
 * - `PhoneDriver`: one `PhoneConnection` over one `CentralConnection`. The link allows one write
 *   at a time (radio/link.ts), so the driver queues the engine's writes and sends them in order;
 *   the framing window bounds that queue.
 * - `ToyDriver`: a `ToyEngine` over a `Peripheral` and all its connections. It tells the engine
 *   about a connection once the central has subscribed to TX or written RX, so the engine gets the
 *   ATT_MTU the central negotiated first; the engine's 10 s limit for an unauthenticated
 *   connection still counts from link-up.
 *
 * Every engine call goes through `act(fn)`: it runs `fn(engine, now)`, then sends what it
 * produced and re-arms the timer. Event listeners may call `act` themselves.
 *
 *   const phone = await PhoneDriver.open(await central.connect(id), { identity, random });
 *   phone.onEvent((e) => { if (e.type === 'framing-open') … });
 *   phone.act((engine, now) => engine.pair(setupCode, now));
 */

import { AUTH_TIMEOUT_MS } from '../protocol/engine/constants.js';
import { PhoneConnection, type PhoneConnectionOptions, type PhoneEvent } from '../protocol/engine/phone.js';
import type { ConnectionId, ToyEngine, ToyEvent } from '../protocol/engine/toy.js';
import { PawLinkError } from '../protocol/errors.js';
import { realScheduler, type Scheduler, type Timer } from './clock.js';
import { DISCONNECT_GRACE_MS } from './constants.js';
import { RadioError } from './errors.js';
import { Listeners } from './internal.js';
import type { CentralConnection, Peripheral, PeripheralConnection, Unsubscribe } from './link.js';

/** One timer at an engine's next deadline. */
class DeadlineTimer {
  #timer: Timer | undefined;
  #at: number | undefined;

  constructor(
    readonly scheduler: Scheduler,
    readonly fire: () => void,
  ) {}

  arm(deadline: number | undefined): void {
    if (deadline === this.#at) return;
    this.cancel();
    if (deadline === undefined) return;
    this.#at = deadline;
    this.#timer = this.scheduler.setTimer(
      () => {
        this.#timer = undefined;
        this.#at = undefined;
        this.fire();
      },
      Math.max(0, deadline - this.scheduler.now()),
    );
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#at = undefined;
  }
}

/** Runs `flush` after each engine call, without nesting: a call made while flushing runs after it. */
class Flusher {
  #flushing = false;
  #again = false;

  constructor(readonly flushOnce: () => void) {}

  run(): void {
    if (this.#flushing) {
      this.#again = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#again = false;
        this.flushOnce();
      } while (this.#again);
    } finally {
      this.#flushing = false;
    }
  }
}

function delay(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.setTimer(resolve, ms));
}

function isLinkDown(e: unknown): boolean {
  return e instanceof RadioError && (e.code === 'DISCONNECTED' || e.code === 'NOT_CONNECTED');
}

export interface PhoneDriverOptions extends Omit<PhoneConnectionOptions, 'attMtu'> {
  /** Time for the engine's timers (default: real time). Use the link's scheduler. */
  scheduler?: Scheduler;
}

type WriteItem = { kind: 'write'; value: Uint8Array; withResponse: boolean } | { kind: 'disconnect' };

/** Drives one `PhoneConnection` (the phone's protocol engine) over one central connection. */
export class PhoneDriver {
  readonly engine: PhoneConnection;
  /** Resolves with the reason once the protocol connection closed (engine decision or link loss). */
  readonly closed: Promise<PawLinkError>;
  readonly #scheduler: Scheduler;
  readonly #events = new Listeners<[PhoneEvent]>();
  readonly #timer: DeadlineTimer;
  readonly #flusher: Flusher;
  #queue: WriteItem[] = [];
  #writing = false;
  #resolveClosed!: (reason: PawLinkError) => void;
  #offDisconnect: Unsubscribe;

  private constructor(
    readonly connection: CentralConnection,
    options: PhoneDriverOptions,
  ) {
    this.#scheduler = options.scheduler ?? realScheduler;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#timer = new DeadlineTimer(this.#scheduler, () => this.act((e, now) => e.tick(now)));
    this.#flusher = new Flusher(() => this.#flushOnce());
    const { scheduler: _, ...engineOptions } = options;
    this.engine = new PhoneConnection({ ...engineOptions, attMtu: connection.mtu }, this.#scheduler.now());
    this.#offDisconnect = connection.onDisconnect(() => this.act((e, now) => e.linkLost(now)));
  }

  /**
   * Subscribes to the toy's notifications, then starts the protocol connection (its first output
   * is the framing handshake). Fails with the link's error if the subscription fails.
   */
  static async open(connection: CentralConnection, options: PhoneDriverOptions): Promise<PhoneDriver> {
    const driver = new PhoneDriver(connection, options);
    try {
      await connection.subscribe((value) => driver.act((e, now) => e.receive(value, now)));
    } catch (e) {
      driver.act((engine, now) => engine.linkLost(now));
      throw e;
    }
    driver.act(() => undefined);
    return driver;
  }

  onEvent(listener: (event: PhoneEvent) => void): Unsubscribe {
    return this.#events.add(listener);
  }

  /** Calls `fn(engine, now)`, then sends what the engine produced and re-arms its timer. */
  act<T>(fn: (engine: PhoneConnection, now: number) => T): T {
    try {
      return fn(this.engine, this.#scheduler.now());
    } finally {
      this.#flusher.run();
    }
  }

  /** Closes the protocol connection and drops the link; resolves when the link is down. */
  async close(reason = 'closed by the app'): Promise<void> {
    this.act((e, now) => e.close(now, reason));
    await this.closed;
    await this.connection.disconnect();
  }

  #flushOnce(): void {
    for (const o of this.engine.takeOutputs()) {
      if (o.kind === 'write')
        this.#queue.push({ kind: 'write', value: o.value, withResponse: o.withResponse });
      else if (o.kind === 'disconnect') this.#queue.push({ kind: 'disconnect' });
      else {
        if (o.event.type === 'closed') this.#finish(o.event.reason);
        this.#events.emit(o.event);
      }
    }
    if (this.engine.state === 'closed') this.#timer.cancel();
    else this.#timer.arm(this.engine.nextDeadline());
    void this.#pumpWrites();
  }

  #finish(reason: PawLinkError): void {
    this.#timer.cancel();
    this.#offDisconnect();
    this.#resolveClosed(reason);
  }

  async #pumpWrites(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        if (item.kind === 'disconnect') {
          this.#queue = [];
          // Let the writes handed to the host stack leave before the link goes.
          await delay(this.#scheduler, DISCONNECT_GRACE_MS);
          await this.connection.disconnect();
          return;
        }
        try {
          await this.connection.write(item.value, { withResponse: item.withResponse });
        } catch (e) {
          this.#queue = [];
          if (isLinkDown(e)) return; // the disconnect listener tells the engine
          // Anything else (a value too long for the link...) cannot be repaired: close.
          const code = e instanceof PawLinkError ? e.code : 'error';
          this.act((engine, now) => engine.close(now, `write failed: ${code}`));
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

export interface ToyDriverOptions {
  /** Time for the engine's timers (default: real time). Use the link's scheduler. */
  scheduler?: Scheduler;
}

interface ToyConnection {
  id: ConnectionId;
  conn: PeripheralConnection;
  /** When the link came up (the engine's connection starts then). */
  since: number;
  started: boolean;
  guard: Timer | undefined;
  dropping: boolean;
}

/** Drives a `ToyEngine` (the toy's protocol engine) over a peripheral and all its connections. */
export class ToyDriver {
  readonly #scheduler: Scheduler;
  readonly #events = new Listeners<[ToyEvent]>();
  readonly #timer: DeadlineTimer;
  readonly #flusher: Flusher;
  readonly #connections = new Map<ConnectionId, ToyConnection>();
  #nextId = 0;
  #offConnect: Unsubscribe | undefined;

  constructor(
    readonly engine: ToyEngine,
    readonly peripheral: Peripheral,
    options: ToyDriverOptions = {},
  ) {
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#timer = new DeadlineTimer(this.#scheduler, () => this.act((e, now) => e.tick(now)));
    this.#flusher = new Flusher(() => this.#flushOnce());
  }

  /** Starts serving the peripheral's connections (advertising is the caller's: `peripheral.advertise`). */
  start(): void {
    if (this.#offConnect) return;
    this.#offConnect = this.peripheral.onConnect((conn) => this.#accept(conn));
    this.act(() => undefined);
  }

  onEvent(listener: (event: ToyEvent) => void): Unsubscribe {
    return this.#events.add(listener);
  }

  /** Calls `fn(engine, now)`, then sends what the engine produced and re-arms its timer. */
  act<T>(fn: (engine: ToyEngine, now: number) => T): T {
    try {
      return fn(this.engine, this.#scheduler.now());
    } finally {
      this.#flusher.run();
    }
  }

  /** The link behind an engine connection id, while it is up. */
  connection(id: ConnectionId): PeripheralConnection | undefined {
    return this.#connections.get(id)?.conn;
  }

  /** Stops accepting connections, drops every connection and stops the engine's timer. */
  async stop(reason = 'toy stopped'): Promise<void> {
    this.#offConnect?.();
    this.#offConnect = undefined;
    const links = [...this.#connections.values()].map((c) => c.conn);
    this.act((e, now) => e.disconnectAll(reason, now));
    await Promise.all(links.map((c) => c.disconnect()));
    this.#timer.cancel();
  }

  #accept(conn: PeripheralConnection): void {
    const c: ToyConnection = {
      id: ++this.#nextId,
      conn,
      since: this.#scheduler.now(),
      started: false,
      guard: undefined,
      dropping: false,
    };
    this.#connections.set(c.id, c);
    // A central that neither subscribes nor writes never reaches the engine: drop it at the same
    // limit the engine applies to unauthenticated connections.
    c.guard = this.#scheduler.setTimer(() => {
      if (!c.started) void conn.disconnect();
    }, AUTH_TIMEOUT_MS);
    conn.onSubscribe((subscribed) => {
      if (subscribed) this.#start(c);
    });
    conn.onWrite((value) => {
      this.#start(c);
      this.act((e, now) => e.write(c.id, value, now));
    });
    conn.onDisconnect(() => {
      c.guard?.cancel();
      this.#connections.delete(c.id);
      if (c.started) this.act((e, now) => e.disconnected(c.id, now));
    });
  }

  #start(c: ToyConnection): void {
    if (c.started || !this.#connections.has(c.id)) return;
    c.started = true;
    c.guard?.cancel();
    c.guard = undefined;
    this.act((e) => e.connect(c.id, c.conn.mtu, c.since));
  }

  #flushOnce(): void {
    for (const o of this.engine.takeOutputs()) {
      if (o.kind === 'event') {
        this.#events.emit(o.event);
        continue;
      }
      const c = this.#connections.get(o.connectionId);
      if (!c || c.dropping) continue;
      if (o.kind === 'notify') {
        try {
          c.conn.notify(o.value);
        } catch (e) {
          if (!isLinkDown(e)) this.#drop(c, 0); // NOT_SUBSCRIBED: the central cannot hear us
        }
      } else {
        this.#drop(c, DISCONNECT_GRACE_MS);
      }
    }
    this.#timer.arm(this.engine.nextDeadline());
  }

  #drop(c: ToyConnection, graceMs: number): void {
    c.dropping = true;
    // Let the notifications queued before it (an Alert) leave the host stack first.
    this.#scheduler.setTimer(() => void c.conn.disconnect(), graceMs);
  }
}
