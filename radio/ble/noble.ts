/**
 * The central over noble, for both families (@abandonware/noble 1.9, @stoprocent/noble 2.8), on
 * the virtual radio or a real adapter. A thin adapter: noble does HCI, L2CAP, ATT and GATT; this
 * file turns its callbacks and events into the rules of radio/link.ts — one write at a time,
 * sizes checked before sending, pending operations failed on disconnect (noble leaves their
 * callbacks hanging), timeouts, and a close that leaves nothing running.
 *
 * The two families share the API used here (scan, connect, discover, read, write, subscribe,
 * RSSI, disconnect); they differ in how they are built and started (`startNoble`).
 */
import type { EventEmitter } from 'node:events';
import { INFO_CHAR_UUID, RX_CHAR_UUID, SERVICE_UUID, TX_CHAR_UUID } from '../../protocol/gatt/constants.js';
import { realScheduler, type Scheduler } from '../clock.js';
import {
  ATT_HEADER_LENGTH,
  ATT_MTU_DEFAULT,
  ATT_TRANSACTION_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  DISCONNECT_TIMEOUT_MS,
  GAP_COMMAND_TIMEOUT_MS,
} from '../constants.js';
import type { RadioError } from '../errors.js';
import { AsyncQueue, type Deferred, deferred, Listeners, normalizeUuid, radioError } from '../internal.js';
import type {
  Central,
  CentralConnection,
  ConnectOptions,
  DisconnectInfo,
  DiscoveredToy,
  ScanOptions,
  Unsubscribe,
} from '../link.js';
import {
  type BleFamily,
  type HciLike,
  hostError,
  loadFresh,
  ProcessListenerTrap,
  stopHci,
  unrefDevicePoll,
  withEnv,
} from './family.js';
import { disconnectReason, type HostOptions, waitForPowerOn } from './host.js';

// ---- the parts of noble this adapter uses (both families) -----------------------------------

type Callback<T = void> = (error?: Error | string | null, value?: T) => void;

interface NobleCharacteristic extends EventEmitter {
  uuid: string;
  read(cb: (error: Error | null | undefined, data: Buffer) => void): void;
  write(data: Buffer, withoutResponse: boolean, cb: Callback): void;
  subscribe(cb: Callback): void;
}

interface NoblePeripheral extends EventEmitter {
  id: string;
  address: string;
  rssi: number;
  mtu: number | null;
  state: string;
  advertisement: { serviceData?: Array<{ uuid: string; data: Buffer }>; serviceUuids?: string[] };
  connect(cb: Callback): void;
  cancelConnect(): void;
  disconnect(): void;
  updateRssi(cb: (error: Error | null | undefined, rssi: number) => void): void;
  discoverSomeServicesAndCharacteristics(
    services: string[],
    characteristics: string[],
    cb: (error: Error | string | null, services: unknown[], characteristics: NobleCharacteristic[]) => void,
  ): void;
}

interface Noble extends EventEmitter {
  _state: string;
  _bindings: { _hci?: HciLike; init?: () => void };
  startScanning(uuids: string[], allowDuplicates: boolean, cb: Callback): void;
  stopScanning(cb?: () => void): void;
  stop?: () => void;
}

/** How many reports without service data before such an advertiser is yielded anyway (a macOS toy). */
const REPORTS_WITHOUT_SERVICE_DATA = 3;

/** Builds and starts a noble of the family; resolves once it is powered on. */
async function startNoble(
  family: BleFamily,
  options: HostOptions,
): Promise<{ noble: Noble; release: () => void }> {
  const trap = new ProcessListenerTrap();
  const env =
    options.userChannel === undefined ? {} : { HCI_CHANNEL_USER: options.userChannel ? '1' : undefined };
  let noble: Noble;
  const release = () => {
    try {
      noble?.stop?.();
    } catch {
      // A noble that never started its bindings has nothing to stop.
    }
    stopHci(noble?._bindings?._hci);
    trap.release();
    noble?.removeAllListeners();
  };
  try {
    if (family === 'abandonware') {
      // Not the package's index: it builds a default instance (and its socket) at load time.
      const bindingsModule =
        options.bindings === 'hci' ? 'lib/hci-socket/bindings.js' : 'lib/resolve-bindings.js';
      const [NobleClass, Bindings] = loadFresh(family, 'noble', ['lib/noble.js', bindingsModule]) as [
        new (bindings: unknown) => Noble,
        unknown,
      ];
      // The HCI constructor reads HCI_CHANNEL_USER (its `userChannel` option is ignored).
      const bindings = withEnv(env, () =>
        options.bindings === 'hci'
          ? new (Bindings as new (o: object) => unknown)({ deviceId: options.hciDeviceId })
          : (Bindings as (o: object) => unknown)({}),
      );
      noble = new NobleClass(bindings);
      unrefDevicePoll(noble._bindings._hci);
      // Start the bindings ourselves (noble would on the next tick and only warn on failure).
      (noble as unknown as { initialized: boolean }).initialized = true;
    } else {
      const [withBindings] = loadFresh(family, 'noble', ['lib/resolve-bindings.js']) as [
        (type: string, o: object) => Noble,
      ];
      noble = withBindings(options.bindings === 'hci' ? 'hci' : 'default', {
        ...(options.hciDeviceId === undefined ? {} : { deviceId: options.hciDeviceId }),
        ...(options.userChannel === undefined ? {} : { userChannel: options.userChannel }),
      });
      (noble as unknown as { _initialized: boolean })._initialized = true;
    }
  } catch (e) {
    throw e instanceof Error && e.name === 'RadioError'
      ? e
      : hostError(e, family, 'noble', options.hciDeviceId);
  }
  const powered = waitForPowerOn(noble, () => noble._state, options, 'noble');
  trap.begin();
  let initError: unknown;
  try {
    withEnv(env, () => {
      if (family === 'abandonware') noble._bindings.init!();
      else (noble as unknown as { _initializeBindings(): void })._initializeBindings();
    });
  } catch (e) {
    initError = e ?? new Error('init failed');
  } finally {
    trap.end();
  }
  if (initError !== undefined) {
    release();
    powered.catch(() => {});
    throw hostError(initError, family, 'noble', options.hciDeviceId);
  }
  try {
    await powered;
  } catch (e) {
    release();
    throw e;
  }
  // @abandonware/noble asks the controller for its LE buffer size only from its raw-mode device
  // poll; on the user channel it never does, and every ATT write then waits for it forever (GATT
  // never starts). Ask once here.
  const hci = noble._bindings._hci as
    | (HciLike & { _aclBuffers?: unknown; readLeBufferSize?: () => void })
    | undefined;
  if (family === 'abandonware' && hci && hci._aclBuffers === undefined) hci.readLeBufferSize?.();
  return { noble, release };
}

export async function openNobleCentral(
  family: BleFamily,
  options: HostOptions,
  kind: string,
): Promise<Central> {
  const { noble, release } = await startNoble(family, options);
  return new NobleCentral(noble, release, kind, options.scheduler);
}

function withTimeout<T>(
  d: Deferred<T>,
  ms: number,
  onTimeout: () => RadioError,
  scheduler: Scheduler = realScheduler,
): Deferred<T> {
  const t = scheduler.setTimer(() => d.reject(onTimeout()), ms);
  d.promise.then(
    () => t.cancel(),
    () => t.cancel(),
  );
  return d;
}

class NobleCentral implements Central {
  #peripherals = new Map<string, NoblePeripheral>();
  #connections = new Map<string, NobleConnection>();
  #connecting = new Set<{ linked: Deferred<void>; cancel: () => void }>();
  #scan: { queue: AsyncQueue<DiscoveredToy>; stopped: Promise<void> } | undefined;
  #closed = false;

  constructor(
    readonly noble: Noble,
    readonly release: () => void,
    readonly kind: string,
    readonly scheduler: Scheduler,
  ) {}

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
    /** Per advertiser, the service data last yielded (hex; '' for none). */
    const yielded = new Map<string, string>();
    const withoutData = new Map<string, number>();
    const noble = this.noble;
    let stopDone!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stopDone = resolve;
    });
    const onDiscover = (p: NoblePeripheral) => {
      const ad = p.advertisement ?? {};
      const entry = (ad.serviceData ?? []).find((s) => normalizeUuid(s.uuid) === wanted);
      const dataKey = entry ? Buffer.from(entry.data).toString('hex') : '';
      if (yielded.get(p.id) === dataKey) return;
      const listed = (ad.serviceUuids ?? []).some((u) => normalizeUuid(u) === wanted);
      if (!entry && !listed) return;
      if (!entry) {
        const n = (withoutData.get(p.id) ?? 0) + 1;
        withoutData.set(p.id, n);
        if (n < REPORTS_WITHOUT_SERVICE_DATA) return;
      }
      const serviceData = entry ? new Uint8Array(entry.data) : undefined;
      if (options.filter && !options.filter(serviceData)) return;
      yielded.set(p.id, dataKey);
      this.#peripherals.set(p.id, p);
      queue.push({ id: p.id, address: p.address, rssi: p.rssi, serviceData });
    };
    const timer = this.scheduler.setTimer(() => queue.end(), options.timeoutMs);
    const queue = new AsyncQueue<DiscoveredToy>(() => {
      timer.cancel();
      noble.removeListener('discover', onDiscover);
      if (this.#scan?.queue === queue) this.#scan = undefined;
      this.#stopScanning().then(stopDone);
    });
    this.#scan = { queue, stopped };
    noble.on('discover', onDiscover);
    // Duplicates allowed: a later report may bring the scan response with the service data.
    noble.startScanning([wanted], true, (error) => {
      if (error)
        queue.fail(radioError('HOST_ERROR', `noble could not start scanning: ${String(error)}`, error));
    });
    return queue;
  }

  /** Stops noble's scan (only while powered on: radio.md, noble.stop() hangs otherwise). */
  #stopScanning(): Promise<void> {
    if (this.noble._state !== 'poweredOn') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, GAP_COMMAND_TIMEOUT_MS);
      // A safety limit only: it must not keep the process alive after close() released the host.
      t.unref();
      this.noble.stopScanning(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async connect(id: string, options: ConnectOptions = {}): Promise<CentralConnection> {
    if (this.#closed) throw radioError('CLOSED', 'the central is closed');
    const p = this.#peripherals.get(id);
    if (!p) throw radioError('NOT_FOUND', `no scan of this central reported ${id}`);
    if (this.#connections.has(id)) throw radioError('HOST_ERROR', `already connected to ${id}`);
    const scan = this.#scan;
    if (scan) {
      scan.queue.end();
      await scan.stopped;
    }
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    const sched = this.scheduler;
    const deadline = sched.now() + timeoutMs;
    const linked = withTimeout(
      deferred<void>(),
      timeoutMs,
      () => {
        // After the rejection: noble reports the cancel as a failed connect, synchronously.
        queueMicrotask(() => p.cancelConnect());
        return radioError('TIMEOUT', `${id} did not connect within ${timeoutMs} ms`);
      },
      sched,
    );
    const attempt = { linked, cancel: () => p.cancelConnect() };
    this.#connecting.add(attempt);
    p.connect((error) => {
      if (!error && linked.settled)
        p.disconnect(); // up after all, but nobody waits for it now
      else if (error) {
        linked.reject(radioError('HOST_ERROR', `connecting to ${id} failed: ${String(error)}`, error));
      } else linked.resolve();
    });
    try {
      await linked.promise;
    } finally {
      this.#connecting.delete(attempt);
    }
    // From here the link is up: a failure must drop it.
    const conn = new NobleConnection(this, p);
    this.#connections.set(id, conn);
    try {
      const found = withTimeout(
        deferred<NobleCharacteristic[]>(),
        Math.max(0, deadline - sched.now()),
        () => radioError('TIMEOUT', `service discovery on ${id} did not finish within ${timeoutMs} ms`),
        sched,
      );
      conn.track(found);
      p.discoverSomeServicesAndCharacteristics(
        [normalizeUuid(SERVICE_UUID)],
        [RX_CHAR_UUID, TX_CHAR_UUID, INFO_CHAR_UUID].map(normalizeUuid),
        (error, _services, characteristics) => {
          if (error) found.reject(radioError('SERVICE_NOT_FOUND', `${id} has no PawLink service`));
          else found.resolve(characteristics ?? []);
        },
      );
      const chars = await found.promise;
      const byUuid = (u: string) => chars.find((c) => normalizeUuid(c.uuid) === normalizeUuid(u));
      const rx = byUuid(RX_CHAR_UUID);
      const tx = byUuid(TX_CHAR_UUID);
      const info = byUuid(INFO_CHAR_UUID);
      if (!rx || !tx || !info) {
        throw radioError('SERVICE_NOT_FOUND', `${id} lacks PawLink's RX, TX or INFO characteristic`);
      }
      // noble exchanges the MTU first thing after connecting, queued before discovery: it is known now.
      conn.ready(rx, tx, info, p.mtu ?? ATT_MTU_DEFAULT);
      return conn;
    } catch (e) {
      await conn.disconnect();
      throw e;
    }
  }

  /** @internal */
  forget(conn: NobleConnection): void {
    if (this.#connections.get(conn.id) === conn) this.#connections.delete(conn.id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { linked, cancel } of this.#connecting) {
      linked.reject(radioError('CLOSED', 'the central was closed while connecting'));
      cancel();
    }
    this.#connecting.clear();
    const scan = this.#scan;
    if (scan) {
      scan.queue.end();
      await scan.stopped;
    }
    await Promise.all([...this.#connections.values()].map((c) => c.disconnect()));
    this.release();
  }
}

class NobleConnection implements CentralConnection {
  readonly id: string;
  #mtu = ATT_MTU_DEFAULT;
  #rx: NobleCharacteristic | undefined;
  #tx: NobleCharacteristic | undefined;
  #info: NobleCharacteristic | undefined;
  #ops = new Set<Deferred<unknown>>();
  #writePending = false;
  #subscribed: Promise<void> | undefined;
  #notify = new Listeners<[Uint8Array]>();
  #disconnect = new Listeners<[DisconnectInfo]>();
  #downInfo: DisconnectInfo | undefined;
  #down = deferred<void>();
  #disconnecting = false;
  #onPeripheralDisconnect: (reason: unknown) => void;

  constructor(
    readonly central: NobleCentral,
    readonly peripheral: NoblePeripheral,
  ) {
    this.id = peripheral.id;
    this.#onPeripheralDisconnect = (reason) =>
      this.#linkDown(this.#disconnecting ? 'local' : disconnectReason(reason), reason);
    peripheral.on('disconnect', this.#onPeripheralDisconnect);
  }

  /** @internal */
  ready(rx: NobleCharacteristic, tx: NobleCharacteristic, info: NobleCharacteristic, mtu: number): void {
    this.#rx = rx;
    this.#tx = tx;
    this.#info = info;
    this.#mtu = mtu;
  }

  get mtu(): number {
    return this.#mtu;
  }

  get maxWriteLength(): number {
    return this.#mtu - ATT_HEADER_LENGTH;
  }

  get connected(): boolean {
    return this.#downInfo === undefined && !this.#disconnecting;
  }

  /** @internal Fails `d` if the link goes down first; an ATT timeout drops the link. */
  track<T>(d: Deferred<T>): Deferred<T> {
    const op = d as Deferred<unknown>;
    this.#ops.add(op);
    d.promise.then(
      () => this.#ops.delete(op),
      () => this.#ops.delete(op),
    );
    return d;
  }

  #check(): void {
    if (!this.connected) throw radioError('NOT_CONNECTED', 'the connection is down');
  }

  /** An ATT transaction: failed by a disconnect, or after 30 s (then the bearer is unusable: drop it). */
  #transaction<T>(what: string): Deferred<T> {
    return this.track(
      withTimeout(deferred<T>(), ATT_TRANSACTION_TIMEOUT_MS, () => {
        void this.disconnect();
        return radioError('TIMEOUT', `${what} was not answered within ${ATT_TRANSACTION_TIMEOUT_MS} ms`);
      }),
    );
  }

  async readInfo(): Promise<Uint8Array> {
    this.#check();
    const d = this.#transaction<Uint8Array>('reading INFO');
    this.#info!.read((error, data) => {
      if (error) d.reject(radioError('HOST_ERROR', `reading INFO failed: ${String(error)}`, error));
      else d.resolve(new Uint8Array(data));
    });
    return d.promise;
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
    try {
      const d = this.#transaction<void>('a write');
      this.#rx!.write(Buffer.from(value), !options.withResponse, (error) => {
        if (error) d.reject(radioError('HOST_ERROR', `write failed: ${String(error)}`, error));
        else d.resolve();
      });
      await d.promise;
    } finally {
      this.#writePending = false;
    }
  }

  async subscribe(onNotify: (value: Uint8Array) => void): Promise<void> {
    this.#check();
    this.#notify.add(onNotify);
    if (!this.#subscribed) {
      this.#tx!.on('data', (data: Buffer, isNotification: boolean) => {
        if (isNotification && !this.#downInfo) this.#notify.emit(new Uint8Array(data));
      });
      const d = this.#transaction<void>('enabling notifications');
      this.#tx!.subscribe((error) => {
        if (error)
          d.reject(radioError('HOST_ERROR', `enabling notifications failed: ${String(error)}`, error));
        else d.resolve();
      });
      this.#subscribed = d.promise;
    }
    await this.#subscribed;
  }

  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe {
    if (this.#downInfo) {
      const info = this.#downInfo;
      const t = setTimeout(() => listener(info), 0);
      return () => clearTimeout(t);
    }
    return this.#disconnect.add(listener);
  }

  async disconnect(): Promise<void> {
    if (this.#downInfo) return;
    if (!this.#disconnecting) {
      this.#disconnecting = true;
      this.peripheral.disconnect();
      // If the host never reports it (an adapter gone away), report it ourselves.
      const t = setTimeout(() => this.#linkDown('local', undefined), DISCONNECT_TIMEOUT_MS);
      this.#down.promise.then(() => clearTimeout(t));
    }
    await this.#down.promise;
  }

  async rssi(): Promise<number> {
    this.#check();
    const d = this.track(
      withTimeout(deferred<number>(), GAP_COMMAND_TIMEOUT_MS, () =>
        radioError('TIMEOUT', 'reading RSSI timed out'),
      ),
    );
    this.peripheral.updateRssi((error, rssi) => {
      if (error) d.reject(radioError('HOST_ERROR', `reading RSSI failed: ${String(error)}`, error));
      else d.resolve(rssi);
    });
    return d.promise;
  }

  #linkDown(reason: DisconnectInfo['reason'], hci: unknown): void {
    if (this.#downInfo) return;
    const what = { local: 'by this side', remote: 'by the toy', 'link-lost': 'the link was lost' }[reason];
    const info: DisconnectInfo = {
      reason,
      ...(typeof hci === 'number' ? { hciReason: hci } : {}),
      error: radioError('DISCONNECTED', `disconnected (${what})`),
    };
    this.#downInfo = info;
    this.peripheral.removeListener('disconnect', this.#onPeripheralDisconnect);
    this.#tx?.removeAllListeners('data');
    for (const op of [...this.#ops]) op.reject(info.error);
    this.#ops.clear();
    this.central.forget(this);
    this.#disconnect.emit(info);
    this.#disconnect.clear();
    this.#notify.clear();
    this.#down.resolve();
  }
}
