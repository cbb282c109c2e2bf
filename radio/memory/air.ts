/**
 * The in-memory link: centrals and peripherals on a shared "air" in one process, keeping every
 * rule of radio/link.ts, asynchronous like the real thing, on an injected scheduler (real timers
 * or a `ManualClock`), with test hooks.
 *
 * Model. Each connection carries two ordered pipes, central → peripheral and peripheral → central.
 * Every ATT exchange travels through them: writes, write responses, notifications, reads, the MTU
 * exchange, discovery, the subscription and the disconnect. A value spends `latencyMs` in flight;
 * at most `bufferPackets` values are in flight per direction (the controller's buffers) and the
 * rest wait in the sender's host queue, in order. A Write Without Response resolves when its value
 * leaves the host queue; notifications never wait (bleno's host queue is unbounded) unless a test
 * sets `notificationQueueLimit`, beyond which new notifications are dropped and counted, as some
 * stacks do when their buffers are full.
 *
 * Disconnects. A side that disconnects sends its queued values first, then the link goes down for
 * both sides at once (reasons `local` and `remote`). A lost link (`drop`, `dropAfterBytes`, going
 * out of range) stops carrying anything at once; both sides learn of it `supervisionTimeoutMs`
 * later (reason `link-lost`), like a real supervision timeout.
 *
 *   const air = new MemoryAir({ scheduler: new ManualClock({ auto: true }) });
 *   const toy = air.createPeripheral({ info: () => infoBytes });
 *   const phone = air.createCentral();
 *   air.onLink((link) => link.dropAfterBytes(10_000));   // a fault in the next connection
 */
import { ADV_SERVICE_DATA_MAX, SERVICE_UUID } from '../../protocol/gatt/constants.js';
import { seededRandom } from '../../protocol/random.js';
import { realScheduler, type Scheduler, type Timer } from '../clock.js';
import {
  ATT_HEADER_LENGTH,
  ATT_MTU_DEFAULT,
  ATT_MTU_MAX,
  BLE_HOST_MTU,
  CONNECT_TIMEOUT_MS,
  DEFAULT_SUPERVISION_TIMEOUT_MS,
  MEMORY_ADVERTISING_INTERVAL_MS,
  MEMORY_LATENCY_MS,
  MEMORY_RSSI_DBM,
} from '../constants.js';
import type { RadioError } from '../errors.js';
import { AsyncQueue, type Deferred, deferred, Listeners, normalizeUuid, radioError } from '../internal.js';
import type {
  AdvertiseOptions,
  Central,
  CentralConnection,
  ConnectOptions,
  DisconnectInfo,
  DisconnectReason,
  DiscoveredToy,
  Peripheral,
  PeripheralConnection,
  PeripheralOptions,
  ScanOptions,
  Unsubscribe,
} from '../link.js';

/** Link behaviour; the air's `defaults` apply to each new link, a link's own fields to itself. */
export interface MemoryLinkOptions {
  /** One-way delay of each value, ms (default 7.5: half a 15 ms connection interval). */
  latencyMs?: number;
  /** Values in flight per direction (controller buffers); default unlimited. */
  bufferPackets?: number;
  /** Notifications that may wait in the peripheral's host queue before new ones are dropped; default unlimited. */
  notificationQueueLimit?: number;
  /** Time from a link loss until both sides are told, ms (default 420: noble's supervision timeout). */
  supervisionTimeoutMs?: number;
}

export interface MemoryAirOptions extends MemoryLinkOptions {
  /** Time source (default: real timers). Use `new ManualClock({ auto: true })` for fast, exact tests. */
  scheduler?: Scheduler;
  /** How often each advertiser is heard by a scanning central, ms (default 100). */
  advertisingIntervalMs?: number;
  /** Fraction of advertising reports lost, 0–1 (default 0). */
  advertisingLoss?: number;
  /** Seed of the loss draws (default 'memory air'). */
  seed?: string;
}

export interface MemoryCentralOptions {
  /** The ATT_MTU this central asks for in the MTU exchange (default 256, as noble). */
  mtu?: number;
  address?: string;
}

export interface MemoryPeripheralOptions extends PeripheralOptions {
  address?: string;
  /** Signal strength scanners and connected centrals see, dBm (default −60). */
  rssi?: number;
}

/** What a link carried (payload bytes are values written or notified, and INFO reads). */
export interface MemoryLinkStats {
  valuesToPeripheral: number;
  bytesToPeripheral: number;
  valuesToCentral: number;
  bytesToCentral: number;
  droppedNotifications: number;
}

type LinkState = 'up' | 'lost' | 'down';

interface PipeItem {
  /** Payload bytes (0 for ATT control traffic). */
  bytes: number;
  notification: boolean;
  /** Called when the item leaves the host queue for the link. */
  onSent?: () => void;
  /** Called on arrival (only while the link is up). */
  deliver: () => void;
}

/** One direction of a link: a host queue, then at most `bufferPackets` items in flight. */
class Pipe {
  #queue: PipeItem[] = [];
  #inFlight = 0;
  #lastArrival = Number.NEGATIVE_INFINITY;
  #timers = new Set<Timer>();

  constructor(
    readonly link: MemoryLink,
    readonly toCentral: boolean,
  ) {}

  send(item: PipeItem): void {
    if (item.notification && this.#queuedNotifications() >= this.link.notificationQueueLimit) {
      this.link.stats.droppedNotifications++;
      return;
    }
    this.#queue.push(item);
    this.#pump();
  }

  #queuedNotifications(): number {
    let n = 0;
    for (const i of this.#queue) if (i.notification) n++;
    return n;
  }

  #pump(): void {
    const sched = this.link.air.scheduler;
    while (this.link.state === 'up' && this.#inFlight < this.link.bufferPackets && this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      this.#inFlight++;
      item.onSent?.();
      const arrival = Math.max(sched.now() + this.link.latencyMs, this.#lastArrival);
      this.#lastArrival = arrival;
      const timer = sched.setTimer(() => {
        this.#timers.delete(timer);
        this.#inFlight--;
        if (this.link.state !== 'up') return;
        if (!this.link.carry(item.bytes, this.toCentral)) return;
        item.deliver();
        this.#pump();
      }, arrival - sched.now());
      this.#timers.add(timer);
    }
  }

  /** Everything queued or in flight is lost. */
  clear(): void {
    this.#queue = [];
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.#inFlight = 0;
  }
}

/** One connection, with the test hooks. */
export class MemoryLink {
  readonly central: MemoryCentralConnection;
  readonly peripheral: MemoryPeripheralConnection;
  readonly stats: MemoryLinkStats = {
    valuesToPeripheral: 0,
    bytesToPeripheral: 0,
    valuesToCentral: 0,
    bytesToCentral: 0,
    droppedNotifications: 0,
  };
  latencyMs: number;
  bufferPackets: number;
  notificationQueueLimit: number;
  supervisionTimeoutMs: number;
  #state: LinkState = 'up';
  #byteBudget: number | undefined;
  #supervision: Timer | undefined;
  readonly #up: Pipe;
  readonly #down: Pipe;

  /** @internal */
  constructor(
    readonly air: MemoryAir,
    central: MemoryCentral,
    peripheral: MemoryPeripheral,
    peripheralId: string,
  ) {
    const d = air.defaults;
    this.latencyMs = d.latencyMs;
    this.bufferPackets = d.bufferPackets;
    this.notificationQueueLimit = d.notificationQueueLimit;
    this.supervisionTimeoutMs = d.supervisionTimeoutMs;
    this.#up = new Pipe(this, false);
    this.#down = new Pipe(this, true);
    this.central = new MemoryCentralConnection(this, central, peripheralId);
    this.peripheral = new MemoryPeripheralConnection(
      this,
      peripheral,
      `${central.address}/${air.nextHandle()}`,
    );
  }

  /** 'up', 'lost' (nothing is carried; the sides are told at the supervision timeout) or 'down'. */
  get state(): LinkState {
    return this.#state;
  }

  /** Loses the link now: nothing more is carried; both sides learn of it after the supervision timeout. */
  drop(): void {
    if (this.#state !== 'up') return;
    this.#state = 'lost';
    this.#up.clear();
    this.#down.clear();
    this.#supervision = this.air.scheduler.setTimer(
      () => this.#goDown('link-lost'),
      this.supervisionTimeoutMs,
    );
  }

  /** Loses the link as soon as more than `bytes` further payload bytes would have arrived (either way). */
  dropAfterBytes(bytes: number): void {
    this.#byteBudget = bytes;
  }

  /** @internal Accounts for an arriving item; false when the link was lost instead. */
  carry(bytes: number, toCentral: boolean): boolean {
    if (bytes > 0 && this.#byteBudget !== undefined) {
      if (bytes > this.#byteBudget) {
        this.#byteBudget = undefined;
        this.drop();
        return false;
      }
      this.#byteBudget -= bytes;
    }
    if (bytes > 0) {
      if (toCentral) {
        this.stats.valuesToCentral++;
        this.stats.bytesToCentral += bytes;
      } else {
        this.stats.valuesToPeripheral++;
        this.stats.bytesToPeripheral += bytes;
      }
    }
    return true;
  }

  /** @internal */
  send(toCentral: boolean, item: PipeItem): void {
    if (this.#state !== 'up') return; // a lost link swallows everything
    (toCentral ? this.#down : this.#up).send(item);
  }

  /** @internal A side asks to disconnect: its queued values go first, then the link is down. */
  terminate(byCentral: boolean): void {
    if (this.#state === 'up') {
      this.send(!byCentral, {
        bytes: 0,
        notification: false,
        deliver: () => this.#goDown(byCentral ? 'central' : 'peripheral'),
      });
    }
    // A lost link ends at its supervision timeout; the side that asked reports `local` then.
  }

  /** `who` initiated it, or the link was lost. */
  #goDown(who: 'central' | 'peripheral' | 'link-lost'): void {
    if (this.#state === 'down') return;
    this.#state = 'down';
    this.#supervision?.cancel();
    this.#up.clear();
    this.#down.clear();
    this.air.linkDown(this);
    const reasonFor = (side: 'central' | 'peripheral', asked: boolean): DisconnectReason => {
      if (who === 'link-lost') return asked ? 'local' : 'link-lost';
      return who === side ? 'local' : 'remote';
    };
    this.central.linkDown(reasonFor('central', this.central.disconnecting));
    this.peripheral.linkDown(reasonFor('peripheral', this.peripheral.disconnecting));
  }
}

const HCI_FOR: Record<DisconnectReason, number> = { local: 0x16, remote: 0x13, 'link-lost': 0x08 };

function disconnectInfo(reason: DisconnectReason): DisconnectInfo {
  const what = { local: 'by this side', remote: 'by the peer', 'link-lost': 'the link was lost' }[reason];
  return {
    reason,
    hciReason: HCI_FOR[reason],
    error: radioError('DISCONNECTED', `disconnected (${what})`),
  };
}

/** Operations pending on one side of a connection, failed together when it goes down. */
class PendingOps {
  #ops = new Set<Deferred<unknown>>();

  track<T>(d: Deferred<T>): Deferred<T> {
    this.#ops.add(d as Deferred<unknown>);
    d.promise.then(
      () => this.#ops.delete(d as Deferred<unknown>),
      () => this.#ops.delete(d as Deferred<unknown>),
    );
    return d;
  }

  failAll(error: RadioError): void {
    for (const d of [...this.#ops]) d.reject(error);
    this.#ops.clear();
  }
}

export class MemoryCentralConnection implements CentralConnection {
  #mtu = ATT_MTU_DEFAULT;
  #writePending = false;
  #ops = new PendingOps();
  #notify = new Listeners<[Uint8Array]>();
  #disconnect = new Listeners<[DisconnectInfo]>();
  #downInfo: DisconnectInfo | undefined;
  #downWaiter = deferred<void>();
  #subscribed = false;
  /** @internal */
  disconnecting = false;

  /** @internal */
  constructor(
    readonly link: MemoryLink,
    readonly central: MemoryCentral,
    readonly id: string,
  ) {}

  get mtu(): number {
    return this.#mtu;
  }

  get maxWriteLength(): number {
    return this.#mtu - ATT_HEADER_LENGTH;
  }

  get connected(): boolean {
    return this.#downInfo === undefined && !this.disconnecting;
  }

  /** @internal Runs the MTU exchange and discovery; resolves when both are done. */
  setUp(requestedMtu: number): Promise<void> {
    const d = this.#ops.track(deferred<void>());
    this.link.send(false, {
      bytes: 0,
      notification: false,
      deliver: () => {
        const mtu = this.link.peripheral.exchangeMtu(requestedMtu);
        this.link.send(true, {
          bytes: 0,
          notification: false,
          deliver: () => {
            this.#mtu = mtu;
            // Service and characteristic discovery: one more round trip.
            this.#roundTrip(() => undefined).then(() => d.resolve(), d.reject);
          },
        });
      },
    });
    return d.promise;
  }

  #check(): void {
    if (!this.connected) throw radioError('NOT_CONNECTED', 'the connection is down');
  }

  /** A request the peripheral answers with `answer()` on arrival. */
  #roundTrip<T>(answer: () => T, requestBytes = 0, responseBytes?: (t: T) => number): Promise<T> {
    const d = this.#ops.track(deferred<T>());
    this.link.send(false, {
      bytes: requestBytes,
      notification: false,
      deliver: () => {
        let result: T;
        try {
          result = answer();
        } catch (e) {
          this.link.send(true, { bytes: 0, notification: false, deliver: () => d.reject(e) });
          return;
        }
        this.link.send(true, {
          bytes: responseBytes ? responseBytes(result) : 0,
          notification: false,
          deliver: () => d.resolve(result),
        });
      },
    });
    return d.promise;
  }

  async readInfo(): Promise<Uint8Array> {
    this.#check();
    return this.#roundTrip(
      () => this.link.peripheral.readInfo(),
      0,
      (v) => v.length,
    );
  }

  async write(value: Uint8Array, options: { withResponse: boolean }): Promise<void> {
    this.#check();
    if (value.length > this.maxWriteLength) {
      throw radioError(
        'WRITE_TOO_LONG',
        `a ${value.length}-byte write exceeds ATT_MTU − 3 = ${this.maxWriteLength} bytes`,
      );
    }
    if (this.#writePending) throw radioError('WRITE_IN_PROGRESS', 'another write is pending');
    this.#writePending = true;
    const copy = value.slice();
    try {
      if (options.withResponse) {
        await this.#roundTrip(() => this.link.peripheral.receiveWrite(copy, false), copy.length);
      } else {
        const d = this.#ops.track(deferred<void>());
        this.link.send(false, {
          bytes: copy.length,
          notification: false,
          onSent: () => d.resolve(),
          deliver: () => this.link.peripheral.receiveWrite(copy, true),
        });
        await d.promise;
      }
    } finally {
      this.#writePending = false;
    }
  }

  async subscribe(onNotify: (value: Uint8Array) => void): Promise<void> {
    this.#check();
    this.#notify.add(onNotify);
    if (this.#subscribed) {
      await new Promise<void>((resolve) => this.link.air.scheduler.setTimer(resolve, 0));
      return;
    }
    this.#subscribed = true;
    await this.#roundTrip(() => this.link.peripheral.setSubscribed(true));
  }

  /** @internal A notification arrived. */
  receiveNotification(value: Uint8Array): void {
    if (this.#downInfo) return;
    this.#notify.emit(value);
  }

  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe {
    if (this.#downInfo) {
      const info = this.#downInfo;
      const t = this.link.air.scheduler.setTimer(() => listener(info), 0);
      return () => t.cancel();
    }
    return this.#disconnect.add(listener);
  }

  async disconnect(): Promise<void> {
    if (this.#downInfo) return;
    if (!this.disconnecting) {
      this.disconnecting = true;
      this.link.terminate(true);
    }
    await this.#downWaiter.promise;
  }

  async rssi(): Promise<number> {
    this.#check();
    const d = this.#ops.track(deferred<number>());
    this.link.air.scheduler.setTimer(() => d.resolve(this.link.peripheral.peripheral.rssi), 0);
    return d.promise;
  }

  /** @internal */
  linkDown(reason: DisconnectReason): void {
    if (this.#downInfo) return;
    const info = disconnectInfo(reason);
    this.#downInfo = info;
    this.#ops.failAll(info.error);
    this.central.connectionDown(this);
    this.#disconnect.emit(info);
    this.#disconnect.clear();
    this.#notify.clear();
    this.#downWaiter.resolve();
  }
}

export class MemoryPeripheralConnection implements PeripheralConnection {
  #mtu = ATT_MTU_DEFAULT;
  #subscribed = false;
  #writes = new Listeners<[Uint8Array, boolean]>();
  #subscribe = new Listeners<[boolean]>();
  #disconnect = new Listeners<[DisconnectInfo]>();
  #held: Array<[Uint8Array, boolean]> = [];
  #flushTimer: Timer | undefined;
  #downInfo: DisconnectInfo | undefined;
  #downWaiter = deferred<void>();
  /** @internal */
  disconnecting = false;

  /** @internal */
  constructor(
    readonly link: MemoryLink,
    readonly peripheral: MemoryPeripheral,
    readonly id: string,
  ) {}

  get mtu(): number {
    return this.#mtu;
  }

  get subscribed(): boolean {
    return this.#subscribed;
  }

  get connected(): boolean {
    return this.#downInfo === undefined && !this.disconnecting;
  }

  /** @internal The central's MTU request arrived: returns the negotiated MTU. */
  exchangeMtu(requested: number): number {
    this.#mtu = Math.min(Math.max(requested, ATT_MTU_DEFAULT), this.peripheral.maxMtu);
    return this.#mtu;
  }

  /** @internal */
  readInfo(): Uint8Array {
    return this.peripheral.info().slice();
  }

  /** @internal */
  receiveWrite(value: Uint8Array, withoutResponse: boolean): void {
    if (this.#writes.size === 0 || this.#held.length > 0) {
      this.#held.push([value, withoutResponse]);
      return;
    }
    this.#writes.emit(value, withoutResponse);
  }

  /** @internal */
  setSubscribed(subscribed: boolean): void {
    if (this.#subscribed === subscribed) return;
    this.#subscribed = subscribed;
    this.#subscribe.emit(subscribed);
  }

  onWrite(listener: (value: Uint8Array, withoutResponse: boolean) => void): Unsubscribe {
    const off = this.#writes.add(listener);
    if (this.#held.length > 0 && !this.#flushTimer) {
      this.#flushTimer = this.link.air.scheduler.setTimer(() => {
        this.#flushTimer = undefined;
        const held = this.#held;
        this.#held = [];
        for (const [v, wr] of held) this.#writes.emit(v, wr);
      }, 0);
    }
    return off;
  }

  onSubscribe(listener: (subscribed: boolean) => void): Unsubscribe {
    return this.#subscribe.add(listener);
  }

  notify(value: Uint8Array): void {
    if (!this.connected) throw radioError('NOT_CONNECTED', 'the connection is down');
    if (!this.#subscribed) throw radioError('NOT_SUBSCRIBED', 'the central has not enabled notifications');
    const copy = value.slice(0, this.#mtu - ATT_HEADER_LENGTH);
    const central = this.link.central;
    this.link.send(true, {
      bytes: copy.length,
      notification: true,
      deliver: () => central.receiveNotification(copy),
    });
  }

  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe {
    if (this.#downInfo) {
      const info = this.#downInfo;
      const t = this.link.air.scheduler.setTimer(() => listener(info), 0);
      return () => t.cancel();
    }
    return this.#disconnect.add(listener);
  }

  async disconnect(): Promise<void> {
    if (this.#downInfo) return;
    if (!this.disconnecting) {
      this.disconnecting = true;
      this.link.terminate(false);
    }
    await this.#downWaiter.promise;
  }

  /** @internal */
  linkDown(reason: DisconnectReason): void {
    if (this.#downInfo) return;
    const info = disconnectInfo(reason);
    this.#downInfo = info;
    this.#subscribed = false;
    this.#held = [];
    this.#flushTimer?.cancel();
    this.peripheral.connectionDown(this);
    this.#disconnect.emit(info);
    this.#disconnect.clear();
    this.#writes.clear();
    this.#subscribe.clear();
    this.#downWaiter.resolve();
  }
}

function checkMtu(mtu: number, what: string): number {
  if (!Number.isInteger(mtu) || mtu < ATT_MTU_DEFAULT || mtu > ATT_MTU_MAX) {
    throw radioError('BAD_OPTION', `${what} ${mtu} is outside ${ATT_MTU_DEFAULT}..${ATT_MTU_MAX}`);
  }
  return mtu;
}

export class MemoryCentral implements Central {
  readonly kind = 'memory';
  readonly address: string;
  /** The ATT_MTU asked for in the next connections' MTU exchange (a per-connection hook). */
  mtu: number;
  #known = new Set<string>();
  #connections = new Set<MemoryCentralConnection>();
  #scan: AsyncQueue<DiscoveredToy> | undefined;
  #closed = false;

  /** @internal */
  constructor(
    readonly air: MemoryAir,
    options: MemoryCentralOptions,
  ) {
    this.mtu = checkMtu(options.mtu ?? BLE_HOST_MTU, 'central MTU');
    this.address = options.address ?? air.nextAddress();
  }

  #checkOpen(): void {
    if (this.#closed) throw radioError('CLOSED', 'the central is closed');
  }

  scan(options: ScanOptions): AsyncIterable<DiscoveredToy> {
    return { [Symbol.asyncIterator]: () => this.#startScan(options)[Symbol.asyncIterator]() };
  }

  #startScan(options: ScanOptions): AsyncQueue<DiscoveredToy> {
    const failed = (e: RadioError) => {
      const q = new AsyncQueue<DiscoveredToy>();
      q.fail(e);
      return q;
    };
    if (this.#closed) return failed(radioError('CLOSED', 'the central is closed'));
    if (this.#scan) return failed(radioError('SCAN_IN_PROGRESS', 'a scan is already running'));
    const wanted = normalizeUuid(options.serviceUuid ?? SERVICE_UUID);
    const ours = wanted === normalizeUuid(SERVICE_UUID);
    /** Per advertiser, the service data last yielded (hex; '' for none). */
    const seen = new Map<string, string>();
    const sched = this.air.scheduler;
    let tick: Timer | undefined;
    const end = sched.setTimer(() => queue.end(), options.timeoutMs);
    const queue = new AsyncQueue<DiscoveredToy>(() => {
      tick?.cancel();
      end.cancel();
      if (this.#scan === queue) this.#scan = undefined;
    });
    const listen = () => {
      tick = sched.setTimer(() => {
        for (const p of this.air.hear()) {
          const dataKey = p.serviceData ? Buffer.from(p.serviceData).toString('hex') : '';
          if (!ours || seen.get(p.id) === dataKey) continue;
          const serviceData = p.serviceData?.slice();
          if (options.filter && !options.filter(serviceData)) continue;
          seen.set(p.id, dataKey);
          this.#known.add(p.id);
          queue.push({ id: p.id, address: p.address, rssi: p.rssi, serviceData });
        }
        if (!queue.finished) listen();
      }, this.air.advertisingIntervalMs);
    };
    listen();
    this.#scan = queue;
    return queue;
  }

  async connect(id: string, options: ConnectOptions = {}): Promise<CentralConnection> {
    this.#checkOpen();
    if (!this.#known.has(id)) throw radioError('NOT_FOUND', `no scan of this central reported ${id}`);
    this.#scan?.end();
    const sched = this.air.scheduler;
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    const started = sched.now();
    // Wait for the toy's next advertisement, as LE Create Connection does.
    const peripheral = await new Promise<MemoryPeripheral>((resolve, reject) => {
      const attempt = () => {
        if (this.#closed) return reject(radioError('CLOSED', 'the central is closed'));
        const p = this.air.findAdvertiser(id);
        if (p) return resolve(p);
        if (sched.now() - started >= timeoutMs) {
          return reject(radioError('TIMEOUT', `${id} did not become connectable within ${timeoutMs} ms`));
        }
        sched.setTimer(
          attempt,
          Math.min(this.air.advertisingIntervalMs, timeoutMs - (sched.now() - started)),
        );
      };
      sched.setTimer(attempt, this.air.defaults.latencyMs);
    });
    const link = this.air.createLink(this, peripheral, id);
    const conn = link.central;
    this.#connections.add(conn);
    const remaining = Math.max(0, timeoutMs - (sched.now() - started));
    let timer: Timer | undefined;
    try {
      await Promise.race([
        conn.setUp(this.mtu),
        new Promise<never>((_, reject) => {
          timer = sched.setTimer(
            () => reject(radioError('TIMEOUT', `connection set-up did not finish within ${timeoutMs} ms`)),
            remaining,
          );
        }),
      ]);
    } catch (e) {
      void conn.disconnect();
      throw e;
    } finally {
      timer?.cancel();
    }
    if (this.#closed) {
      await conn.disconnect();
      throw radioError('CLOSED', 'the central is closed');
    }
    return conn;
  }

  /** @internal */
  connectionDown(conn: MemoryCentralConnection): void {
    this.#connections.delete(conn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#scan?.end();
    await Promise.all([...this.#connections].map((c) => c.disconnect()));
  }
}

export class MemoryPeripheral implements Peripheral {
  readonly kind = 'memory';
  readonly id: string;
  readonly address: string;
  readonly maxMtu: number;
  /** Signal strength others see, dBm (a hook: change it any time). */
  rssi: number;
  /** False while out of range (set through `MemoryAir.setInRange`). */
  inRange = true;
  readonly info: () => Uint8Array;
  #serviceData: Uint8Array | undefined;
  #connect = new Listeners<[MemoryPeripheralConnection]>();
  #connections = new Set<MemoryPeripheralConnection>();
  #closed = false;

  /** @internal */
  constructor(
    readonly air: MemoryAir,
    options: MemoryPeripheralOptions,
  ) {
    this.maxMtu = checkMtu(options.maxMtu ?? BLE_HOST_MTU, 'peripheral max MTU');
    this.address = options.address ?? air.nextAddress();
    this.id = this.address.replaceAll(':', '').toLowerCase();
    this.rssi = options.rssi ?? MEMORY_RSSI_DBM;
    this.info = options.info;
  }

  /** The advertised service data, or undefined when not advertising. */
  get serviceData(): Uint8Array | undefined {
    return this.#serviceData;
  }

  get advertising(): boolean {
    return this.#serviceData !== undefined;
  }

  get connections(): ReadonlySet<MemoryPeripheralConnection> {
    return this.#connections;
  }

  #turn(): Promise<void> {
    return new Promise((resolve) => this.air.scheduler.setTimer(resolve, 0));
  }

  async advertise(options: AdvertiseOptions): Promise<void> {
    if (this.#closed) throw radioError('CLOSED', 'the peripheral is closed');
    if (options.serviceData.length > ADV_SERVICE_DATA_MAX) {
      throw radioError(
        'ADV_DATA_TOO_LONG',
        `${options.serviceData.length} bytes of service data exceed the ${ADV_SERVICE_DATA_MAX} a scan response holds`,
      );
    }
    this.#serviceData = options.serviceData.slice();
    await this.#turn();
  }

  async stopAdvertising(): Promise<void> {
    if (this.#closed) throw radioError('CLOSED', 'the peripheral is closed');
    this.#serviceData = undefined;
    await this.#turn();
  }

  onConnect(listener: (conn: PeripheralConnection) => void): Unsubscribe {
    return this.#connect.add(listener);
  }

  /** @internal */
  accept(conn: MemoryPeripheralConnection): void {
    this.#connections.add(conn);
    this.#connect.emit(conn);
  }

  /** @internal */
  connectionDown(conn: MemoryPeripheralConnection): void {
    this.#connections.delete(conn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#serviceData = undefined;
    this.air.removePeripheral(this);
    await Promise.all([...this.#connections].map((c) => c.disconnect()));
  }
}

/** Centrals and peripherals that hear each other, and the links between them. */
export class MemoryAir {
  readonly scheduler: Scheduler;
  /** Applied to each new link (change them to affect the next connections). */
  readonly defaults: Required<MemoryLinkOptions>;
  advertisingIntervalMs: number;
  /** Fraction of advertising reports lost, 0–1. */
  advertisingLoss: number;
  readonly #random: (n: number) => Uint8Array;
  #peripherals = new Set<MemoryPeripheral>();
  #links = new Set<MemoryLink>();
  #onLink = new Listeners<[MemoryLink]>();
  #addresses = 0;
  #handles = 0;

  constructor(options: MemoryAirOptions = {}) {
    this.scheduler = options.scheduler ?? realScheduler;
    this.defaults = {
      latencyMs: options.latencyMs ?? MEMORY_LATENCY_MS,
      bufferPackets: options.bufferPackets ?? Number.POSITIVE_INFINITY,
      notificationQueueLimit: options.notificationQueueLimit ?? Number.POSITIVE_INFINITY,
      supervisionTimeoutMs: options.supervisionTimeoutMs ?? DEFAULT_SUPERVISION_TIMEOUT_MS,
    };
    this.advertisingIntervalMs = options.advertisingIntervalMs ?? MEMORY_ADVERTISING_INTERVAL_MS;
    this.advertisingLoss = options.advertisingLoss ?? 0;
    this.#random = seededRandom(options.seed ?? 'memory air');
  }

  createCentral(options: MemoryCentralOptions = {}): MemoryCentral {
    return new MemoryCentral(this, options);
  }

  createPeripheral(options: MemoryPeripheralOptions): MemoryPeripheral {
    const p = new MemoryPeripheral(this, options);
    this.#peripherals.add(p);
    return p;
  }

  /** Links that are up or lost but not yet reported. */
  get links(): ReadonlySet<MemoryLink> {
    return this.#links;
  }

  /** Called with each new link as soon as it is up (before either side hears of it). */
  onLink(listener: (link: MemoryLink) => void): Unsubscribe {
    return this.#onLink.add(listener);
  }

  /** Out of range: its advertisements are no longer heard and its links are lost. */
  setInRange(peripheral: MemoryPeripheral, inRange: boolean): void {
    peripheral.inRange = inRange;
    if (inRange) return;
    for (const link of this.#links) if (link.peripheral.peripheral === peripheral) link.drop();
  }

  /** @internal Advertisers a scanning central hears in one advertising interval. */
  hear(): MemoryPeripheral[] {
    return [...this.#peripherals].filter((p) => {
      if (!p.advertising || !p.inRange) return false;
      return this.advertisingLoss <= 0 || this.#random(1)[0]! / 256 >= this.advertisingLoss;
    });
  }

  /** @internal */
  findAdvertiser(id: string): MemoryPeripheral | undefined {
    for (const p of this.#peripherals) if (p.id === id && p.advertising && p.inRange) return p;
    return undefined;
  }

  /** @internal */
  createLink(central: MemoryCentral, peripheral: MemoryPeripheral, id: string): MemoryLink {
    const link = new MemoryLink(this, central, peripheral, id);
    this.#links.add(link);
    this.#onLink.emit(link);
    peripheral.accept(link.peripheral);
    return link;
  }

  /** @internal */
  linkDown(link: MemoryLink): void {
    this.#links.delete(link);
  }

  /** @internal */
  removePeripheral(p: MemoryPeripheral): void {
    this.#peripherals.delete(p);
  }

  /** @internal */
  nextAddress(): string {
    const n = ++this.#addresses;
    return `c0:de:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
  }

  /** @internal */
  nextHandle(): number {
    return ++this.#handles;
  }
}
