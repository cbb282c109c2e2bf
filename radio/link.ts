/**
 * The link interfaces: what the SDK (a central) and the toy (a peripheral) need from Bluetooth LE,
 * and the rules every implementation keeps — the in-memory link (radio/memory/), the noble/bleno
 * adapters over the virtual radio or a real adapter (radio/ble/). One contract suite
 * (test/contract/) checks every implementation against the rules written here.
 *
 * The GATT layout is PawLink's (PROTOCOL.md §2, protocol/gatt/constants.ts): one service, RX
 * (central → toy: Write and Write Without Response), TX (toy → central: Notify) and INFO (Read).
 * Everything is promise-based; every failure is a `RadioError` with a stable code (below).
 *
 * Rules common to both sides:
 *
 * - **Ordering.** One ATT bearer per connection: values written to RX arrive in the order they
 *   were written, notifications in the order they were sent. Nothing is duplicated, and while the
 *   link is up nothing is lost. Once it goes down, values still in flight are lost.
 * - **Sizes.** A connection's ATT_MTU is 23 until the MTU exchange, then min(both sides' MTU),
 *   at most 517 (both BLE host stacks: 256). A value written or notified carries at most
 *   ATT_MTU − 3 bytes. A longer write is refused (`WRITE_TOO_LONG`, nothing is sent); a longer
 *   notification is truncated to ATT_MTU − 3 silently, as bleno does.
 * - **No overlapping writes.** A central has at most one write pending per connection: a second
 *   `write` before the first settled fails at once with `WRITE_IN_PROGRESS` and sends nothing.
 *   Whoever has several values to write keeps the queue (the drivers in radio/drive.ts do).
 * - **No back-pressure on notifications.** `notify` sends at once and never waits; a peripheral
 *   that notifies faster than the link carries values fills its host's queue (bleno's is
 *   unbounded). Flow control belongs to the protocol above (the framing window).
 * - **Disconnects.** A connection goes down once, for a reason: `local` (this side asked),
 *   `remote` (the peer asked) or `link-lost` (the supervision timeout expired: out of range, a
 *   radio fault). Both sides learn of a lost link within the supervision timeout. When it goes
 *   down, every pending operation on it fails with `DISCONNECTED`; an operation started afterwards
 *   fails with `NOT_CONNECTED`. `onDisconnect` listeners are called once, after the pending
 *   operations have failed and before `disconnect()` resolves; a listener added after the
 *   disconnect is called on the next turn.
 * - **Asynchrony.** No callback is ever called from inside the call that caused it: deliveries,
 *   acknowledgements and disconnect reports always come on a later turn of the event loop.
 * - **Resources.** `close()` ends every connection (reason `local`), stops scanning or
 *   advertising and releases the host stack; afterwards nothing of it keeps the process alive.
 *   Every operation (scan, connect, advertise…) of a closed central or peripheral fails with `CLOSED`.
 */
import type { RadioError } from './errors.js';

/** Stable codes of the `RadioError`s this layer throws. */
export type RadioErrorCode =
  /** No Bluetooth adapter (none in the kernel, not the one named, unsupported, powered off). */
  | 'NO_ADAPTER'
  /** The adapter exists but this process may not use it (cap_net_raw, BlueZ holds it). */
  | 'NO_PERMISSION'
  /** The chosen BLE library family is not installed (or failed to load). */
  | 'LIBRARY_MISSING'
  /** A bad option (unknown family, bad device id, bad value). */
  | 'BAD_OPTION'
  /** The operation needs a connection that is down. */
  | 'NOT_CONNECTED'
  /** The connection went down while the operation was pending. */
  | 'DISCONNECTED'
  /** A write longer than ATT_MTU − 3. */
  | 'WRITE_TOO_LONG'
  /** A write while another write on the same connection is pending. */
  | 'WRITE_IN_PROGRESS'
  /** A scan while another scan of the same central is running. */
  | 'SCAN_IN_PROGRESS'
  /** A notification before the central enabled notifications on TX. */
  | 'NOT_SUBSCRIBED'
  /** Service data longer than ADV_SERVICE_DATA_MAX (13 bytes: a legacy scan response). */
  | 'ADV_DATA_TOO_LONG'
  /** An operation did not complete in time (connect, ATT transaction, adapter power-on...). */
  | 'TIMEOUT'
  /** No peripheral with that id was discovered. */
  | 'NOT_FOUND'
  /** The peripheral connected but does not have PawLink's service and characteristics. */
  | 'SERVICE_NOT_FOUND'
  /** The central or peripheral was closed. */
  | 'CLOSED'
  /** The host stack reported an error this layer has no better code for (message says what). */
  | 'HOST_ERROR';

/** Why a connection went down. */
export type DisconnectReason = 'local' | 'remote' | 'link-lost';

/** What `onDisconnect` listeners receive. */
export interface DisconnectInfo {
  reason: DisconnectReason;
  /** The HCI reason code when the host stack reported one (Core Vol 1 Part F: 0x08, 0x13, 0x16...). */
  hciReason?: number;
  /** The `DISCONNECTED` error pending operations failed with. */
  error: RadioError;
}

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

// ---- central --------------------------------------------------------------------------------

/** A toy seen while scanning. */
export interface DiscoveredToy {
  /** The id to pass to `connect` (noble's peripheral id: the address without colons, lower case). */
  id: string;
  /** The advertiser's address as the host stack reports it (random addresses rotate). */
  address: string;
  /** Signal strength of the report, dBm. */
  rssi: number;
  /**
   * The service data advertised for the service UUID (PROTOCOL.md §3), or undefined when the
   * advertisement carried none (a macOS toy: the SDK then tries each candidate, §3).
   */
  serviceData: Uint8Array | undefined;
}

export interface ScanOptions {
  /** The service to look for (default: PawLink's SERVICE_UUID). */
  serviceUuid?: string;
  /**
   * Which advertisers to yield, given their service data (undefined when there was none).
   * Default: every advertiser of the service.
   */
  filter?: (serviceData: Uint8Array | undefined) => boolean;
  /** The scan ends (the iteration finishes, without an error) after this long. Milliseconds. */
  timeoutMs: number;
}

export interface ConnectOptions {
  /** Give up (and cancel the attempt) after this long: `TIMEOUT`. Default 10 s. */
  timeoutMs?: number;
}

/**
 * The SDK's side of the radio.
 *
 * `scan` yields each advertiser of the service once per scan for each distinct service data: the
 * first advertisement that passes the filter, and again whenever its service data changes (a
 * pairing window opening, a rotating tag), never twice for the same data. The scan stops when the timeout expires, when the consumer leaves the
 * loop (`break`, `return`, a throw), on `connect` (one radio, one activity: a connect ends a
 * running scan) or on `close`. A second scan while one runs fails with `SCAN_IN_PROGRESS`.
 */
export interface Central {
  /** Implementation name for logs and reports, e.g. 'memory', 'noble (abandonware, virtual)'. */
  readonly kind: string;
  scan(options: ScanOptions): AsyncIterable<DiscoveredToy>;
  /**
   * Connects to a discovered toy and prepares the connection: link up, ATT MTU exchange (the
   * central asks for its largest MTU), discovery of the PawLink service and its RX, TX and INFO
   * characteristics. Fails with `NOT_FOUND` for an id no scan of this central reported,
   * `SERVICE_NOT_FOUND` (the link is dropped) for a device without the service, `TIMEOUT`, or
   * `DISCONNECTED` when the link drops during set-up.
   */
  connect(id: string, options?: ConnectOptions): Promise<CentralConnection>;
  /** Disconnects every connection, stops any scan and releases the host stack. Idempotent. */
  close(): Promise<void>;
}

/** One connection from the central to a toy. */
export interface CentralConnection {
  /** The toy's id (as in `DiscoveredToy.id`). */
  readonly id: string;
  /** The connection's ATT_MTU, fixed once `connect` resolved (the exchange happens once per link). */
  readonly mtu: number;
  /** The longest value `write` accepts: mtu − 3. */
  readonly maxWriteLength: number;
  readonly connected: boolean;
  /** Reads INFO (PROTOCOL.md §2.1). The toy produces the value at each read. */
  readInfo(): Promise<Uint8Array>;
  /**
   * Writes `value` to RX. With response (ATT Write Request): resolves when the toy acknowledged it,
   * after the toy's `onWrite` listeners ran. Without response (ATT Write Command): resolves when
   * the host stack has accepted the value for sending; it may wait while the link's buffers are
   * full. Fails with `WRITE_TOO_LONG`, `WRITE_IN_PROGRESS`, `NOT_CONNECTED` or `DISCONNECTED`.
   */
  write(value: Uint8Array, options: { withResponse: boolean }): Promise<void>;
  /**
   * Enables notifications on TX; resolves when the toy acknowledged the subscription. `onNotify`
   * receives every notification from then on, in order. A second call adds a listener.
   */
  subscribe(onNotify: (value: Uint8Array) => void): Promise<void>;
  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe;
  /** Drops the link; resolves when it is down (reason `local`). Idempotent. */
  disconnect(): Promise<void>;
  /** The link's current signal strength, dBm. */
  rssi(): Promise<number>;
}

// ---- peripheral -----------------------------------------------------------------------------

export interface PeripheralOptions {
  /** Produces the INFO value (PROTOCOL.md §2.1) at each read: it reflects the toy's state then. */
  info: () => Uint8Array;
  /**
   * The largest ATT_MTU this peripheral accepts in an MTU exchange, 23–256 (default 256, bleno's
   * maximum). Lower it to reproduce a phone or toy with a small MTU; `BAD_OPTION` outside the range.
   */
  maxMtu?: number;
}

export interface AdvertiseOptions {
  /** Service data for the service UUID (PROTOCOL.md §3), at most 13 bytes. */
  serviceData: Uint8Array;
}

/**
 * The toy's side of the radio: one GATT service (RX, TX, INFO) and advertising.
 *
 * `advertise` starts advertising the service UUID (advertising data) with the service data (scan
 * response), or replaces the service data while advertising. Advertising stays in force across
 * connections: the implementation resumes it by itself after a central disconnects, so a caller
 * never re-starts it after a disconnect (radio.md: bleno can hang if one does).
 */
export interface Peripheral {
  readonly kind: string;
  /** The largest ATT_MTU this peripheral accepts in an MTU exchange. */
  readonly maxMtu: number;
  /** Fails with `ADV_DATA_TOO_LONG` for more than 13 bytes of service data, `TIMEOUT`, `CLOSED`. */
  advertise(options: AdvertiseOptions): Promise<void>;
  stopAdvertising(): Promise<void>;
  /** Called for each central that connects (synchronously register listeners on `conn` there). */
  onConnect(listener: (conn: PeripheralConnection) => void): Unsubscribe;
  /** Stops advertising, disconnects every central and releases the host stack. Idempotent. */
  close(): Promise<void>;
}

/** One central connected to the toy. */
export interface PeripheralConnection {
  /** Unique among this peripheral's connections (the central's address and the link handle). */
  readonly id: string;
  /** The ATT_MTU so far: 23 until the central's MTU exchange, then the negotiated value. */
  readonly mtu: number;
  /** Whether the central has enabled notifications on TX. */
  readonly subscribed: boolean;
  readonly connected: boolean;
  /**
   * Values written to RX, in order, with `withoutResponse` true for Write Commands. Values that
   * arrive before the first listener is added are kept and given to it.
   */
  onWrite(listener: (value: Uint8Array, withoutResponse: boolean) => void): Unsubscribe;
  /** The central enabled (true) or disabled (false) notifications on TX. */
  onSubscribe(listener: (subscribed: boolean) => void): Unsubscribe;
  /**
   * Sends `value` as a notification on TX, at once, truncated to mtu − 3 without a word; no
   * back-pressure. Throws `NOT_CONNECTED` when the link is down, `NOT_SUBSCRIBED` before the
   * central enabled notifications.
   */
  notify(value: Uint8Array): void;
  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe;
  /** Drops this central; resolves when the link is down (reason `local`). Idempotent. */
  disconnect(): Promise<void>;
}
