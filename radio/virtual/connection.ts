/**
 * The link layer of one virtual connection: connection events, PDUs, data length, PHY, connection
 * updates, termination and the supervision timeout (Core Vol 6 Part B §4.5, §5.1). MODEL.md
 * states the model; link-model.ts gives its throughput as formulas.
 *
 * Data the hosts write waits in the controllers until a connection event. In an event the central
 * and the peripheral exchange PDUs (central first, T_IFS apart; a side with nothing to send sends
 * an empty PDU) until both queues are empty, `maxPdusPerEvent` PDUs went each way, or the next
 * exchange would not end before the next event. What was carried is delivered to the receiving
 * host at the end of the event (plus any added latency), and the sender's host gets Number Of
 * Completed Packets for each of its HCI packets whose last PDU went out. Idle events (nothing
 * queued, nothing pending) are not simulated: they would change nothing a host sees.
 */
import {
  CONN_INTERVAL_UNIT_MS,
  CONNECTION_UPDATE_EVENTS,
  CONTROL_PROCEDURE_EVENTS,
  HciStatus,
  Llid,
  MAX_DATA_LENGTH,
  MIN_CONN_INTERVAL_MS,
  MIN_DATA_LENGTH,
  PacketBoundary,
  SUPERVISION_TIMEOUT_UNIT_MS,
  T_IFS_US,
  TRANSMIT_WINDOW_DELAY_MS,
} from './constants.js';
import { type Controller, txTimeUs } from './controller.js';
import {
  aclPacket,
  connectionUpdateComplete,
  dataLengthChange,
  disconnectionComplete,
  numberOfCompletedPackets,
  phyUpdateComplete,
  readRemoteFeaturesComplete,
} from './hci.js';
import { type LinkParameters, type Phy, pduAirtimeUs } from './link-model.js';
import type { Scheduled } from './scheduler.js';

/** The connection parameters of an LE Create Connection. */
export interface ConnectionRequest {
  minIntervalMs: number;
  maxIntervalMs: number;
  latency: number;
  supervisionTimeoutMs: number;
}

/** What the air provides to a connection. */
export interface ConnectionServices {
  now(): number;
  at(time: number, run: () => void): Scheduled;
  /** The connection closed; `reasons` maps each controller whose host was told to its reason code. */
  closed(connection: Connection, reasons: ReadonlyMap<Controller, number>): void;
  /** Extra one-way latency new connections start with, ms. */
  defaultLatencyMs(): number;
}

interface TxPacket {
  data: Buffer;
  offset: number;
  start: boolean;
}

class End {
  readonly tx: TxPacket[] = [];
  open = true;
  completedInEvent = 0;
  lastDelivery = 0;
  constructor(
    readonly controller: Controller,
    readonly handle: number,
  ) {}
}

/** Counters for tests and benchmarks. */
export interface ConnectionStats {
  /** Connection events that carried at least one PDU. */
  events: number;
  pdusToPeripheral: number;
  pdusToCentral: number;
  /** PDU payload octets (L2CAP bytes) in each direction. */
  octetsToPeripheral: number;
  octetsToCentral: number;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly central: Controller;
  readonly peripheral: Controller;
  /** Current link parameters (interval, PDUs per event, data length, PHY). */
  readonly parameters: LinkParameters;
  latency: number;
  supervisionTimeoutMs: number;
  /** Simulated time the connection was created, ms. */
  readonly createdAt: number;
  readonly stats: ConnectionStats = {
    events: 0,
    pdusToPeripheral: 0,
    pdusToCentral: 0,
    octetsToPeripheral: 0,
    octetsToCentral: 0,
  };

  private readonly centralEnd: End;
  private readonly peripheralEnd: End;
  private open = true;
  private anchor: number;
  private lastEvent = Number.NEGATIVE_INFINITY;
  private eventTask: Scheduled | undefined;
  private latencyMs: number;
  /** Why nothing gets through: the link was lost, the devices are out of range, a side vanished. */
  private down: 'lost' | 'range' | 'peer gone' | undefined;
  private supervision: Scheduled | undefined;
  private octetsUntilLoss: number | undefined;
  private termination: { by: Controller; reason: number } | undefined;

  constructor(
    private readonly services: ConnectionServices,
    central: Controller,
    peripheral: Controller,
    request: ConnectionRequest,
  ) {
    this.central = central;
    this.peripheral = peripheral;
    const preferred = central.link;
    this.parameters = {
      connectionIntervalMs: chooseInterval(
        preferred.connectionIntervalMs,
        request.minIntervalMs,
        request.maxIntervalMs,
      ),
      maxPdusPerEvent: Math.min(preferred.maxPdusPerEvent, peripheral.link.maxPdusPerEvent),
      dataLength: MIN_DATA_LENGTH,
      phy: '1M',
    };
    this.latency = request.latency;
    this.supervisionTimeoutMs = request.supervisionTimeoutMs;
    this.latencyMs = services.defaultLatencyMs();
    this.createdAt = services.now();
    this.anchor = this.createdAt + TRANSMIT_WINDOW_DELAY_MS;
    this.centralEnd = new End(central, central.allocateHandle());
    this.peripheralEnd = new End(peripheral, peripheral.allocateHandle());
  }

  get centralHandle(): number {
    return this.centralEnd.handle;
  }

  get peripheralHandle(): number {
    return this.peripheralEnd.handle;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Is the link currently carrying nothing (lost, out of range, one side gone)? */
  get isDown(): boolean {
    return this.down !== undefined;
  }

  /** @internal Both hosts learn of the connection; the controllers start their procedures. */
  start(): void {
    this.central.connected(this, this.centralEnd.handle);
    this.peripheral.connected(this, this.peripheralEnd.handle);
    // Controllers that support longer PDUs or 2M negotiate them themselves after connecting.
    const dataLength = Math.min(this.central.initialDataLength, this.peripheral.initialDataLength);
    if (dataLength > MIN_DATA_LENGTH)
      this.afterEvents(CONTROL_PROCEDURE_EVENTS, () => this.setDataLength(dataLength));
    if (this.central.preferredPhy === '2M' && this.peripheral.preferredPhy === '2M') {
      this.afterEvents(CONTROL_PROCEDURE_EVENTS, () => this.setPhy('2M', undefined));
    }
  }

  peerOf(controller: Controller): Controller {
    return controller === this.central ? this.peripheral : this.central;
  }

  handleOf(controller: Controller): number {
    return this.endOf(controller).handle;
  }

  // ---- test hooks ---------------------------------------------------------------------------

  /**
   * Loses the link: from now (or after `afterOctets` more PDU payload octets, counted both ways)
   * nothing gets through, and both hosts get Disconnection Complete with reason 0x08 (connection
   * timeout) one supervision timeout later.
   */
  lose(options: { afterOctets?: number } = {}): void {
    if (!this.open) return;
    const after = options.afterOctets ?? 0;
    if (after > 0) this.octetsUntilLoss = after;
    else this.goDown('lost');
  }

  /** Adds `ms` of one-way delay to every data PDU delivered from now on. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Sets how many PDUs per event and direction the link carries from the next event on. */
  setMaxPdusPerEvent(count: number): void {
    this.parameters.maxPdusPerEvent = Math.max(1, count);
  }

  // ---- air / controllers → link ------------------------------------------------------------

  /** @internal The air moved the two devices into or out of each other's range. */
  setInRange(inRange: boolean): void {
    if (!this.open) return;
    if (!inRange) this.goDown('range');
    else if (this.down === 'range') {
      this.down = undefined;
      this.supervision?.cancel();
      this.supervision = undefined;
      this.scheduleEvent();
    }
  }

  /** @internal An HCI ACL packet from `from`'s host, queued for the next connection event. */
  enqueue(from: Controller, data: Buffer, start: boolean): void {
    const end = this.endOf(from);
    if (!this.open || !end.open) return;
    end.tx.push({ data, offset: 0, start });
    this.scheduleEvent();
  }

  /** @internal How many of `controller`'s host packets wait in this link. */
  packetsQueuedBy(controller: Controller): number {
    return this.endOf(controller).tx.length;
  }

  /** @internal HCI_Disconnect from `by`'s host: LL_TERMINATE_IND goes out at the next event. */
  terminate(by: Controller, reason: number): void {
    if (!this.open || this.termination) return;
    this.termination = { by, reason };
    this.scheduleEvent();
  }

  /** @internal `controller` was reset or powered off: its side of the link is gone without a word. */
  dropEnd(controller: Controller): void {
    const end = this.endOf(controller);
    if (!end.open) return;
    end.open = false;
    end.tx.length = 0;
    if (!this.centralEnd.open && !this.peripheralEnd.open) this.close(new Map());
    else this.goDown('peer gone');
  }

  /** @internal LE Set Data Length from a host. */
  requestDataLength(octets: number): void {
    const target = Math.max(
      MIN_DATA_LENGTH,
      Math.min(
        octets,
        this.central.supportedDataLength,
        this.peripheral.supportedDataLength,
        MAX_DATA_LENGTH,
      ),
    );
    this.afterEvents(CONTROL_PROCEDURE_EVENTS, () => this.setDataLength(target));
  }

  /** @internal LE Set PHY from `by`'s host. */
  requestPhy(by: Controller, phy: Phy): void {
    this.afterEvents(CONTROL_PROCEDURE_EVENTS, () => this.setPhy(phy, by));
  }

  /** @internal LE Connection Update: new parameters at an instant a few events ahead. */
  update(minIntervalMs: number, maxIntervalMs: number, latency: number, supervisionTimeoutMs: number): void {
    const interval = chooseInterval(this.central.link.connectionIntervalMs, minIntervalMs, maxIntervalMs);
    this.afterEvents(CONNECTION_UPDATE_EVENTS, () => {
      const instant = this.services.now();
      this.anchor = instant;
      this.parameters.connectionIntervalMs = interval;
      this.latency = latency;
      this.supervisionTimeoutMs = supervisionTimeoutMs;
      this.eventTask?.cancel();
      this.eventTask = undefined;
      this.scheduleEvent();
      for (const end of this.ends()) {
        end.controller.emitEvent(
          connectionUpdateComplete(
            end.handle,
            interval / CONN_INTERVAL_UNIT_MS,
            latency,
            supervisionTimeoutMs / SUPERVISION_TIMEOUT_UNIT_MS,
          ),
        );
      }
    });
  }

  /** @internal LE Read Remote Features from `by`'s host. */
  readRemoteFeatures(by: Controller): void {
    this.afterEvents(1, () => {
      if (this.endOf(by).open)
        by.emitEvent(readRemoteFeaturesComplete(this.handleOf(by), this.peerOf(by).leFeatures));
    });
  }

  // ---- the engine ---------------------------------------------------------------------------

  private endOf(controller: Controller): End {
    return controller === this.central ? this.centralEnd : this.peripheralEnd;
  }

  private ends(): End[] {
    return [this.centralEnd, this.peripheralEnd].filter((e) => e.open);
  }

  /** The first anchor point at or after `time` and after the last event. */
  private nextAnchor(time: number): number {
    const interval = this.parameters.connectionIntervalMs;
    const from = Math.max(time, this.lastEvent + interval / 2);
    const k = Math.max(0, Math.ceil((from - this.anchor) / interval - 1e-9));
    return this.anchor + k * interval;
  }

  /** Runs `action` at the anchor `events` connection events from now (an LL control procedure). */
  private afterEvents(events: number, action: () => void): void {
    const time = this.nextAnchor(this.services.now()) + events * this.parameters.connectionIntervalMs;
    this.services.at(time, () => {
      if (this.open && !this.down) action();
    });
  }

  private scheduleEvent(): void {
    if (!this.open || this.eventTask || this.down) return;
    const pending = this.termination || this.centralEnd.tx.length > 0 || this.peripheralEnd.tx.length > 0;
    if (!pending) return;
    const time = this.nextAnchor(this.services.now());
    this.eventTask = this.services.at(time, () => this.connectionEvent(time));
  }

  private connectionEvent(time: number): void {
    this.eventTask = undefined;
    this.lastEvent = time;
    if (!this.open || this.down) return;
    if (this.termination) {
      const { by, reason } = this.termination;
      this.close(
        new Map([
          [by, HciStatus.LocalHostTerminated],
          [this.peerOf(by), reason],
        ]),
      );
      return;
    }
    const intervalUs = this.parameters.connectionIntervalMs * 1000;
    const toPeripheral: Buffer[] = [];
    const toCentral: Buffer[] = [];
    let usedUs = 0;
    let exchanges = 0;
    while (exchanges < this.parameters.maxPdusPerEvent) {
      const up = this.nextPduLength(this.centralEnd);
      const downLength = this.nextPduLength(this.peripheralEnd);
      if (up === undefined && downLength === undefined) break;
      const duration =
        pduAirtimeUs(up ?? 0, this.parameters.phy) +
        T_IFS_US +
        pduAirtimeUs(downLength ?? 0, this.parameters.phy) +
        T_IFS_US;
      if (exchanges > 0 && usedUs + duration > intervalUs) break;
      if (this.octetsUntilLoss !== undefined) {
        const octets = (up ?? 0) + (downLength ?? 0);
        if (octets >= this.octetsUntilLoss) {
          this.octetsUntilLoss = undefined;
          this.goDown('lost', time + usedUs / 1000);
          break;
        }
        this.octetsUntilLoss -= octets;
      }
      if (up !== undefined) toPeripheral.push(this.takePdu(this.centralEnd, up));
      if (downLength !== undefined) toCentral.push(this.takePdu(this.peripheralEnd, downLength));
      usedUs += duration;
      exchanges++;
    }
    if (exchanges > 0) this.stats.events++;
    this.stats.pdusToPeripheral += toPeripheral.length;
    this.stats.pdusToCentral += toCentral.length;
    const end = time + usedUs / 1000;
    this.services.at(end, () => {
      this.completePackets(this.centralEnd);
      this.completePackets(this.peripheralEnd);
    });
    this.deliver(this.peripheralEnd, toPeripheral, end);
    this.deliver(this.centralEnd, toCentral, end);
    this.scheduleEvent();
  }

  /** Payload octets of the next PDU `end` sends, or undefined when it has nothing queued. */
  private nextPduLength(end: End): number | undefined {
    while (end.tx.length > 0 && end.tx[0]!.data.length === 0) {
      end.tx.shift();
      end.completedInEvent++;
    }
    const packet = end.tx[0];
    if (!packet) return undefined;
    return Math.min(packet.data.length - packet.offset, this.parameters.dataLength);
  }

  /** Takes one PDU off `end`'s queue, as an H4 ACL packet for the receiving host minus its handle. */
  private takePdu(end: End, length: number): Buffer {
    const packet = end.tx[0]!;
    const llid = packet.offset === 0 && packet.start ? Llid.Start : Llid.Continuation;
    const payload = packet.data.subarray(packet.offset, packet.offset + length);
    packet.offset += length;
    if (packet.offset >= packet.data.length) {
      end.tx.shift();
      end.completedInEvent++;
    }
    if (end === this.centralEnd) this.stats.octetsToPeripheral += length;
    else this.stats.octetsToCentral += length;
    const boundary = llid === Llid.Start ? PacketBoundary.FirstFlushable : PacketBoundary.Continuing;
    return Buffer.concat([Buffer.of(boundary), payload]);
  }

  private deliver(to: End, pdus: Buffer[], eventEnd: number): void {
    if (pdus.length === 0) return;
    const at = Math.max(eventEnd + this.latencyMs, to.lastDelivery);
    to.lastDelivery = at;
    this.services.at(at, () => {
      if (!this.open || !to.open) return;
      for (const pdu of pdus) to.controller.emitPacket(aclPacket(to.handle, pdu[0]!, pdu.subarray(1)));
    });
  }

  private completePackets(end: End): void {
    const count = end.completedInEvent;
    end.completedInEvent = 0;
    if (count === 0 || !this.open || !end.open) return;
    end.controller.packetsCompleted(count);
    end.controller.emitPacket(numberOfCompletedPackets([{ handle: end.handle, count }]));
  }

  private setDataLength(octets: number): void {
    if (octets === this.parameters.dataLength) return;
    this.parameters.dataLength = octets;
    for (const end of this.ends())
      end.controller.emitEvent(dataLengthChange(end.handle, octets, txTimeUs(octets)));
  }

  private setPhy(phy: Phy, requestedBy: Controller | undefined): void {
    const changed = phy !== this.parameters.phy;
    this.parameters.phy = phy;
    const code = phy === '2M' ? 2 : 1;
    for (const end of this.ends()) {
      if (changed || end.controller === requestedBy)
        end.controller.emitEvent(phyUpdateComplete(end.handle, code));
    }
  }

  private goDown(why: 'lost' | 'range' | 'peer gone', at = this.services.now()): void {
    if (!this.open) return;
    if (this.down !== 'lost') this.down = why;
    this.eventTask?.cancel();
    this.eventTask = undefined;
    if (this.supervision) return;
    // Core Vol 6 Part B §4.5.2: the link is lost when no packet arrives for connSupervisionTimeout.
    this.supervision = this.services.at(at + this.supervisionTimeoutMs, () => {
      const reasons = new Map<Controller, number>();
      for (const end of this.ends()) {
        const terminating = this.termination?.by === end.controller;
        reasons.set(
          end.controller,
          terminating ? HciStatus.LocalHostTerminated : HciStatus.ConnectionTimeout,
        );
      }
      this.close(reasons);
    });
  }

  /** Closes the connection; each open end's host gets Disconnection Complete with its reason. */
  private close(reasons: ReadonlyMap<Controller, number>): void {
    if (!this.open) return;
    this.open = false;
    this.eventTask?.cancel();
    this.supervision?.cancel();
    const told = new Map<Controller, number>();
    for (const end of [this.centralEnd, this.peripheralEnd]) {
      end.tx.length = 0;
      if (!end.open) continue;
      end.open = false;
      end.controller.disconnected(end.handle);
      const reason = reasons.get(end.controller);
      if (reason !== undefined) {
        end.controller.emitEvent(disconnectionComplete(end.handle, reason));
        told.set(end.controller, reason);
      }
    }
    this.services.closed(this, told);
  }
}

/** The central's preferred interval inside the host's range, on the 1.25 ms grid. */
function chooseInterval(preferredMs: number, minMs: number, maxMs: number): number {
  const clamped = Math.min(Math.max(preferredMs, minMs, MIN_CONN_INTERVAL_MS), Math.max(maxMs, minMs));
  return Math.round(clamped / CONN_INTERVAL_UNIT_MS) * CONN_INTERVAL_UNIT_MS;
}
