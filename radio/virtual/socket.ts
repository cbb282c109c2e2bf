/**
 * A stand-in for the BluetoothHciSocket class of @abandonware/bluetooth-hci-socket and
 * @stoprocent/bluetooth-hci-socket: the API noble and bleno call (bindRaw, bindUser, bindControl,
 * isDevUp, setFilter, start, stop, write, reset, getDeviceList, 'data' / 'error' / 'state' events),
 * backed by a virtual controller instead of a kernel socket.
 *
 * - Each bindRaw/bindUser attaches a controller of its own (own address), whatever the device id:
 *   noble and bleno in one process get two radios, as on two adapters.
 * - A raw socket applies the host's HCI filter (packet types and event codes) as the kernel does.
 * - bindControl gives a management socket that accepts and ignores writes (bleno's long-term keys).
 * - Between start() and stop() an attached socket keeps the process alive, as the native socket's
 *   poll handle does; a socket whose controller is gone (detached, air closed) does not.
 * - stop() powers the socket's controller off (the hosts stop a socket only when done with it).
 * - The hosts poll isDevUp() from a 1 s timer that re-arms forever (radio.md). isDevUp() unrefs the
 *   timer the host arms right after calling it, so the poll never holds a finished process open.
 */
import { EventEmitter } from 'node:events';
import { RadioError } from '../errors.js';
import type { ControllerPort } from './air.js';
import type { HostPort } from './controller.js';

export type HciFamily = 'abandonware' | 'stoprocent';

/** Finds a controller for a socket the host has just bound. */
export interface SocketBinder {
  bind(host: HostPort, devId: number): ControllerPort;
}

interface Filter {
  types: number;
  events: bigint;
}

const NO_DEVICE_ID = 0;
const KEEP_ALIVE_MS = 2 ** 30;

/**
 * The virtual socket. The installer makes one subclass per family (createHciSocketClass), carrying
 * the family and where its sockets find controllers.
 */
export class VirtualHciSocket extends EventEmitter {
  static family: HciFamily = 'abandonware';
  static binder: SocketBinder = {
    bind() {
      throw new RadioError(
        'VIRTUAL_HCI_NOT_INSTALLED',
        'use installVirtualHci() to make virtual HCI sockets',
      );
    },
  };

  private mode: 'raw' | 'user' | 'control' | undefined;
  private port: ControllerPort | undefined;
  private up = false;
  private started = false;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private filter: Filter | undefined;
  private devId = NO_DEVICE_ID;

  private get kind(): typeof VirtualHciSocket {
    return this.constructor as typeof VirtualHciSocket;
  }

  bindRaw(devId?: number): number {
    return this.bind('raw', devId);
  }

  bindUser(devId?: number): number {
    return this.bind('user', devId);
  }

  bindControl(): void {
    this.mode = 'control';
  }

  isDevUp(): boolean {
    unrefTheNextTimeout();
    return this.up;
  }

  getDeviceList() {
    const devices = [
      {
        devId: this.devId,
        devUp: this.up,
        idVendor: null,
        idProduct: null,
        busNumber: null,
        deviceAddress: null,
      },
    ];
    return this.kind.family === 'stoprocent' ? Promise.resolve(devices) : devices;
  }

  setFilter(filter: Buffer): void {
    if (filter.length < 12) return;
    this.filter = {
      types: filter.readUInt32LE(0),
      events: BigInt(filter.readUInt32LE(4)) | (BigInt(filter.readUInt32LE(8)) << 32n),
    };
  }

  start(): void {
    this.started = true;
    this.holdProcess();
  }

  /**
   * The hosts stop their socket only when they are done with the adapter (@stoprocent's
   * stop(), an adapter's release). With no kernel to keep the device running, the controller
   * powers off: its advertising stops and its peers lose the link.
   */
  stop(): void {
    this.started = false;
    this.releaseProcess();
    this.port?.detach();
  }

  write(data: Buffer): void {
    if (this.mode === 'control') return;
    if (!this.port || !this.up) {
      if (this.listenerCount('error') > 0) {
        this.emit('error', Object.assign(new Error('Network is down'), { code: 'ENETDOWN' }));
      }
      return;
    }
    this.port.send(Buffer.from(data));
  }

  /** @stoprocent's sockets offer an HCI_Reset shortcut. */
  reset(): void {
    this.write(Buffer.from([0x01, 0x03, 0x0c, 0x00]));
  }

  /** The native @abandonware socket prunes its L2CAP connect workarounds every minute; nothing to prune. */
  cleanup(): void {}

  private bind(mode: 'raw' | 'user', devId: number | undefined): number {
    this.mode = mode;
    this.devId = devId ?? NO_DEVICE_ID;
    if (!this.port) {
      this.port = this.kind.binder.bind(
        {
          receive: (packet) => this.deliver(packet),
          down: () => this.deviceDown(),
        },
        this.devId,
      );
      this.up = true;
    }
    return this.devId;
  }

  private deliver(packet: Buffer): void {
    if (!this.started || !this.passesFilter(packet)) return;
    try {
      this.emit('data', packet);
    } catch (error) {
      // A host's handler threw: surface it as the native socket's poll callback would, without
      // breaking the controller that is delivering.
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private passesFilter(packet: Buffer): boolean {
    const f = this.filter;
    if (this.mode !== 'raw' || !f) return true;
    const type = packet[0]!;
    if (((f.types >>> type) & 1) === 0) return false;
    return type !== 0x04 || ((f.events >> BigInt(packet[1]! & 63)) & 1n) === 1n;
  }

  private deviceDown(): void {
    this.up = false;
    this.releaseProcess();
    if (this.started) this.emit('state', false);
  }

  private holdProcess(): void {
    if (this.keepAlive || !this.up || this.mode === 'control') return;
    this.keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
  }

  private releaseProcess(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}

/** The socket class one family's hosts construct, its sockets attached through `binder`. */
export function createHciSocketClass(family: HciFamily, binder: SocketBinder): typeof VirtualHciSocket {
  return class extends VirtualHciSocket {
    static override family = family;
    static override binder = binder;
  };
}

let unrefArmed = false;

/**
 * Makes the next setTimeout in the current synchronous run unref'd: the device poll of noble and
 * bleno calls isDevUp() and then re-arms itself with setTimeout(poll, 1000) in the same run.
 * The patch lasts until the next microtask.
 */
function unrefTheNextTimeout(): void {
  if (unrefArmed) return;
  const original = globalThis.setTimeout;
  const unrefing = Object.assign((...args: Parameters<typeof setTimeout>) => {
    const timer = original(...args);
    timer.unref();
    return timer;
  }, original) as typeof setTimeout;
  globalThis.setTimeout = unrefing;
  unrefArmed = true;
  queueMicrotask(() => {
    if (globalThis.setTimeout === unrefing) globalThis.setTimeout = original;
    unrefArmed = false;
  });
}

/** The error @stoprocent's loadDriver gives for drivers the virtual radio replaces. */
export function driverUnavailable(name: string): RadioError {
  return new RadioError(
    'DRIVER_UNAVAILABLE',
    `the virtual radio is installed in this process, so the "${name}" HCI driver is not available: ` +
      'run real adapters in a process without the virtual radio',
  );
}
