/**
 * The peripheral over bleno, for both families (@abandonware/bleno 0.6, @stoprocent/bleno 0.12),
 * on the virtual radio or a real adapter: PawLink's GATT service (RX, TX, INFO) and advertising.
 *
 * Family differences handled here (radio.md):
 * - @stoprocent passes the connection handle first to every characteristic handler and supports
 *   several centrals; @abandonware has one connection at a time and no handle.
 * - @abandonware/bleno is a module singleton with no `stop()`: each peripheral loads a fresh copy
 *   of the package (family.ts `loadFresh`) and closing stops its sockets by hand.
 * - Both re-start advertising by themselves after a disconnect; calling `startAdvertising` then
 *   can hang, so `advertise` on an advertising peripheral only replaces the data (HCI LE Set
 *   Advertising Data / Scan Response Data, allowed while advertising: Core 5.4 Vol 4 Part E
 *   §7.8.7–8).
 * - bleno's `mtuChange` event names no connection: the MTU is read per connection from its GATT
 *   server (@stoprocent) or the single connection's (@abandonware).
 */
import type { EventEmitter } from 'node:events';
import { INFO_CHAR_UUID, RX_CHAR_UUID, SERVICE_UUID, TX_CHAR_UUID } from '../../protocol/gatt/constants.js';
import {
  ATT_MTU_DEFAULT,
  BLE_HOST_MTU,
  DISCONNECT_TIMEOUT_MS,
  GAP_COMMAND_TIMEOUT_MS,
  GAP_DEVICE_NAME,
} from '../constants.js';
import { deferred, Listeners, radioError } from '../internal.js';
import type {
  AdvertiseOptions,
  DisconnectInfo,
  DisconnectReason,
  Peripheral,
  PeripheralConnection,
  PeripheralOptions,
  Unsubscribe,
} from '../link.js';
import { encodeAdvertisingPayload } from './eir.js';
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

// ---- the parts of bleno this adapter uses ---------------------------------------------------

interface BlenoHci extends HciLike, EventEmitter {
  setAdvertisingData(data: Buffer): void;
  setScanResponseData(data: Buffer): void;
}

/** HCI bindings have these; the CoreBluetooth bindings (macOS) have none of them. */
interface BlenoBindings {
  _hci?: BlenoHci;
  _gatt?: BlenoGatt;
  _handle?: number | null;
  _advertising: boolean;
  init(): void;
}

type CharacteristicClass = new (options: Record<string, unknown>) => unknown;

/** bleno's ATT server (hci-socket/gatt.js); `connection` is @stoprocent's handle argument. */
interface BlenoGatt {
  _mtu?: number;
  maxMtu?: number;
  _connections?: Map<number, { mtu: number }>;
  handleRequest(request: Buffer, connection?: number): void;
  errorResponse(opcode: number, handle: number, status: number): Buffer;
  send(data: Buffer, connection?: number): void;
}

/** ATT Error Response code Invalid PDU (Core 5.4 Vol 3 Part F §3.4.1.1). */
const ATT_INVALID_PDU = 0x04;

/**
 * bleno's ATT server reads a request's fields without checking its length, so a truncated request
 * from anyone in range (an Exchange MTU Request of 2 bytes, a Read Request of 1) throws out of the
 * HCI socket's data handler: an uncaught exception that would end the toy's process. The guard
 * answers such a request with Error Response "Invalid PDU" instead; a malformed command (opcode
 * bit 6 set, Vol 3 Part F §3.3.1) or confirmation gets no answer, as ATT requires. Found by the
 * security suite (test/security/gatt.test.ts).
 */
export function guardAttServer(gatt: BlenoGatt): void {
  const handle = gatt.handleRequest;
  gatt.handleRequest = function guarded(this: BlenoGatt, request: Buffer, connection?: number) {
    try {
      handle.call(this, request, connection);
    } catch {
      const opcode = request[0] ?? 0;
      const isCommand = (opcode & 0x40) !== 0 || opcode === 0x1e;
      if (isCommand) return;
      try {
        this.send(this.errorResponse(opcode, 0, ATT_INVALID_PDU), connection);
      } catch {
        // The link is gone: nothing to answer.
      }
    }
  };
}

interface Bleno extends EventEmitter {
  state: string;
  _bindings: BlenoBindings;
  PrimaryService: new (options: { uuid: string; characteristics: unknown[] }) => unknown;
  Characteristic: CharacteristicClass & {
    RESULT_SUCCESS: number;
    RESULT_INVALID_OFFSET: number;
    RESULT_ATTR_NOT_LONG: number;
  };
  setServices(services: unknown[], cb: (error?: Error | null) => void): void;
  startAdvertisingWithEIRData(adv: Buffer, scan: Buffer, cb: (error?: Error | null) => void): void;
  startAdvertising(name: string, serviceUuids: string[], cb: (error?: Error | null) => void): void;
  stopAdvertising(cb?: () => void): void;
  disconnect(handle?: number): void;
  stop?: () => void;
}

/** Builds and starts a bleno of the family; resolves once it is powered on. */
async function startBleno(
  family: BleFamily,
  options: HostOptions,
): Promise<{ bleno: Bleno; release: () => void }> {
  const trap = new ProcessListenerTrap();
  // Read by the host stacks while they load and start (their options are ignored for these).
  const env: Record<string, string | undefined> = {
    BLENO_DEVICE_NAME: process.env.BLENO_DEVICE_NAME ?? GAP_DEVICE_NAME,
    ...(options.userChannel === undefined ? {} : { HCI_CHANNEL_USER: options.userChannel ? '1' : undefined }),
    ...(options.hciDeviceId === undefined ? {} : { BLENO_HCI_DEVICE_ID: String(options.hciDeviceId) }),
  };
  let bleno: Bleno | undefined;
  let mgmt: { _socket?: { stop?: () => void } } | undefined;
  const release = () => {
    if (bleno && family === 'stoprocent') {
      try {
        bleno.stop?.();
      } catch {
        // Nothing started.
      }
    }
    stopHci(bleno?._bindings?._hci);
    try {
      mgmt?._socket?.stop?.();
    } catch {
      // Never started.
    }
    trap.release();
    bleno?.removeAllListeners();
  };
  try {
    withEnv(env, () => {
      if (family === 'abandonware') {
        // The package's singletons (bindings, their HCI and management sockets) are built at load;
        // its index picks CoreBluetooth by itself on macOS.
        const parts = options.bindings === 'hci' ? ['index.js', 'lib/hci-socket/mgmt.js'] : ['index.js'];
        [bleno, mgmt] = loadFresh(family, 'bleno', parts) as [Bleno, typeof mgmt];
      } else {
        // Not the package's index: it builds a default instance (and its socket) at load time.
        const [withBindings] = loadFresh(family, 'bleno', ['lib/resolve-bindings.js']) as [
          (type: string, o: object) => Bleno,
        ];
        bleno = withBindings(
          options.bindings === 'hci' ? 'hci' : 'default',
          options.hciDeviceId === undefined ? {} : { deviceId: options.hciDeviceId },
        );
      }
    });
  } catch (e) {
    release();
    throw e instanceof Error && e.name === 'RadioError'
      ? e
      : hostError(e, family, 'bleno', options.hciDeviceId);
  }
  const b = bleno!;
  unrefDevicePoll(b._bindings?._hci);
  trap.begin();
  let initError: unknown;
  try {
    // The first 'stateChange' listener starts the bindings, synchronously: errors surface here.
    withEnv(env, () => b.on('stateChange', () => {}));
  } catch (e) {
    initError = e ?? new Error('init failed');
  } finally {
    trap.end();
  }
  if (initError !== undefined) {
    release();
    throw hostError(initError, family, 'bleno', options.hciDeviceId);
  }
  const powered = waitForPowerOn(b, () => b.state, options, 'bleno');
  try {
    await powered;
  } catch (e) {
    release();
    throw e;
  }
  return { bleno: b, release };
}

export async function openBlenoPeripheral(
  family: BleFamily,
  options: HostOptions,
  peripheralOptions: PeripheralOptions,
  kind: string,
): Promise<Peripheral> {
  const { bleno, release } = await startBleno(family, options);
  const p = new BlenoPeripheral(family, bleno, release, peripheralOptions, kind);
  try {
    await p.setUp();
  } catch (e) {
    release();
    throw e;
  }
  return p;
}

/** Waits for a bleno callback, at most GAP_COMMAND_TIMEOUT_MS. */
function gapCommand(what: string, start: (done: (error?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(radioError('TIMEOUT', `${what} did not complete within ${GAP_COMMAND_TIMEOUT_MS} ms`)),
      GAP_COMMAND_TIMEOUT_MS,
    );
    start((error) => {
      clearTimeout(t);
      if (error) reject(radioError('HOST_ERROR', `${what} failed: ${error.message}`, error));
      else resolve();
    });
  });
}

class BlenoPeripheral implements Peripheral {
  readonly maxMtu: number;
  #connections = new Map<number, BlenoConnection>();
  #connect = new Listeners<[PeripheralConnection]>();
  #advertising = false;
  #closed = false;
  /** HCI reasons of the disconnects being reported, by handle (read before bleno's own listener). */
  #reasons = new Map<number, number>();
  /** bleno's last 'mtuChange' (it names no connection): for bindings without a GATT server of ours to ask. */
  #lastMtu: number | undefined;

  constructor(
    readonly family: BleFamily,
    readonly bleno: Bleno,
    readonly release: () => void,
    readonly options: PeripheralOptions,
    readonly kind: string,
  ) {
    const mtu = options.maxMtu ?? BLE_HOST_MTU;
    if (!Number.isInteger(mtu) || mtu < ATT_MTU_DEFAULT || mtu > BLE_HOST_MTU) {
      throw radioError(
        'BAD_OPTION',
        `peripheral max MTU ${mtu} is outside ${ATT_MTU_DEFAULT}..${BLE_HOST_MTU}`,
      );
    }
    this.maxMtu = mtu;
  }

  get #hci(): BlenoHci | undefined {
    return this.bleno._bindings._hci;
  }

  /** @internal Sets the GATT service and listens to the host's connection events. */
  async setUp(): Promise<void> {
    const { bleno, family } = this;
    const stoprocent = family === 'stoprocent';
    // @stoprocent passes the connection handle first; @abandonware has one connection.
    const handleOf = (args: unknown[]): [number, unknown[]] =>
      stoprocent ? [args[0] as number, args.slice(1)] : [this.bleno._bindings._handle ?? -1, args];
    const C = bleno.Characteristic;
    const rx = new C({
      uuid: RX_CHAR_UUID,
      properties: ['write', 'writeWithoutResponse'],
      onWriteRequest: (...args: unknown[]) => {
        const [handle, [data, offset, withoutResponse, cb]] = handleOf(args) as [
          number,
          [Buffer, number, boolean, (result: number) => void],
        ];
        if (offset !== 0) {
          cb(C.RESULT_ATTR_NOT_LONG);
          return;
        }
        this.#connections.get(handle)?.receiveWrite(new Uint8Array(data), withoutResponse);
        cb(C.RESULT_SUCCESS);
      },
    });
    const tx = new C({
      uuid: TX_CHAR_UUID,
      properties: ['notify'],
      onSubscribe: (...args: unknown[]) => {
        const [handle, [maxValueSize, update]] = handleOf(args) as [number, [number, (data: Buffer) => void]];
        this.#connections.get(handle)?.setSubscription(update, maxValueSize);
      },
      onUnsubscribe: (...args: unknown[]) => {
        const [handle] = handleOf(args);
        this.#connections.get(handle)?.setSubscription(undefined);
      },
    });
    const info = new C({
      uuid: INFO_CHAR_UUID,
      properties: ['read'],
      onReadRequest: (...args: unknown[]) => {
        const [, [offset, cb]] = handleOf(args) as [
          number,
          [number, (result: number, data?: Buffer) => void],
        ];
        const value = Buffer.from(this.options.info());
        if (offset > value.length) cb(C.RESULT_INVALID_OFFSET);
        else cb(C.RESULT_SUCCESS, value.subarray(offset));
      },
    });
    bleno.on('accept', (address: string, handle?: number) => this.#accept(address, handle));
    bleno.on('disconnect', (_address: string, handle?: number) => this.#disconnected(handle));
    this.#hci?.prependListener('disconnComplete', (handle: number, reason: number) => {
      this.#reasons.set(handle, reason);
    });
    bleno.on('mtuChange', (mtu: number) => {
      this.#lastMtu = mtu;
    });
    // Both families keep one GATT server per bindings, which caps the MTU exchange at `maxMtu`.
    if (bleno._bindings._gatt) {
      bleno._bindings._gatt.maxMtu = this.maxMtu;
      guardAttServer(bleno._bindings._gatt);
    }
    const service = new bleno.PrimaryService({ uuid: SERVICE_UUID, characteristics: [rx, tx, info] });
    await gapCommand('setting the GATT service', (done) =>
      withEnv({ BLENO_DEVICE_NAME: process.env.BLENO_DEVICE_NAME ?? GAP_DEVICE_NAME }, () =>
        bleno.setServices([service], done),
      ),
    );
  }

  #accept(address: string, handle: number | undefined): void {
    const h = handle ?? this.bleno._bindings._handle ?? -1;
    const conn = new BlenoConnection(this, address, h);
    this.#connections.set(h, conn);
    this.#connect.emit(conn);
  }

  #disconnected(handle: number | undefined): void {
    const h = handle ?? [...this.#connections.keys()][0];
    if (h === undefined) return;
    const conn = this.#connections.get(h);
    const hci = this.#reasons.get(h);
    this.#reasons.delete(h);
    if (!conn) return;
    this.#connections.delete(h);
    conn.linkDown(conn.disconnecting ? 'local' : disconnectReason(hci), hci);
  }

  /** @internal */
  forget(conn: BlenoConnection): void {
    if (this.#connections.get(conn.handle) === conn) this.#connections.delete(conn.handle);
  }

  /** @internal The connection's ATT_MTU as the host knows it (undefined once gone or unknown). */
  mtuOf(handle: number): number | undefined {
    const gatt = this.bleno._bindings._gatt;
    if (gatt?._connections) return gatt._connections.get(handle)?.mtu;
    if (!this.#connections.has(handle)) return undefined;
    return gatt?._mtu ?? this.#lastMtu;
  }

  /** @internal */
  drop(handle: number): void {
    if (this.family === 'stoprocent') this.bleno.disconnect(handle);
    else this.bleno.disconnect();
  }

  async advertise(options: AdvertiseOptions): Promise<void> {
    if (this.#closed) throw radioError('CLOSED', 'the peripheral is closed');
    const { advertisingData, scanResponse } = encodeAdvertisingPayload(SERVICE_UUID, options.serviceData);
    const hci = this.#hci;
    if (!hci) {
      // CoreBluetooth (macOS) advertises a name and service UUIDs only: no service data
      // (PROTOCOL.md §3: centrals then try each advertiser of the service).
      if (this.#advertising) return;
      await gapCommand('starting advertising', (done) =>
        this.bleno.startAdvertising(GAP_DEVICE_NAME, [SERVICE_UUID], done),
      );
      this.#advertising = true;
      return;
    }
    if (this.#advertising) {
      // Replace the data in place; the controller keeps advertising.
      await gapCommand('updating the advertising data', (done) => {
        hci.once('leScanResponseDataSet', (status: number) =>
          done(status ? new Error(`HCI status 0x${status.toString(16)}`) : null),
        );
        hci.setAdvertisingData(advertisingData);
        hci.setScanResponseData(scanResponse);
      });
      return;
    }
    await gapCommand('starting advertising', (done) =>
      this.bleno.startAdvertisingWithEIRData(advertisingData, scanResponse, done),
    );
    this.#advertising = true;
  }

  async stopAdvertising(): Promise<void> {
    if (this.#closed) throw radioError('CLOSED', 'the peripheral is closed');
    if (!this.#advertising) return;
    this.#advertising = false;
    await gapCommand('stopping advertising', (done) => this.bleno.stopAdvertising(() => done()));
  }

  onConnect(listener: (conn: PeripheralConnection) => void): Unsubscribe {
    return this.#connect.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#advertising) await this.stopAdvertising().catch(() => {});
    this.#closed = true;
    if (this.bleno._bindings) this.bleno._bindings._advertising = false; // no re-start after the disconnects below
    await Promise.all([...this.#connections.values()].map((c) => c.disconnect()));
    this.release();
  }
}

class BlenoConnection implements PeripheralConnection {
  readonly id: string;
  #mtu = ATT_MTU_DEFAULT;
  #update: ((data: Buffer) => void) | undefined;
  #writes = new Listeners<[Uint8Array, boolean]>();
  #subscribe = new Listeners<[boolean]>();
  #disconnect = new Listeners<[DisconnectInfo]>();
  #held: Array<[Uint8Array, boolean]> = [];
  #flushing = false;
  #downInfo: DisconnectInfo | undefined;
  #down = deferred<void>();
  /** @internal */
  disconnecting = false;

  constructor(
    readonly peripheral: BlenoPeripheral,
    address: string,
    readonly handle: number,
  ) {
    this.id = `${address}/${handle}`;
  }

  get mtu(): number {
    const known = this.#downInfo ? undefined : this.peripheral.mtuOf(this.handle);
    if (known !== undefined) this.#mtu = known;
    return this.#mtu;
  }

  get subscribed(): boolean {
    return this.#update !== undefined;
  }

  get connected(): boolean {
    return this.#downInfo === undefined && !this.disconnecting;
  }

  /** @internal */
  receiveWrite(value: Uint8Array, withoutResponse: boolean): void {
    if (this.#downInfo) return;
    if (this.#writes.size === 0 || this.#held.length > 0) {
      this.#held.push([value, withoutResponse]);
      return;
    }
    this.#writes.emit(value, withoutResponse);
  }

  /** @internal `maxValueSize` is bleno's MTU − 3 at the subscription. */
  setSubscription(update: ((data: Buffer) => void) | undefined, maxValueSize?: number): void {
    const was = this.subscribed;
    this.#update = update;
    if (maxValueSize !== undefined && maxValueSize + 3 > this.#mtu) this.#mtu = maxValueSize + 3;
    if (was !== this.subscribed) this.#subscribe.emit(this.subscribed);
  }

  onWrite(listener: (value: Uint8Array, withoutResponse: boolean) => void): Unsubscribe {
    const off = this.#writes.add(listener);
    if (this.#held.length > 0 && !this.#flushing) {
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        const held = this.#held;
        this.#held = [];
        for (const [v, wr] of held) this.#writes.emit(v, wr);
      });
    }
    return off;
  }

  onSubscribe(listener: (subscribed: boolean) => void): Unsubscribe {
    return this.#subscribe.add(listener);
  }

  notify(value: Uint8Array): void {
    if (!this.connected) throw radioError('NOT_CONNECTED', 'the connection is down');
    if (!this.#update) throw radioError('NOT_SUBSCRIBED', 'the central has not enabled notifications');
    // bleno cuts the value to MTU − 3 and sends it at once.
    try {
      this.#update(Buffer.from(value));
    } catch (e) {
      // The host dropped the connection a moment ago and has not told us yet.
      throw radioError('NOT_CONNECTED', 'the connection is down', e);
    }
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
    if (!this.disconnecting) {
      this.disconnecting = true;
      this.peripheral.drop(this.handle);
      const t = setTimeout(() => this.linkDown('local', undefined), DISCONNECT_TIMEOUT_MS);
      this.#down.promise.then(() => clearTimeout(t));
    }
    await this.#down.promise;
  }

  /** @internal */
  linkDown(reason: DisconnectReason, hci: number | undefined): void {
    if (this.#downInfo) return;
    const what = { local: 'by this side', remote: 'by the central', 'link-lost': 'the link was lost' }[
      reason
    ];
    const info: DisconnectInfo = {
      reason,
      ...(hci === undefined ? {} : { hciReason: hci }),
      error: radioError('DISCONNECTED', `disconnected (${what})`),
    };
    this.#downInfo = info;
    this.#update = undefined;
    this.#held = [];
    this.peripheral.forget(this);
    this.#disconnect.emit(info);
    this.#disconnect.clear();
    this.#writes.clear();
    this.#subscribe.clear();
    this.#down.resolve();
  }
}
