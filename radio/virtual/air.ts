/**
 * The air: the space virtual controllers share. It carries advertising to scanners, turns an
 * initiator hearing a connectable advertiser into a connection, and holds the fault hooks (range,
 * loss of advertising reports, latency, lost links) that tests reach.
 *
 * Advertising events are simulated only while someone could notice them: a scanner that has not
 * yet reported the advertiser's current data (or reports duplicates), or an initiator waiting for
 * it. A quiet air schedules nothing, so virtual time never spins on idle advertising.
 */
import { EventEmitter } from 'node:events';
import { seededRandom } from '../../protocol/random.js';
import { RadioError } from '../errors.js';
import { Connection, type ConnectionServices } from './connection.js';
import { ADDRESS_PREFIX, AdvType, Defaults, MAX_ADV_DELAY_MS } from './constants.js';
import { type AirServices, Controller, type ControllerOptions, type HostPort } from './controller.js';
import { formatAddress, parseAddress } from './hci.js';
import { checkLinkParameters, type LinkParameters } from './link-model.js';
import { Scheduler } from './scheduler.js';

export interface AirOptions {
  /** 1 = real pace (default), 0.01 = 100× faster, 0 = virtual time (scheduler.ts). */
  timeScale?: number;
  /** Link defaults for every controller (each may override them): interval, PDUs per event, data length, PHY. */
  link?: Partial<LinkParameters>;
  /** Probability 0..1 that a scanner misses one advertising report (each report drawn on its own). */
  advertisingReportLoss?: number;
  /** Extra one-way latency of every data PDU on new connections, ms. */
  latencyMs?: number;
  /** Seed of the air's random draws (advertising delay, report loss). */
  seed?: string;
}

/** The host side's handle on a controller: H4 packets in, detach when the host is done. */
export interface ControllerPort {
  /** An H4 packet (command or ACL data) from the host. */
  send(packet: Buffer): void;
  /** Powers the controller off and removes it from the air. */
  detach(): void;
}

/** Anything a virtual HCI socket can attach a controller to: an in-process air or a shared one. */
export interface AirEndpoint {
  attach(host: HostPort, options?: ControllerOptions): ControllerPort;
}

export interface AirEvents {
  attach: [controller: Controller];
  detach: [controller: Controller];
  connect: [connection: Connection];
  /** `reasons`: the Disconnection Complete reason each host was told (none for a vanished side). */
  disconnect: [connection: Connection, reasons: ReadonlyMap<Controller, number>];
}

export class Air extends EventEmitter<AirEvents> implements AirEndpoint {
  readonly scheduler: Scheduler;
  private readonly linkDefaults: LinkParameters;
  private readonly random: () => number;
  private reportLoss: number;
  private latencyMs: number;
  private readonly attached: Controller[] = [];
  private readonly open = new Set<Connection>();
  private readonly outOfRange = new Set<string>();
  private nextId = 1;
  private closed = false;

  constructor(options: AirOptions = {}) {
    super();
    this.scheduler = new Scheduler(options.timeScale ?? 1);
    this.linkDefaults = {
      connectionIntervalMs: Defaults.connectionIntervalMs,
      maxPdusPerEvent: Defaults.maxPdusPerEvent,
      dataLength: Defaults.dataLength,
      phy: Defaults.phy,
      ...options.link,
    };
    checkLinkParameters(this.linkDefaults);
    this.reportLoss = checkRate(options.advertisingReportLoss ?? 0);
    this.latencyMs = options.latencyMs ?? Defaults.latencyMs;
    const bytes = seededRandom(options.seed ?? 'pawlink-air');
    this.random = () => Buffer.from(bytes(4)).readUInt32LE(0) / 2 ** 32;
  }

  /** Simulated time, ms. */
  now(): number {
    return this.scheduler.now();
  }

  get controllers(): readonly Controller[] {
    return this.attached;
  }

  get connections(): readonly Connection[] {
    return [...this.open];
  }

  /** The controller with this address ("c0:de:5a:00:00:01") or label. */
  controller(addressOrLabel: string): Controller | undefined {
    const wanted = addressOrLabel.toLowerCase();
    return this.attached.find((c) => c.addressString === wanted || c.label === addressOrLabel);
  }

  attach(host: HostPort, options: ControllerOptions = {}): ControllerPort {
    if (this.closed) throw new RadioError('AIR_CLOSED', 'this air is closed: create a new one');
    if (options.link) checkLinkParameters({ ...this.linkDefaults, ...options.link });
    const id = this.nextId++;
    const address = options.address ? parseAddress(options.address) : this.allocateAddress(id);
    if (this.attached.some((c) => c.address.equals(address))) {
      throw new RadioError('ADDRESS_IN_USE', `address ${formatAddress(address)} is already on this air`);
    }
    const controller = new Controller(id, address, options, host, this.servicesFor());
    this.attached.push(controller);
    this.emit('attach', controller);
    return { send: (packet) => controller.fromHost(packet), detach: () => controller.detach() };
  }

  // ---- fault hooks --------------------------------------------------------------------------

  /**
   * Puts two controllers out of (or back into) each other's range: advertising between them stops
   * being heard, and their connections carry nothing; each side's host gets Disconnection Complete
   * (0x08, connection timeout) one supervision timeout later unless range returns before that.
   */
  setInRange(a: Controller, b: Controller, inRange: boolean): void {
    const key = pairKey(a, b);
    if (inRange) this.outOfRange.delete(key);
    else this.outOfRange.add(key);
    for (const c of this.open) {
      if ((c.central === a && c.peripheral === b) || (c.central === b && c.peripheral === a))
        c.setInRange(inRange);
    }
    this.wake();
  }

  /** Takes a controller out of (or back into) range of every other controller. */
  setOutOfRange(controller: Controller, out: boolean): void {
    for (const other of this.attached) if (other !== controller) this.setInRange(controller, other, !out);
  }

  inRange(a: Controller, b: Controller): boolean {
    return !this.outOfRange.has(pairKey(a, b));
  }

  /** Probability 0..1 that a scanner misses one advertising report from now on. */
  setAdvertisingReportLoss(rate: number): void {
    this.reportLoss = checkRate(rate);
  }

  /** Extra one-way latency of every data PDU, ms, on open and future connections. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
    for (const c of this.open) c.setLatency(this.latencyMs);
  }

  /** Changes the link defaults for connections made from now on. */
  configureLink(link: Partial<LinkParameters>): void {
    const next = { ...this.linkDefaults, ...link };
    checkLinkParameters(next);
    Object.assign(this.linkDefaults, next);
  }

  /** Powers off every controller (their hosts see the device go down) and stops the clock. */
  close(): void {
    if (this.closed) return;
    for (const c of [...this.attached]) c.detach();
    this.closed = true;
    this.scheduler.close();
    this.removeAllListeners();
  }

  // ---- internals ----------------------------------------------------------------------------

  private allocateAddress(id: number): Buffer {
    const text = [...ADDRESS_PREFIX, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(':');
    return parseAddress(text);
  }

  private servicesFor(): AirServices {
    return {
      now: () => this.now(),
      at: (time, run) => {
        this.scheduler.at(time, run);
      },
      wake: () => this.wake(),
      linkDefaults: () => this.linkDefaults,
      random: this.random,
      advertisingReportLoss: () => this.reportLoss,
      detached: (controller) => {
        const i = this.attached.indexOf(controller);
        if (i >= 0) this.attached.splice(i, 1);
        for (const key of [...this.outOfRange]) {
          if (key.split(':').includes(String(controller.id))) this.outOfRange.delete(key);
        }
        this.emit('detach', controller);
        this.wake();
      },
    };
  }

  private connectionServices(): ConnectionServices {
    return {
      now: () => this.now(),
      at: (time, run) => this.scheduler.at(time, run),
      defaultLatencyMs: () => this.latencyMs,
      closed: (connection, reasons) => {
        this.open.delete(connection);
        this.emit('disconnect', connection, reasons);
      },
    };
  }

  /** Re-evaluates which advertisers need advertising events. */
  private wake(): void {
    if (this.closed) return;
    for (const c of this.attached) this.scheduleAdvertising(c);
  }

  private scheduleAdvertising(advertiser: Controller): void {
    const adv = advertiser.advertising;
    if (!advertiser.isAttached || !adv.enabled || advertiser.advertisingTimer) return;
    if (
      !this.attached.some(
        (c) => c !== advertiser && this.inRange(c, advertiser) && c.wantsAdvertisingFrom(advertiser),
      )
    ) {
      return;
    }
    const now = this.now();
    const last = advertiser.lastAdvertisingEvent;
    const delay = this.random() * MAX_ADV_DELAY_MS;
    // Advertising keeps its own rhythm whether or not anyone listened to the last events.
    const time = Number.isFinite(last)
      ? last + Math.max(1, Math.ceil((now - last) / adv.intervalMs)) * adv.intervalMs + delay
      : now + delay;
    const timer = { time, cancelled: false };
    advertiser.advertisingTimer = timer;
    this.scheduler.at(time, () => {
      if (timer.cancelled) return;
      advertiser.advertisingTimer = undefined;
      this.advertisingEvent(advertiser, time);
      this.scheduleAdvertising(advertiser);
    });
  }

  /**
   * One advertising event: every scanner in range hears it; then, of the initiators waiting for
   * this advertiser, the one that asked first connects (an advertiser accepts one CONNECT_IND per
   * event and stops advertising: Core 5.4 Vol 6 Part B §4.4.2.9). On a real radio the first
   * CONNECT_IND received wins, which no initiator controls; "first asked" keeps the simulation
   * deterministic and independent of the order the hosts attached in, so a host that re-connects
   * the moment it is dropped cannot hold a toy against one already waiting.
   */
  private advertisingEvent(advertiser: Controller, time: number): void {
    advertiser.lastAdvertisingEvent = time;
    const adv = advertiser.advertising;
    let first: Controller | undefined;
    for (const c of [...this.attached]) {
      if (c === advertiser || !this.inRange(c, advertiser)) continue;
      c.hearAdvertising(advertiser);
      const initiator = c.initiator;
      if (!initiator || !adv.enabled || !initiator.peerAddress.equals(advertiser.address)) continue;
      const directed = adv.type === AdvType.AdvDirectIndHigh || adv.type === AdvType.AdvDirectIndLow;
      if (adv.type === AdvType.AdvInd || (directed && adv.directAddress.equals(c.address))) {
        if (!first || initiator.sequence < first.initiator!.sequence) first = c;
      }
    }
    if (first) this.connect(first, advertiser);
  }

  private connect(central: Controller, peripheral: Controller): void {
    const request = central.initiator;
    if (!request) return;
    const connection = new Connection(this.connectionServices(), central, peripheral, request);
    this.open.add(connection);
    connection.start();
    this.emit('connect', connection);
    this.wake();
  }
}

/** Creates an air in this process. */
export function createAir(options: AirOptions = {}): Air {
  return new Air(options);
}

function pairKey(a: Controller, b: Controller): string {
  return a.id < b.id ? `${a.id}:${b.id}` : `${b.id}:${a.id}`;
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RadioError('BAD_LOSS_RATE', `loss rate ${rate} is not in 0..1`);
  return rate;
}
