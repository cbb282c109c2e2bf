/**
 * Puts the virtual HCI socket at a library family's socket seam, so the unmodified noble and bleno
 * of that family run their own HCI, L2CAP, ATT and GATT code against virtual controllers.
 *
 * Both families get their socket class from one CommonJS module (radio.md): noble's and bleno's
 * `lib/hci-socket/hci.js` require `@abandonware/bluetooth-hci-socket` (the class itself) or
 * `@stoprocent/bluetooth-hci-socket` (the class plus `loadDriver(name)`). The installer puts a
 * module of its own into the CommonJS require cache under that module's resolved file name, so
 * the hosts' `require` finds it and never loads the native binding. It must therefore run before
 * the family's noble or bleno is first imported in the process.
 */
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { RadioError } from '../errors.js';
import type { AirEndpoint, ControllerPort } from './air.js';
import type { ControllerOptions, HostPort } from './controller.js';
import { createHciSocketClass, driverUnavailable, type HciFamily, type SocketBinder } from './socket.js';

export interface VirtualHciOptions {
  /** Options for each controller a socket of this family attaches, or a function of its device id and order. */
  controller?: ControllerOptions | ((devId: number, index: number) => ControllerOptions);
}

/** One family's installation. */
export interface VirtualHci {
  readonly family: HciFamily;
  readonly endpoint: AirEndpoint;
  /** How many controllers sockets of this family have attached through this installation. */
  readonly attachedCount: number;
  /**
   * Powers off every controller attached through this installation: their hosts see the adapter
   * go down, and their sockets stop holding the process open. Call it when the hosts are done
   * (the @abandonware hosts have no stop() of their own).
   */
  close(): void;
}

const PACKAGES: Record<HciFamily, { hosts: readonly string[]; socket: string }> = {
  abandonware: {
    hosts: ['@abandonware/noble', '@abandonware/bleno'],
    socket: '@abandonware/bluetooth-hci-socket',
  },
  stoprocent: {
    hosts: ['@stoprocent/noble', '@stoprocent/bleno'],
    socket: '@stoprocent/bluetooth-hci-socket',
  },
};

const MARK = Symbol.for('pawlink.virtual-hci');
const require = createRequire(import.meta.url);

interface Slot {
  binder: SocketBinder;
}

/**
 * Installs the virtual HCI socket for `family`, attaching every socket its noble and bleno bind to
 * `endpoint` (an in-process air from createAir, or a shared one from connectToSharedAir).
 * Installing again in the same process points sockets bound from then on at the new endpoint.
 *
 * Throws RadioError `BLE_LIBRARY_MISSING` when neither noble nor bleno of the family is installed,
 * `INSTALLED_TOO_LATE` when one of them already loaded its HCI code with the real socket.
 */
export function installVirtualHci(
  family: HciFamily,
  endpoint: AirEndpoint,
  options: VirtualHciOptions = {},
): VirtualHci {
  const { hosts, socket } = PACKAGES[family];
  const seams = new Map<string, string[]>(); // socket module file → the host package dirs using it
  for (const host of hosts) {
    let main: string;
    try {
      main = require.resolve(host);
    } catch {
      continue;
    }
    try {
      const file = createRequire(main).resolve(socket);
      seams.set(file, [...(seams.get(file) ?? []), path.dirname(main)]);
    } catch {
      throw new RadioError(
        'BLE_LIBRARY_MISSING',
        `${host} is installed without ${socket}: reinstall ${host}`,
      );
    }
  }
  if (seams.size === 0) {
    throw new RadioError(
      'BLE_LIBRARY_MISSING',
      `neither ${hosts.join(' nor ')} is installed: npm install ${hosts.join(' ')} (or choose the other family)`,
    );
  }

  const ports = new Set<ControllerPort>();
  let index = 0;
  const binder: SocketBinder = {
    bind(host: HostPort, devId: number): ControllerPort {
      const controller =
        typeof options.controller === 'function' ? options.controller(devId, index) : options.controller;
      index++;
      const port = endpoint.attach(host, controller);
      ports.add(port);
      return {
        send: (packet) => port.send(packet),
        detach: () => {
          ports.delete(port);
          port.detach();
        },
      };
    },
  };

  for (const [file, hostDirs] of seams) {
    const cached = require.cache[file];
    const existing = cached?.exports as { [MARK]?: Slot } | undefined;
    if (existing?.[MARK]) {
      existing[MARK].binder = binder;
      continue;
    }
    // A host whose HCI code is loaded holds the real socket class (its index builds a default
    // instance at import): replacing the module now would not reach it.
    if (hostDirs.some((dir) => require.cache[path.join(dir, 'lib', 'hci-socket', 'hci.js')])) {
      throw new RadioError(
        'INSTALLED_TOO_LATE',
        `${hosts.join(' or ')} is already loaded in this process with the real HCI socket: install the virtual ` +
          'radio before importing it (or drop it from the require cache and load it again)',
      );
    }
    require.cache[file] = socketModule(family, file, binder);
  }

  return {
    family,
    endpoint,
    get attachedCount() {
      return index;
    },
    close() {
      for (const port of [...ports]) port.detach();
      ports.clear();
    },
  };
}

/** A CommonJS module whose exports are the virtual socket class (and, for @stoprocent, loadDriver). */
function socketModule(family: HciFamily, file: string, binder: SocketBinder): NodeJS.Module {
  const slot: Slot = { binder };
  const Socket = createHciSocketClass(family, { bind: (host, devId) => slot.binder.bind(host, devId) });
  const exports = Object.assign(Socket, { [MARK]: slot });
  if (family === 'stoprocent') {
    Object.assign(exports, {
      loadDriver(name: string) {
        if (name === 'default' || name === 'native') return Socket;
        throw driverUnavailable(name);
      },
    });
  }
  const mod = new Module(file);
  mod.filename = file;
  mod.loaded = true;
  mod.exports = exports;
  return mod;
}
