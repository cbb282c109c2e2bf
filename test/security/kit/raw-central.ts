/**
 * The attacker's central: a bare BLE host on the virtual air that speaks HCI, L2CAP and ATT itself
 * (no noble), so it can do what a stranger's laptop or a web page with a hacked stack can do and a
 * well-behaved library would not: read or write any attribute handle, send any ATT PDU, write before
 * or after the framing handshake, hold a link open without a word, and see the exact ATT error the
 * toy's GATT server (bleno, the real host stack) answers.
 *
 * A `RawConnection` is also a `CentralConnection` (radio/link.ts): write to RX, notifications from
 * TX, INFO. So the protocol's own phone engine (PhoneDriver + PhoneConnection) runs over it, and an
 * attack can start as a well-formed phone and then misbehave. Every ATT PDU both ways is captured
 * (`capture`) for replay.
 *
 * ATT opcodes and error codes: Core 5.4 Vol 3 Part F §3.4 and §3.4.1.1; L2CAP basic frame with the
 * ATT fixed channel 0x0004: Vol 3 Part A §3.1 and §2.1.
 */
import {
  INFO_CHAR_UUID,
  RX_CHAR_UUID,
  SERVICE_UUID,
  TX_CHAR_UUID,
} from '../../../protocol/gatt/constants.js';
import type { Scheduler } from '../../../radio/clock.js';
import { RadioError } from '../../../radio/errors.js';
import type { CentralConnection, DisconnectInfo, Unsubscribe } from '../../../radio/link.js';
import { Evt, LeEvt, Op, PacketBoundary, ReportType } from '../../../radio/virtual/constants.js';
import { aclPacket, commandPacket, formatAddress, parseH4 } from '../../../radio/virtual/hci.js';
import type { Air, ControllerPort, HostPort } from '../../../radio/virtual/index.js';

export const Att = {
  ErrorRsp: 0x01,
  ExchangeMtuReq: 0x02,
  ExchangeMtuRsp: 0x03,
  FindInformationReq: 0x04,
  FindInformationRsp: 0x05,
  ReadByTypeReq: 0x08,
  ReadByTypeRsp: 0x09,
  ReadReq: 0x0a,
  ReadRsp: 0x0b,
  ReadBlobReq: 0x0c,
  ReadBlobRsp: 0x0d,
  ReadByGroupTypeReq: 0x10,
  ReadByGroupTypeRsp: 0x11,
  WriteReq: 0x12,
  WriteRsp: 0x13,
  PrepareWriteReq: 0x16,
  PrepareWriteRsp: 0x17,
  ExecuteWriteReq: 0x18,
  ExecuteWriteRsp: 0x19,
  HandleValueNtf: 0x1b,
  HandleValueInd: 0x1d,
  HandleValueCfm: 0x1e,
  WriteCmd: 0x52,
} as const;

/** ATT error codes (Core 5.4 Vol 3 Part F §3.4.1.1). */
export const AttError = {
  InvalidHandle: 0x01,
  ReadNotPermitted: 0x02,
  WriteNotPermitted: 0x03,
  InvalidPdu: 0x04,
  RequestNotSupported: 0x06,
  InvalidOffset: 0x07,
  AttributeNotFound: 0x0a,
  AttributeNotLong: 0x0b,
  InvalidAttributeValueLength: 0x0d,
  UnlikelyError: 0x0e,
} as const;

const ATT_CID = 0x0004;
const GATT_PRIMARY_SERVICE = 0x2800;
const GATT_CHARACTERISTIC = 0x2803;
const GATT_CCCD = 0x2902;
/** ATT transaction timeout (Core 5.4 Vol 3 Part F §3.3.3). */
const ATT_TIMEOUT_MS = 30_000;
/** HCI Remote User Terminated Connection (Core Vol 1 Part F §1.3). */
const REMOTE_USER_TERMINATED = 0x13;

export interface AdvertisingReport {
  address: string;
  /** Advertising data or scan response data, as sent. */
  data: Buffer;
  scanResponse: boolean;
  /** Air time (ms) the report arrived. */
  at: number;
}

export interface Characteristic {
  service: string;
  uuid: string;
  /** Handle of the characteristic declaration. */
  declHandle: number;
  valueHandle: number;
  properties: number;
  cccdHandle?: number;
}

export interface Attribute {
  handle: number;
  /** 16-bit UUIDs as 4 hex digits, 128-bit as 32 (no dashes, lower case). */
  type: string;
}

export type AttResult = { ok: true; value: Buffer } | { ok: false; error: number; opcode: number };

export interface CapturedPdu {
  direction: 'out' | 'in';
  pdu: Buffer;
  at: number;
}

/** A bare host attached to the air. One per attacker. */
export class RawCentral implements HostPort {
  readonly port: ControllerPort;
  readonly reports: AdvertisingReport[] = [];
  #connections = new Map<number, RawConnection>();
  #pendingConnect: { resolve: (c: RawConnection) => void; reject: (e: Error) => void } | undefined;
  #address: Buffer | undefined;

  constructor(
    readonly air: Air,
    readonly scheduler: Scheduler,
    options: { address?: string } = {},
  ) {
    this.port = air.attach(this, options.address ? { address: options.address } : {});
    this.command(Op.Reset);
    this.command(Op.SetEventMask, Buffer.from('ffffffffffffff3f', 'hex'));
    this.command(Op.LeSetEventMask, Buffer.from('ff0f000000000000', 'hex'));
    this.command(Op.ReadBdAddr);
  }

  get address(): string {
    if (!this.#address) throw new Error('the address is not known yet');
    return formatAddress(this.#address);
  }

  command(opcode: number, params: Uint8Array = Buffer.alloc(0)): void {
    this.port.send(commandPacket(opcode, params));
  }

  receive(packet: Buffer): void {
    const p = parseH4(packet);
    if (p.kind === 'acl') {
      this.#connections.get(p.handle)?.receiveAcl(p.boundary, p.data);
      return;
    }
    if (p.kind !== 'event') return;
    if (p.code === Evt.CommandComplete && p.params.readUInt16LE(1) === Op.ReadBdAddr) {
      this.#address = Buffer.from(p.params.subarray(4, 10));
    } else if (p.code === Evt.DisconnectionComplete) {
      const handle = p.params.readUInt16LE(1);
      const c = this.#connections.get(handle);
      this.#connections.delete(handle);
      c?.closed(p.params[3]!);
    } else if (p.code === Evt.LeMeta) {
      const sub = p.params[0];
      if (sub === LeEvt.AdvertisingReport) this.#reports(p.params);
      else if (sub === LeEvt.ConnectionComplete || sub === LeEvt.EnhancedConnectionComplete) {
        const status = p.params[1]!;
        const pending = this.#pendingConnect;
        this.#pendingConnect = undefined;
        if (status !== 0) {
          pending?.reject(new Error(`connection failed: HCI status 0x${status.toString(16)}`));
          return;
        }
        const handle = p.params.readUInt16LE(2);
        const c = new RawConnection(this, handle, formatAddress(p.params.subarray(6, 12)));
        this.#connections.set(handle, c);
        pending?.resolve(c);
      }
    }
  }

  down(): void {
    for (const c of this.#connections.values()) c.closed(0x08);
    this.#connections.clear();
  }

  #reports(params: Buffer): void {
    const count = params[1]!;
    let o = 2;
    for (let i = 0; i < count && o < params.length; i++) {
      const type = params[o]!;
      const address = formatAddress(params.subarray(o + 2, o + 8));
      const length = params[o + 8]!;
      const data = Buffer.from(params.subarray(o + 9, o + 9 + length));
      o += 9 + length + 1;
      this.reports.push({ address, data, scanResponse: type === ReportType.ScanRsp, at: this.air.now() });
    }
  }

  /** Scans actively (scan requests too) for `ms` of air time; returns the reports seen. */
  async scan(ms: number): Promise<AdvertisingReport[]> {
    const from = this.reports.length;
    this.command(Op.LeSetScanParameters, Buffer.from([1, 0x10, 0, 0x10, 0, 0, 0]));
    this.command(Op.LeSetScanEnable, Buffer.from([1, 0]));
    await this.sleep(ms);
    this.command(Op.LeSetScanEnable, Buffer.from([0, 0]));
    return this.reports.slice(from);
  }

  /** Finds the first advertiser carrying the PawLink service data (its address). */
  async findToy(ms = 2_000): Promise<string> {
    const reports = await this.scan(ms);
    const r = reports.find((x) => serviceDataOf(x.data) !== undefined);
    if (!r) throw new Error('no PawLink toy advertising');
    return r.address;
  }

  /** Connects to `address` (15 ms interval, 4 s supervision timeout). */
  connect(address: string): Promise<RawConnection> {
    if (this.#pendingConnect) throw new Error('one connection attempt at a time');
    const peer = Buffer.from(address.split(':').reverse().join(''), 'hex');
    const u16 = (v: number) => [v & 0xff, v >> 8];
    const params = Buffer.from([
      ...u16(0x60),
      ...u16(0x30),
      0,
      0,
      ...peer,
      0,
      ...u16(12),
      ...u16(12),
      ...u16(0),
      ...u16(400),
      ...u16(0),
      ...u16(0),
    ]);
    return new Promise((resolve, reject) => {
      this.#pendingConnect = { resolve, reject };
      this.command(Op.LeCreateConnection, params);
    });
  }

  /** Resolves after `ms` of air time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.setTimer(resolve, ms));
  }

  close(): void {
    this.port.detach();
  }
}

/** The 16 bytes of PawLink service data in an advertising payload, if any (AD type 0x21). */
export function serviceDataOf(data: Buffer): Buffer | undefined {
  const uuid = Buffer.from(SERVICE_UUID.replace(/-/g, ''), 'hex').reverse();
  for (let o = 0; o + 1 < data.length; ) {
    const len = data[o]!;
    if (len === 0) break;
    const type = data[o + 1];
    const body = data.subarray(o + 2, o + 1 + len);
    if (type === 0x21 && body.subarray(0, 16).equals(uuid)) return Buffer.from(body.subarray(16));
    o += 1 + len;
  }
  return undefined;
}

function uuidString(bytes: Buffer): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

const norm = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();

/** One link from the attacker's central, with an ATT client that does exactly what it is told. */
export class RawConnection implements CentralConnection {
  readonly capture: CapturedPdu[] = [];
  readonly notifications: Array<{ handle: number; value: Buffer; at: number }> = [];
  mtu = 23;
  connected = true;
  disconnectReason: number | undefined;
  #rx: Buffer | undefined;
  #rxExpected = 0;
  #pending:
    | { resolve: (pdu: Buffer) => void; reject: (e: Error) => void; timer: { cancel(): void } }
    | undefined;
  #queue: Array<() => void> = [];
  #disconnectListeners = new Set<(info: DisconnectInfo) => void>();
  #notify: ((value: Uint8Array) => void) | undefined;
  #chars: Characteristic[] | undefined;
  #closedWaiters: Array<() => void> = [];

  constructor(
    readonly central: RawCentral,
    readonly handle: number,
    readonly id: string,
  ) {}

  get maxWriteLength(): number {
    return this.mtu - 3;
  }

  // ---- ATT transport ----

  receiveAcl(boundary: number, data: Buffer): void {
    if (boundary === PacketBoundary.Continuing) {
      if (!this.#rx) return;
      this.#rx = Buffer.concat([this.#rx, data]);
    } else {
      this.#rxExpected = data.readUInt16LE(0);
      this.#rx = Buffer.from(data);
    }
    if (this.#rx.length < 4 + this.#rxExpected) return;
    const frame = this.#rx;
    this.#rx = undefined;
    if (frame.readUInt16LE(2) !== ATT_CID) return;
    this.#att(frame.subarray(4, 4 + this.#rxExpected));
  }

  #att(pdu: Buffer): void {
    const now = this.central.air.now();
    this.capture.push({ direction: 'in', pdu: Buffer.from(pdu), at: now });
    const op = pdu[0]!;
    if (op === Att.HandleValueNtf || op === Att.HandleValueInd) {
      const handle = pdu.readUInt16LE(1);
      const value = Buffer.from(pdu.subarray(3));
      this.notifications.push({ handle, value, at: now });
      if (op === Att.HandleValueInd) this.sendPdu(Buffer.from([Att.HandleValueCfm]));
      if (this.#notify && this.#chars?.find((c) => c.uuid === norm(TX_CHAR_UUID))?.valueHandle === handle) {
        this.#notify(new Uint8Array(value));
      }
      return;
    }
    if (op === Att.ExchangeMtuReq) {
      // A server may ask too; answer with our own receive MTU (Vol 3 Part F §3.4.2.1).
      this.sendPdu(Buffer.from([Att.ExchangeMtuRsp, 247 & 0xff, 0]));
      return;
    }
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    p.timer.cancel();
    p.resolve(Buffer.from(pdu));
    this.#queue.shift()?.();
  }

  /** Sends one ATT PDU in one L2CAP frame, as it is: no checks at all. */
  sendPdu(pdu: Uint8Array): void {
    if (!this.connected) return;
    this.capture.push({ direction: 'out', pdu: Buffer.from(pdu), at: this.central.air.now() });
    const frame = Buffer.alloc(4 + pdu.length);
    frame.writeUInt16LE(pdu.length, 0);
    frame.writeUInt16LE(ATT_CID, 2);
    frame.set(pdu, 4);
    for (let o = 0; o < frame.length; o += 251) {
      this.central.port.send(
        aclPacket(
          this.handle,
          o === 0 ? PacketBoundary.FirstNonFlushable : PacketBoundary.Continuing,
          frame.subarray(o, o + 251),
        ),
      );
    }
  }

  /** Sends a request PDU and resolves with the response PDU (an Error Response included). */
  request(pdu: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const go = () => {
        if (!this.connected) {
          reject(new Error('disconnected'));
          this.#queue.shift()?.();
          return;
        }
        const timer = this.central.scheduler.setTimer(() => {
          this.#pending = undefined;
          reject(new Error(`no ATT response to opcode 0x${pdu[0]!.toString(16)} in 30 s`));
          this.#queue.shift()?.();
        }, ATT_TIMEOUT_MS);
        this.#pending = { resolve, reject, timer };
        this.sendPdu(pdu);
      };
      if (this.#pending) this.#queue.push(go);
      else go();
    });
  }

  static #result(request: number, rsp: Buffer, expected: number): AttResult {
    if (rsp[0] === Att.ErrorRsp && rsp[1] === request) return { ok: false, error: rsp[4]!, opcode: request };
    if (rsp[0] !== expected) throw new Error(`unexpected ATT response 0x${rsp[0]!.toString(16)}`);
    return { ok: true, value: Buffer.from(rsp.subarray(1)) };
  }

  async exchangeMtu(mtu: number): Promise<number> {
    const rsp = await this.request(Buffer.from([Att.ExchangeMtuReq, mtu & 0xff, mtu >> 8]));
    if (rsp[0] === Att.ExchangeMtuRsp) this.mtu = Math.max(23, Math.min(mtu, rsp.readUInt16LE(1)));
    return this.mtu;
  }

  async read(handle: number): Promise<AttResult> {
    const rsp = await this.request(Buffer.from([Att.ReadReq, handle & 0xff, handle >> 8]));
    return RawConnection.#result(Att.ReadReq, rsp, Att.ReadRsp);
  }

  async readBlob(handle: number, offset: number): Promise<AttResult> {
    const rsp = await this.request(
      Buffer.from([Att.ReadBlobReq, handle & 0xff, handle >> 8, offset & 0xff, offset >> 8]),
    );
    return RawConnection.#result(Att.ReadBlobReq, rsp, Att.ReadBlobRsp);
  }

  async writeRequest(handle: number, value: Uint8Array): Promise<AttResult> {
    const rsp = await this.request(
      Buffer.concat([Buffer.from([Att.WriteReq, handle & 0xff, handle >> 8]), value]),
    );
    return RawConnection.#result(Att.WriteReq, rsp, Att.WriteRsp);
  }

  writeCommand(handle: number, value: Uint8Array): void {
    this.sendPdu(Buffer.concat([Buffer.from([Att.WriteCmd, handle & 0xff, handle >> 8]), value]));
  }

  /** Every attribute handle the server lists (Find Information over the whole range). */
  async attributes(): Promise<Attribute[]> {
    const out: Attribute[] = [];
    let start = 1;
    while (start <= 0xffff) {
      const rsp = await this.request(
        Buffer.from([Att.FindInformationReq, start & 0xff, start >> 8, 0xff, 0xff]),
      );
      if (rsp[0] !== Att.FindInformationRsp) break;
      const size = rsp[1] === 1 ? 2 : 16;
      let last = start;
      for (let o = 2; o + 2 + size <= rsp.length; o += 2 + size) {
        last = rsp.readUInt16LE(o);
        out.push({ handle: last, type: uuidString(rsp.subarray(o + 2, o + 2 + size)) });
      }
      if (last >= 0xffff) break;
      start = last + 1;
    }
    return out;
  }

  /** Every characteristic of every primary service, with CCCD handles. */
  async characteristics(): Promise<Characteristic[]> {
    if (this.#chars) return this.#chars;
    const services: Array<{ start: number; end: number; uuid: string }> = [];
    let start = 1;
    for (;;) {
      const rsp = await this.request(
        Buffer.from([
          Att.ReadByGroupTypeReq,
          start & 0xff,
          start >> 8,
          0xff,
          0xff,
          GATT_PRIMARY_SERVICE & 0xff,
          GATT_PRIMARY_SERVICE >> 8,
        ]),
      );
      if (rsp[0] !== Att.ReadByGroupTypeRsp) break;
      const len = rsp[1]!;
      let end = 0;
      for (let o = 2; o + len <= rsp.length; o += len) {
        end = rsp.readUInt16LE(o + 2);
        services.push({ start: rsp.readUInt16LE(o), end, uuid: uuidString(rsp.subarray(o + 4, o + len)) });
      }
      if (end >= 0xffff || end === 0) break;
      start = end + 1;
    }
    const attrs = await this.attributes();
    const chars: Characteristic[] = [];
    for (const s of services) {
      let from = s.start;
      for (;;) {
        const rsp = await this.request(
          Buffer.from([
            Att.ReadByTypeReq,
            from & 0xff,
            from >> 8,
            s.end & 0xff,
            s.end >> 8,
            GATT_CHARACTERISTIC & 0xff,
            GATT_CHARACTERISTIC >> 8,
          ]),
        );
        if (rsp[0] !== Att.ReadByTypeRsp) break;
        const len = rsp[1]!;
        let last = from;
        for (let o = 2; o + len <= rsp.length; o += len) {
          last = rsp.readUInt16LE(o);
          chars.push({
            service: s.uuid,
            declHandle: last,
            properties: rsp[o + 2]!,
            valueHandle: rsp.readUInt16LE(o + 3),
            uuid: uuidString(rsp.subarray(o + 5, o + len)),
          });
        }
        if (last >= s.end) break;
        from = last + 1;
      }
    }
    for (const [i, c] of chars.entries()) {
      const next = chars[i + 1]?.declHandle ?? 0x10000;
      const cccd = attrs.find(
        (a) =>
          a.handle > c.valueHandle && a.handle < next && a.type === GATT_CCCD.toString(16).padStart(4, '0'),
      );
      if (cccd) c.cccdHandle = cccd.handle;
    }
    this.#chars = chars;
    return chars;
  }

  async characteristic(uuid: string): Promise<Characteristic> {
    const c = (await this.characteristics()).find((x) => x.uuid === norm(uuid));
    if (!c) throw new Error(`no characteristic ${uuid}`);
    return c;
  }

  // ---- CentralConnection: the toy's RX, TX and INFO ----

  async readInfo(): Promise<Uint8Array> {
    const r = await this.read((await this.characteristic(INFO_CHAR_UUID)).valueHandle);
    if (!r.ok) throw new Error(`INFO read refused: ATT error 0x${r.error.toString(16)}`);
    return new Uint8Array(r.value);
  }

  async write(value: Uint8Array, options: { withResponse: boolean }): Promise<void> {
    const rx = (await this.characteristic(RX_CHAR_UUID)).valueHandle;
    if (!options.withResponse) {
      this.writeCommand(rx, value);
      return;
    }
    const r = await this.writeRequest(rx, value);
    if (!r.ok) throw new Error(`write refused: ATT error 0x${r.error.toString(16)}`);
  }

  async subscribe(onNotify: (value: Uint8Array) => void): Promise<void> {
    const tx = await this.characteristic(TX_CHAR_UUID);
    if (tx.cccdHandle === undefined) throw new Error('TX has no CCCD');
    this.#notify = onNotify;
    const r = await this.writeRequest(tx.cccdHandle, Buffer.from([1, 0]));
    if (!r.ok) throw new Error(`subscribe refused: ATT error 0x${r.error.toString(16)}`);
  }

  onDisconnect(listener: (info: DisconnectInfo) => void): Unsubscribe {
    this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  closed(reason: number): void {
    if (!this.connected) return;
    this.connected = false;
    this.disconnectReason = reason;
    this.#pending?.timer.cancel();
    this.#pending?.reject(new Error('disconnected'));
    this.#pending = undefined;
    for (const q of this.#queue.splice(0)) q();
    const info: DisconnectInfo = {
      reason: reason === REMOTE_USER_TERMINATED ? 'remote' : reason === 0x16 ? 'local' : 'link-lost',
      hciReason: reason,
      error: new RadioError('DISCONNECTED', `the link went down (HCI reason 0x${reason.toString(16)})`),
    };
    for (const l of this.#disconnectListeners) l(info);
    for (const w of this.#closedWaiters.splice(0)) w();
  }

  /** Resolves when the link is down (by either side). */
  whenClosed(): Promise<void> {
    if (!this.connected) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  /** Resolves `true` when the link went down within `ms` of air time, else `false`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (!this.connected) return true;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.central.scheduler.setTimer(() => resolve(false), ms);
    });
    const r = await Promise.race([this.whenClosed().then(() => true), timeout]);
    timer?.cancel();
    return r;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.central.command(
      Op.Disconnect,
      Buffer.from([this.handle & 0xff, this.handle >> 8, REMOTE_USER_TERMINATED]),
    );
    await this.whenClosed();
  }

  async rssi(): Promise<number> {
    return -50;
  }
}
