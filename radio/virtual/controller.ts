/**
 * One virtual LE controller: the HCI command set noble and bleno use (radio.md lists it), its
 * advertising, scanning and initiating state, LE ACL buffer accounting and the event masks.
 * The air (air.ts) moves advertising and connections between controllers; connection.ts runs the
 * link layer of a connection.
 *
 * Every answer is asynchronous: a command written now is answered by a scheduler task at the same
 * simulated time, delivered on a later turn of the event loop, as a real socket's poll callback is.
 */

import type { Connection } from './connection.js';
import {
  ADV_INTERVAL_UNIT_MS,
  AdvType,
  CONN_INTERVAL_UNIT_MS,
  DEFAULT_EVENT_MASK,
  DEFAULT_LE_EVENT_MASK,
  Defaults,
  EventMaskBit,
  Evt,
  FIRST_CONNECTION_HANDLE,
  HCI_VERSION,
  HciStatus,
  KERNEL_EVENT_MASK,
  LeEvt,
  LeFeature,
  MANUFACTURER_ID,
  MAX_DATA_LENGTH,
  MIN_DATA_LENGTH,
  Op,
  PacketBoundary,
  ReportType,
  Role,
  SUPERVISION_TIMEOUT_UNIT_MS,
} from './constants.js';
import {
  advertisingReport,
  commandComplete,
  commandStatus,
  connectionComplete,
  formatAddress,
  type H4Packet,
  parseH4,
} from './hci.js';
import type { LinkParameters, Phy } from './link-model.js';

/** What a controller needs from the host side of its socket. */
export interface HostPort {
  /** An H4 packet (event or ACL data) from the controller to the host. */
  receive(packet: Buffer): void;
  /** The controller went away (power off, air closed): the host sees the device down. */
  down(): void;
}

/** Per-controller options; anything left out comes from the air's defaults. */
export interface ControllerOptions {
  /** Public address, "c0:de:5a:00:00:01" style; the air hands one out when absent. */
  address?: string;
  /** A name for tests and logs. */
  label?: string;
  /** RSSI other controllers see for this one, dBm. */
  rssiDbm?: number;
  /** LE ACL buffers offered to the host (LE Read Buffer Size): payload octets and count. */
  aclBufferLength?: number;
  aclBufferCount?: number;
  /**
   * Link preferences. As central this controller picks the connection interval (inside the host's
   * range) and the PDUs per event; `dataLength` is the largest it supports and suggests (27: a
   * controller without data length extension); `phy: '2M'` switches to 2M after connecting when
   * the peer prefers 2M too.
   */
  link?: Partial<LinkParameters>;
}

/** What the air provides to a controller. */
export interface AirServices {
  now(): number;
  at(time: number, run: () => void): void;
  /** A controller's advertising, scanning or initiating state changed. */
  wake(): void;
  linkDefaults(): LinkParameters;
  random(): number;
  advertisingReportLoss(): number;
  detached(controller: Controller): void;
}

interface AdvertisingState {
  intervalMs: number;
  type: number;
  data: Buffer;
  scanResponse: Buffer;
  enabled: boolean;
  directAddress: Buffer;
}

interface ScanState {
  active: boolean;
  enabled: boolean;
  filterDuplicates: boolean;
  seen: Set<string>;
}

interface InitiatorState {
  peerAddress: Buffer;
  minIntervalMs: number;
  maxIntervalMs: number;
  latency: number;
  supervisionTimeoutMs: number;
  /** Order of LE Create Connection commands on the air: the earliest waiting initiator connects first. */
  sequence: number;
}

/** Counts LE Create Connection commands across every controller of the process. */
let initiatorSequence = 0;

const EMPTY = Buffer.alloc(0);

export class Controller {
  readonly id: number;
  readonly label: string;
  readonly options: Readonly<ControllerOptions>;
  /** Packets the host sent beyond the buffers the controller offered (dropped). */
  bufferOverflows = 0;

  private bdAddr: Buffer;
  private eventMask = KERNEL_EVENT_MASK;
  private leEventMask = DEFAULT_LE_EVENT_MASK;
  private attached = true;
  private nextHandle = FIRST_CONNECTION_HANDLE;
  private hostPacketsInController = 0;
  private suggestedDataLength: number;
  /** @internal Advertising state (the air schedules advertising events from it). */
  readonly advertising: AdvertisingState = {
    intervalMs: 0x0800 * ADV_INTERVAL_UNIT_MS, // the default Advertising_Interval (Core Vol 4 Part E §7.8.5)
    type: AdvType.AdvInd,
    data: EMPTY,
    scanResponse: EMPTY,
    enabled: false,
    directAddress: Buffer.alloc(6),
  };
  /** @internal */
  advertisingTimer: { time: number; cancelled: boolean } | undefined;
  /** @internal Simulated time of the last advertising event. */
  lastAdvertisingEvent = Number.NEGATIVE_INFINITY;
  private readonly scan: ScanState = {
    active: false,
    enabled: false,
    filterDuplicates: false,
    seen: new Set(),
  };
  /** @internal Pending LE Create Connection. */
  initiator: InitiatorState | undefined;
  /** @internal Open connections by this controller's handle. */
  readonly connections = new Map<number, Connection>();

  constructor(
    id: number,
    address: Buffer,
    options: ControllerOptions,
    private readonly host: HostPort,
    private readonly air: AirServices,
  ) {
    this.id = id;
    this.bdAddr = address;
    this.options = options;
    this.label = options.label ?? `controller ${id}`;
    this.suggestedDataLength = this.supportedDataLength;
  }

  /** The public address, 6 bytes little-endian as HCI carries it. */
  get address(): Buffer {
    return this.bdAddr;
  }

  get addressString(): string {
    return formatAddress(this.bdAddr);
  }

  get isAttached(): boolean {
    return this.attached;
  }

  get isAdvertising(): boolean {
    return this.advertising.enabled;
  }

  get isScanning(): boolean {
    return this.scan.enabled;
  }

  get rssiDbm(): number {
    return this.options.rssiDbm ?? Defaults.rssiDbm;
  }

  get aclBufferLength(): number {
    return this.options.aclBufferLength ?? Defaults.aclBufferLength;
  }

  get aclBufferCount(): number {
    return this.options.aclBufferCount ?? Defaults.aclBufferCount;
  }

  /** Link preferences: the controller's options over the air's defaults. */
  get link(): LinkParameters {
    return { ...this.air.linkDefaults(), ...this.options.link };
  }

  get supportedDataLength(): number {
    return this.link.dataLength;
  }

  get preferredPhy(): Phy {
    return this.link.phy;
  }

  /** @internal The data length this controller proposes for a new connection. */
  get initialDataLength(): number {
    return Math.min(this.suggestedDataLength, this.supportedDataLength);
  }

  /** LE features (Core Vol 6 Part B §4.6): data length extension when it supports more than 27. */
  get leFeatures(): Buffer {
    const f = Buffer.alloc(8);
    if (this.supportedDataLength > MIN_DATA_LENGTH) f[0]! |= 1 << LeFeature.DataLengthExtension;
    f[1]! |= 1 << (LeFeature.Le2mPhy - 8);
    return f;
  }

  // ---- host → controller -------------------------------------------------------------------

  /** An H4 packet from the host. Malformed packets are dropped, as a controller's transport would. */
  fromHost(packet: Buffer): void {
    if (!this.attached) return;
    let parsed: H4Packet;
    try {
      parsed = parseH4(packet);
    } catch {
      return;
    }
    if (parsed.kind === 'command') this.command(parsed.opcode, parsed.params);
    else if (parsed.kind === 'acl') this.aclFromHost(parsed.handle, parsed.boundary, parsed.data);
  }

  private aclFromHost(handle: number, boundary: number, data: Buffer): void {
    const connection = this.connections.get(handle);
    if (!connection) return;
    if (this.hostPacketsInController >= this.aclBufferCount || data.length > this.aclBufferLength) {
      this.bufferOverflows++;
      return;
    }
    this.hostPacketsInController++;
    connection.enqueue(this, Buffer.from(data), boundary !== PacketBoundary.Continuing);
  }

  /** @internal The connection transmitted `count` of this host's packets: free their buffers. */
  packetsCompleted(count: number): void {
    this.hostPacketsInController = Math.max(0, this.hostPacketsInController - count);
  }

  private command(op: number, p: Buffer): void {
    const reply = (status: number, ...rest: Buffer[]) =>
      this.answer(commandComplete(op, Buffer.concat([Buffer.of(status), ...rest])));
    const needs = (length: number) => {
      if (p.length >= length) return true;
      reply(HciStatus.InvalidParameters);
      return false;
    };
    switch (op) {
      case Op.Reset:
        this.reset();
        this.eventMask = DEFAULT_EVENT_MASK;
        reply(HciStatus.Success);
        return;
      case Op.SetEventMask:
        if (needs(8)) {
          this.eventMask = p.readBigUInt64LE(0);
          reply(HciStatus.Success);
        }
        return;
      case Op.LeSetEventMask:
        if (needs(8)) {
          this.leEventMask = p.readBigUInt64LE(0);
          reply(HciStatus.Success);
        }
        return;
      case Op.WriteLeHostSupported:
      case Op.LeSetRandomAddress:
      case Op.LeClearFilterAcceptList:
      case Op.LeSetDefaultPhy:
        reply(HciStatus.Success);
        return;
      case Op.ReadLeHostSupported:
        reply(HciStatus.Success, Buffer.of(1, 0));
        return;
      case Op.ReadLocalVersion: {
        const r = Buffer.alloc(8);
        r[0] = HCI_VERSION;
        r.writeUInt16LE(0, 1);
        r[3] = HCI_VERSION;
        r.writeUInt16LE(MANUFACTURER_ID, 4);
        r.writeUInt16LE(0, 6);
        reply(HciStatus.Success, r);
        return;
      }
      case Op.ReadLocalSupportedFeatures: {
        const f = Buffer.alloc(8);
        f[4] = 0x60; // LE Supported (Controller), BR/EDR Not Supported
        reply(HciStatus.Success, f);
        return;
      }
      case Op.ReadBufferSize: {
        const r = Buffer.alloc(7);
        r.writeUInt16LE(this.aclBufferLength, 0);
        r.writeUInt16LE(this.aclBufferCount, 3);
        reply(HciStatus.Success, r);
        return;
      }
      case Op.ReadBdAddr:
        reply(HciStatus.Success, this.bdAddr);
        return;
      case Op.VendorWriteBdAddr:
        if (needs(6)) {
          const busy = this.advertising.enabled || this.connections.size > 0;
          if (!busy) this.bdAddr = Buffer.from(p.subarray(0, 6));
          reply(busy ? HciStatus.CommandDisallowed : HciStatus.Success);
        }
        return;
      case Op.LeReadBufferSize: {
        const r = Buffer.alloc(3);
        r.writeUInt16LE(this.aclBufferLength, 0);
        r[2] = this.aclBufferCount;
        reply(HciStatus.Success, r);
        return;
      }
      case Op.LeReadLocalSupportedFeatures:
        reply(HciStatus.Success, this.leFeatures);
        return;
      case Op.LeReadSupportedStates:
        reply(HciStatus.Success, Buffer.from('ffffffffff030000', 'hex'));
        return;
      case Op.LeReadFilterAcceptListSize:
        reply(HciStatus.Success, Buffer.of(0));
        return;
      case Op.LeReadAdvertisingTxPower:
        reply(HciStatus.Success, Buffer.of(0));
        return;
      case Op.LeSetAdvertisingParameters:
        if (needs(15)) reply(this.setAdvertisingParameters(p));
        return;
      case Op.LeSetAdvertisingData:
      case Op.LeSetScanResponseData:
        if (needs(1)) reply(this.setAdvertisingData(op, p));
        return;
      case Op.LeSetAdvertisingEnable:
        if (needs(1)) reply(this.setAdvertisingEnable(p[0] === 1));
        return;
      case Op.LeSetScanParameters:
        if (needs(7)) {
          if (!this.scan.enabled) this.scan.active = p[0] === 1;
          reply(this.scan.enabled ? HciStatus.CommandDisallowed : HciStatus.Success);
        }
        return;
      case Op.LeSetScanEnable:
        if (needs(2)) {
          const enable = p[0] === 1;
          if (enable && !this.scan.enabled) this.scan.seen.clear();
          this.scan.enabled = enable;
          this.scan.filterDuplicates = p[1] === 1;
          reply(HciStatus.Success);
          this.air.wake();
        }
        return;
      case Op.LeCreateConnection:
        if (needs(25)) this.createConnection(p);
        return;
      case Op.LeCreateConnectionCancel:
        this.cancelCreateConnection();
        return;
      case Op.Disconnect:
        if (needs(3)) {
          const connection = this.connections.get(p.readUInt16LE(0) & 0x0fff);
          this.answer(commandStatus(op, connection ? HciStatus.Success : HciStatus.UnknownConnectionId));
          connection?.terminate(this, p[2]!);
        }
        return;
      case Op.ReadRssi:
        if (needs(2)) {
          const handle = p.readUInt16LE(0);
          const connection = this.connections.get(handle);
          const r = Buffer.alloc(3);
          r.writeUInt16LE(handle, 0);
          if (connection) r.writeInt8(connection.peerOf(this).rssiDbm, 2);
          reply(connection ? HciStatus.Success : HciStatus.UnknownConnectionId, r);
        }
        return;
      case Op.LeConnectionUpdate:
        if (needs(14)) {
          const connection = this.connections.get(p.readUInt16LE(0));
          this.answer(commandStatus(op, connection ? HciStatus.Success : HciStatus.UnknownConnectionId));
          connection?.update(
            p.readUInt16LE(2) * CONN_INTERVAL_UNIT_MS,
            p.readUInt16LE(4) * CONN_INTERVAL_UNIT_MS,
            p.readUInt16LE(6),
            p.readUInt16LE(8) * SUPERVISION_TIMEOUT_UNIT_MS,
          );
        }
        return;
      case Op.LeReadRemoteFeatures:
        if (needs(2)) {
          const connection = this.connections.get(p.readUInt16LE(0));
          this.answer(commandStatus(op, connection ? HciStatus.Success : HciStatus.UnknownConnectionId));
          connection?.readRemoteFeatures(this);
        }
        return;
      case Op.LeEnableEncryption:
        // The virtual link carries no LE encryption: PawLink encrypts in its own session layer.
        this.answer(commandStatus(op, HciStatus.UnsupportedRemoteFeature));
        return;
      case Op.LeLtkRequestReply:
      case Op.LeLtkRequestNegativeReply:
        if (needs(2)) reply(HciStatus.Success, p.subarray(0, 2));
        return;
      case Op.LeSetDataLength:
        if (needs(6)) {
          const handle = p.readUInt16LE(0);
          const connection = this.connections.get(handle);
          const octets = p.readUInt16LE(2);
          const r = Buffer.alloc(2);
          r.writeUInt16LE(handle, 0);
          const valid = octets >= MIN_DATA_LENGTH && octets <= MAX_DATA_LENGTH;
          if (!connection) reply(HciStatus.UnknownConnectionId, r);
          else if (!valid) reply(HciStatus.InvalidParameters, r);
          else {
            reply(HciStatus.Success, r);
            connection.requestDataLength(octets);
          }
        }
        return;
      case Op.LeReadSuggestedDefaultDataLength: {
        const r = Buffer.alloc(4);
        r.writeUInt16LE(this.suggestedDataLength, 0);
        r.writeUInt16LE(txTimeUs(this.suggestedDataLength), 2);
        reply(HciStatus.Success, r);
        return;
      }
      case Op.LeWriteSuggestedDefaultDataLength:
        if (needs(4)) {
          const octets = p.readUInt16LE(0);
          const valid = octets >= MIN_DATA_LENGTH && octets <= MAX_DATA_LENGTH;
          if (valid) this.suggestedDataLength = octets;
          reply(valid ? HciStatus.Success : HciStatus.InvalidParameters);
        }
        return;
      case Op.LeReadMaximumDataLength: {
        const r = Buffer.alloc(8);
        const octets = this.supportedDataLength;
        r.writeUInt16LE(octets, 0);
        r.writeUInt16LE(txTimeUs(octets), 2);
        r.writeUInt16LE(octets, 4);
        r.writeUInt16LE(txTimeUs(octets), 6);
        reply(HciStatus.Success, r);
        return;
      }
      case Op.LeReadPhy:
        if (needs(2)) {
          const handle = p.readUInt16LE(0);
          const connection = this.connections.get(handle);
          const code = connection?.parameters.phy === '2M' ? 2 : 1;
          const r = Buffer.alloc(4);
          r.writeUInt16LE(handle, 0);
          r[2] = code;
          r[3] = code;
          reply(connection ? HciStatus.Success : HciStatus.UnknownConnectionId, r);
        }
        return;
      case Op.LeSetPhy:
        if (needs(7)) {
          const connection = this.connections.get(p.readUInt16LE(0));
          this.answer(commandStatus(op, connection ? HciStatus.Success : HciStatus.UnknownConnectionId));
          // ALL_PHYS bit 0/1 = no preference; otherwise 2M only when both TX and RX allow it.
          const allPhys = p[2]!;
          const tx2m = (allPhys & 1) !== 0 || (p[3]! & 0x02) !== 0;
          const rx2m = (allPhys & 2) !== 0 || (p[4]! & 0x02) !== 0;
          const only1m = (allPhys & 3) === 0 && ((p[3]! & 0x02) === 0 || (p[4]! & 0x02) === 0);
          connection?.requestPhy(this, tx2m && rx2m && !only1m ? '2M' : '1M');
        }
        return;
      default:
        reply(HciStatus.UnknownCommand);
    }
  }

  private setAdvertisingParameters(p: Buffer): number {
    if (this.advertising.enabled) return HciStatus.CommandDisallowed;
    const type = p[4]!;
    if (type > AdvType.AdvDirectIndLow) return HciStatus.InvalidParameters;
    const minInterval = p.readUInt16LE(0);
    const maxInterval = p.readUInt16LE(2);
    if (type !== AdvType.AdvDirectIndHigh && (minInterval < 0x20 || maxInterval < minInterval)) {
      return HciStatus.InvalidParameters;
    }
    this.advertising.type = type;
    // Directed high duty cycle advertising repeats every 3.75 ms (Core Vol 6 Part B §4.4.2.4.3).
    this.advertising.intervalMs =
      type === AdvType.AdvDirectIndHigh ? 3.75 : maxInterval * ADV_INTERVAL_UNIT_MS;
    this.advertising.directAddress = Buffer.from(p.subarray(7, 13));
    return HciStatus.Success;
  }

  private setAdvertisingData(op: number, p: Buffer): number {
    const length = p[0]!;
    if (length > 31 || p.length < 1 + length) return HciStatus.InvalidParameters;
    const data = Buffer.from(p.subarray(1, 1 + length));
    if (op === Op.LeSetAdvertisingData) this.advertising.data = data;
    else this.advertising.scanResponse = data;
    this.air.wake();
    return HciStatus.Success;
  }

  private setAdvertisingEnable(enable: boolean): number {
    // Enabling while enabled keeps advertising (Core Vol 4 Part E §7.8.9); a connected
    // peripheral may advertise again (bleno restarts advertising after a disconnection).
    if (enable && !this.advertising.enabled) this.lastAdvertisingEvent = Number.NEGATIVE_INFINITY;
    this.advertising.enabled = enable;
    if (!enable) this.stopAdvertisingTimer();
    this.air.wake();
    return HciStatus.Success;
  }

  private createConnection(p: Buffer): void {
    if (this.initiator) {
      this.answer(commandStatus(Op.LeCreateConnection, HciStatus.CommandDisallowed));
      return;
    }
    const minIntervalMs = p.readUInt16LE(13) * CONN_INTERVAL_UNIT_MS;
    const maxIntervalMs = p.readUInt16LE(15) * CONN_INTERVAL_UNIT_MS;
    if (minIntervalMs > maxIntervalMs || p[4] !== 0) {
      // Only the peer address is supported as a target, not the filter accept list.
      this.answer(
        commandStatus(
          Op.LeCreateConnection,
          p[4] !== 0 ? HciStatus.UnsupportedFeature : HciStatus.InvalidParameters,
        ),
      );
      return;
    }
    this.initiator = {
      peerAddress: Buffer.from(p.subarray(6, 12)),
      minIntervalMs,
      maxIntervalMs,
      latency: p.readUInt16LE(17),
      supervisionTimeoutMs: p.readUInt16LE(19) * SUPERVISION_TIMEOUT_UNIT_MS,
      sequence: ++initiatorSequence,
    };
    this.answer(commandStatus(Op.LeCreateConnection, HciStatus.Success));
    this.air.wake();
  }

  private cancelCreateConnection(): void {
    if (!this.initiator) {
      this.answer(commandComplete(Op.LeCreateConnectionCancel, Buffer.of(HciStatus.CommandDisallowed)));
      return;
    }
    this.initiator = undefined;
    this.answer(commandComplete(Op.LeCreateConnectionCancel, Buffer.of(HciStatus.Success)));
    // The pending creation ends with a Connection Complete carrying Unknown Connection Identifier.
    this.answer(
      this.connectionCompleteEvent(HciStatus.UnknownConnectionId, 0, Role.Central, Buffer.alloc(6), 0, 0, 0),
    );
  }

  // ---- air → controller ---------------------------------------------------------------------

  /** @internal Does an advertising event of `advertiser` mean anything to this controller now? */
  wantsAdvertisingFrom(advertiser: Controller): boolean {
    if (
      this.initiator?.peerAddress.equals(advertiser.address) &&
      isConnectable(advertiser.advertising.type)
    ) {
      return true;
    }
    if (
      !this.scan.enabled ||
      !this.masked(EventMaskBit.LeMeta) ||
      !this.leEventEnabled(LeEvt.AdvertisingReport)
    ) {
      return false;
    }
    if (!this.scan.filterDuplicates) return true;
    const type = reportTypeFor(advertiser, this);
    if (type === undefined) return false;
    if (!this.scan.seen.has(reportKey(advertiser, type, advertiser.advertising.data))) return true;
    return (
      this.scanResponseExpected(type) &&
      !this.scan.seen.has(reportKey(advertiser, ReportType.ScanRsp, advertiser.advertising.scanResponse))
    );
  }

  /** @internal One advertising event of `advertiser` reached this scanner. */
  hearAdvertising(advertiser: Controller): void {
    if (!this.scan.enabled) return;
    const type = reportTypeFor(advertiser, this);
    if (type === undefined) return;
    this.report(advertiser, type, advertiser.advertising.data);
    if (this.scanResponseExpected(type))
      this.report(advertiser, ReportType.ScanRsp, advertiser.advertising.scanResponse);
  }

  private scanResponseExpected(type: number): boolean {
    return this.scan.active && (type === ReportType.AdvInd || type === ReportType.AdvScanInd);
  }

  private report(advertiser: Controller, type: number, data: Buffer): void {
    if (this.air.random() < this.air.advertisingReportLoss()) return;
    const key = reportKey(advertiser, type, data);
    if (this.scan.filterDuplicates) {
      if (this.scan.seen.has(key)) return;
      this.scan.seen.add(key);
    }
    this.emitEvent(
      advertisingReport({
        type,
        addressType: 0,
        address: advertiser.address,
        data,
        rssi: advertiser.rssiDbm,
      }),
    );
  }

  /** @internal Allocates this controller's handle for a new connection. */
  allocateHandle(): number {
    let handle = this.nextHandle;
    while (this.connections.has(handle)) handle = nextHandle(handle);
    this.nextHandle = nextHandle(handle);
    return handle;
  }

  /** @internal The connection is up: tell the host (LE Connection Complete or its enhanced form). */
  connected(connection: Connection, handle: number): void {
    const central = connection.central === this;
    if (central) this.initiator = undefined;
    else this.advertising.enabled = false; // a connectable advertising set stops when it connects
    this.connections.set(handle, connection);
    const p = connection.parameters;
    this.emitEvent(
      this.connectionCompleteEvent(
        HciStatus.Success,
        handle,
        central ? Role.Central : Role.Peripheral,
        connection.peerOf(this).address,
        p.connectionIntervalMs / CONN_INTERVAL_UNIT_MS,
        connection.latency,
        connection.supervisionTimeoutMs / SUPERVISION_TIMEOUT_UNIT_MS,
      ),
    );
  }

  private connectionCompleteEvent(
    status: number,
    handle: number,
    role: number,
    peerAddress: Buffer,
    interval: number,
    latency: number,
    supervisionTimeout: number,
  ): Buffer {
    const enhanced = this.leEventEnabled(LeEvt.EnhancedConnectionComplete);
    return connectionComplete(
      { status, handle, role, peerAddressType: 0, peerAddress, interval, latency, supervisionTimeout },
      enhanced,
    );
  }

  /** @internal The connection with this local handle is gone. */
  disconnected(handle: number): void {
    this.connections.delete(handle);
    this.hostPacketsInController = 0;
    for (const c of this.connections.values()) this.hostPacketsInController += c.packetsQueuedBy(this);
  }

  // ---- controller → host --------------------------------------------------------------------

  /** Answers a command: delivered at the current simulated time, on a later turn of the event loop. */
  private answer(event: Buffer): void {
    this.air.at(this.air.now(), () => this.emitEvent(event));
  }

  /** @internal Sends an event if the host's event masks let it through. */
  emitEvent(packet: Buffer): void {
    if (!this.attached) return;
    const code = packet[1]!;
    if (code === Evt.LeMeta) {
      if (!this.masked(EventMaskBit.LeMeta) || !this.leEventEnabled(packet[3]!)) return;
    } else if (code === Evt.DisconnectionComplete) {
      if (!this.masked(EventMaskBit.DisconnectionComplete)) return;
    }
    this.host.receive(packet);
  }

  /** @internal Sends ACL data or an unmaskable event. */
  emitPacket(packet: Buffer): void {
    if (this.attached) this.host.receive(packet);
  }

  private masked(bit: bigint): boolean {
    return ((this.eventMask >> bit) & 1n) === 1n;
  }

  /** @internal Is LE Meta subevent `subevent` enabled in the host's LE event mask? */
  leEventEnabled(subevent: number): boolean {
    return ((this.leEventMask >> BigInt(subevent - 1)) & 1n) === 1n;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** HCI_Reset (Core Vol 4 Part E §7.3.2): links drop without an event here; peers time out. */
  private reset(): void {
    this.leEventMask = DEFAULT_LE_EVENT_MASK;
    this.advertising.enabled = false;
    this.stopAdvertisingTimer();
    this.scan.enabled = false;
    this.scan.active = false;
    this.initiator = undefined;
    this.suggestedDataLength = this.supportedDataLength;
    for (const connection of [...this.connections.values()]) connection.dropEnd(this);
    this.connections.clear();
    this.hostPacketsInController = 0;
    this.air.wake();
  }

  /** Powers the controller off and removes it from the air; its host sees the device go down. */
  detach(): void {
    if (!this.attached) return;
    this.reset();
    this.attached = false;
    this.air.detached(this);
    this.host.down();
  }

  private stopAdvertisingTimer(): void {
    if (this.advertisingTimer) this.advertisingTimer.cancelled = true;
    this.advertisingTimer = undefined;
  }
}

/** The handle after `handle`, wrapping within 0x0040–0x0EFF (handles go up to 0x0EFF, Core Vol 4 Part E §5.4.2). */
function nextHandle(handle: number): number {
  return handle >= 0x0eff ? FIRST_CONNECTION_HANDLE : handle + 1;
}

/** connMaxTxTime of a PDU with `octets` of payload on the 1M PHY, MIC included (Core Vol 6 Part B §4.5.10). */
export function txTimeUs(octets: number): number {
  return (octets + 14) * 8;
}

function isConnectable(type: number): boolean {
  return type === AdvType.AdvInd || type === AdvType.AdvDirectIndHigh || type === AdvType.AdvDirectIndLow;
}

/** The report type a scanner sees for an advertiser, or undefined (directed at someone else). */
function reportTypeFor(advertiser: Controller, scanner: Controller): number | undefined {
  switch (advertiser.advertising.type) {
    case AdvType.AdvInd:
      return ReportType.AdvInd;
    case AdvType.AdvScanInd:
      return ReportType.AdvScanInd;
    case AdvType.AdvNonconnInd:
      return ReportType.AdvNonconnInd;
    default:
      return advertiser.advertising.directAddress.equals(scanner.address)
        ? ReportType.AdvDirectInd
        : undefined;
  }
}

function reportKey(advertiser: Controller, type: number, data: Buffer): string {
  return `${advertiser.addressString}/${type}/${data.toString('hex')}`;
}
