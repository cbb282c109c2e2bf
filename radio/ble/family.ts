/**
 * Choosing and loading a BLE library family (radio.md, "The two library families"), and turning
 * what goes wrong on the way into `RadioError`s that say what to do.
 *
 * Loading is lazy and goes through the CommonJS `require` of this module (`createRequire`), not a
 * static import: nothing of noble or bleno is loaded until a BLE radio is asked for, a missing
 * package is an error value rather than a crash at import, and the require cache can be cleared
 * before each load. That last point matters: @abandonware/bleno is a module singleton (one
 * peripheral per module instance), and a family's HCI code reads its socket module when it loads,
 * so the virtual radio's socket (radio/virtual/) must be installed before — a fresh load after
 * the installer runs always picks it up.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { BLE_LIB_ENV } from '../constants.js';
import type { RadioError } from '../errors.js';
import { radioError } from '../internal.js';

export type BleFamily = 'abandonware' | 'stoprocent';
export const BLE_FAMILIES: readonly BleFamily[] = ['abandonware', 'stoprocent'];

/** Where a real adapter is documented for people (the hardware tester's guide). */
export const HARDWARE_GUIDE = 'docs/hardware.md';

const require = createRequire(import.meta.url);

/** The family from the option, else PAWLINK_BLE_LIB, else 'abandonware' (the product brief's). */
export function resolveFamily(option?: string, env: NodeJS.ProcessEnv = process.env): BleFamily {
  const chosen = option ?? env[BLE_LIB_ENV];
  if (chosen === undefined || chosen === '') return 'abandonware';
  if ((BLE_FAMILIES as readonly string[]).includes(chosen)) return chosen as BleFamily;
  throw radioError(
    'BAD_OPTION',
    `unknown BLE library family '${chosen}'${option === undefined ? ` (from ${BLE_LIB_ENV})` : ''}: use ${BLE_FAMILIES.map((f) => `'${f}'`).join(' or ')}`,
  );
}

export function packageName(family: BleFamily, role: 'noble' | 'bleno'): string {
  return `@${family}/${role}`;
}

/** The directory of an installed package, or undefined when it is not installed. */
function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Loads modules of a family's package afresh (`subpaths` inside `@family/role`): every module of
 * the package already in the require cache is dropped first. Other packages, such as the HCI
 * socket module the virtual radio installs, stay cached.
 */
export function loadFresh(
  family: BleFamily,
  role: 'noble' | 'bleno',
  subpaths: readonly string[],
): unknown[] {
  const name = packageName(family, role);
  const dir = packageDir(name);
  if (!dir) {
    throw radioError(
      'LIBRARY_MISSING',
      `${name} is not installed: run \`npm install ${name}\` (an optional dependency of PawLink), or choose the other family with ${BLE_LIB_ENV}=${family === 'abandonware' ? 'stoprocent' : 'abandonware'}`,
    );
  }
  const prefix = dir + sep;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(prefix) && !key.slice(prefix.length).startsWith(`node_modules${sep}`)) {
      delete require.cache[key];
    }
  }
  try {
    return subpaths.map((p) => require(`${name}/${p}`) as unknown);
  } catch (e) {
    throw hostError(e, family, name);
  }
}

/** The code Node's and the native socket modules put on their errors ('EAFNOSUPPORT'...). */
function errnoOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const message = String((e as { message?: unknown }).message ?? '');
  return /\b(E[A-Z]{3,})\b/.exec(message)?.[1];
}

export const NO_ADAPTER_ADVICE = `use the virtual radio (default) or set up a real adapter: see ${HARDWARE_GUIDE}`;

/** Maps an exception from loading or starting a host stack to a RadioError that says what to do. */
export function hostError(e: unknown, family: BleFamily, what: string, hciDeviceId?: number): RadioError {
  const errno = errnoOf(e);
  const detail = e instanceof Error ? e.message : String(e);
  const dev = hciDeviceId === undefined ? 'the adapter' : `hci${hciDeviceId}`;
  switch (errno) {
    case 'EAFNOSUPPORT':
      return radioError(
        'NO_ADAPTER',
        `no Bluetooth adapter found (no Bluetooth in the kernel): ${NO_ADAPTER_ADVICE}`,
        e,
      );
    case 'ENODEV':
      return radioError(
        'NO_ADAPTER',
        `no Bluetooth adapter found (${dev} does not exist): ${NO_ADAPTER_ADVICE}`,
        e,
      );
    case 'EPERM':
    case 'EACCES':
      return radioError(
        'NO_PERMISSION',
        `this process may not use ${dev}: give the real node binary cap_net_raw and cap_net_admin (sudo setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(which node)")"), see ${HARDWARE_GUIDE}`,
        e,
      );
    case 'EBUSY':
      return radioError(
        'NO_PERMISSION',
        `${dev} is busy: BlueZ holds it. With HCI_CHANNEL_USER=1 the adapter must be down (sudo hciconfig hciN down) or bluetoothd stopped; see ${HARDWARE_GUIDE}`,
        e,
      );
    case 'MODULE_NOT_FOUND':
    case 'ERR_DLOPEN_FAILED':
      return radioError(
        'LIBRARY_MISSING',
        `${what} (${family}) could not load a part it needs (${detail.split('\n')[0]}): reinstall it (npm rebuild ${packageName(family, 'noble')} ${packageName(family, 'bleno')}) or choose the other family with ${BLE_LIB_ENV}`,
        e,
      );
    default:
      if (/bindings file|native build|\.node\b/i.test(detail)) {
        return radioError(
          'LIBRARY_MISSING',
          `${what} (${family}) has no native part built for this machine: run npm rebuild, or use the virtual radio`,
          e,
        );
      }
      return radioError('HOST_ERROR', `${what} (${family}) failed: ${detail.split('\n')[0]}`, e);
  }
}

/**
 * On Linux with the kernel's HCI sockets (the default driver), an adapter is a directory under
 * /sys/class/bluetooth. Checking first turns "no Bluetooth here" into one clear error instead of
 * the host stacks' console warnings. Skipped for the UART/USB drivers and other platforms.
 */
export function preflightAdapter(
  hciDeviceId: number | undefined,
  where: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; sysfs?: string } = {},
): void {
  const env = where.env ?? process.env;
  if ((where.platform ?? process.platform) !== 'linux') return;
  if (
    env.BLUETOOTH_HCI_SOCKET_UART_PORT ||
    env.BLUETOOTH_HCI_SOCKET_FORCE_UART ||
    env.BLUETOOTH_HCI_SOCKET_FORCE_USB ||
    env.BLUETOOTH_HCI_SOCKET_USB_VID
  ) {
    return;
  }
  const root = where.sysfs ?? '/sys/class/bluetooth';
  const adapters = existsSync(root) ? readdirSync(root).filter((n) => /^hci\d+$/.test(n)) : [];
  if (adapters.length === 0) {
    throw radioError('NO_ADAPTER', `no Bluetooth adapter found: ${NO_ADAPTER_ADVICE}`);
  }
  if (hciDeviceId !== undefined && !adapters.includes(`hci${hciDeviceId}`)) {
    throw radioError(
      'NO_ADAPTER',
      `no Bluetooth adapter hci${hciDeviceId} (this machine has ${adapters.sort().join(', ')}): choose one of those, see ${HARDWARE_GUIDE}`,
    );
  }
}

/** Runs `fn` with some environment variables set (undefined: removed), restoring them after. */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Process-wide listeners a host stack adds while starting ('exit', 'SIGINT'), so that closing can
 * remove exactly those: both families add some, and @abandonware adds them as anonymous bound
 * functions that nothing else can name.
 */
export class ProcessListenerTrap {
  #before = new Map<string, Set<(...args: unknown[]) => void>>();
  #added: Array<[string, (...args: unknown[]) => void]> = [];
  static readonly EVENTS: readonly string[] = ['exit', 'SIGINT'];

  /** Remembers the listeners present now. */
  begin(): void {
    for (const ev of ProcessListenerTrap.EVENTS) {
      this.#before.set(ev, new Set(listenersOf(ev)));
    }
  }

  /** Records every listener added since `begin`. */
  end(): void {
    for (const ev of ProcessListenerTrap.EVENTS) {
      const before = this.#before.get(ev) ?? new Set();
      for (const l of listenersOf(ev)) {
        if (!before.has(l)) this.#added.push([ev, l]);
      }
    }
    this.#before.clear();
  }

  /** Removes them. */
  release(): void {
    for (const [ev, l] of this.#added) (process as NodeJS.EventEmitter).removeListener(ev, l);
    this.#added = [];
  }
}

function listenersOf(event: string): Array<(...args: unknown[]) => void> {
  return (process as NodeJS.EventEmitter).listeners(event) as Array<(...args: unknown[]) => void>;
}

/** The HCI object inside a host stack, as far as closing it needs. */
export interface HciLike {
  _socket?: { stop?: () => void };
  _isDevUp?: boolean | null;
  pollIsDevUp?: () => void;
  stop?: () => void;
}

/**
 * Makes the raw-mode device poll of an HCI object (a 1 s timer the host re-arms forever: radio.md)
 * stop holding the process open: every timer the poll arms is unref'd. The socket itself keeps a
 * running process alive, as it should; the poll no longer keeps a finished one. Call it before the
 * host starts.
 */
export function unrefDevicePoll(hci: HciLike | undefined): void {
  const poll = hci?.pollIsDevUp;
  if (!hci || typeof poll !== 'function') return;
  hci.pollIsDevUp = () => {
    const original = globalThis.setTimeout;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      const timer = original(...args);
      timer.unref();
      return timer;
    }) as typeof setTimeout;
    try {
      poll.call(hci);
    } finally {
      globalThis.setTimeout = original;
    }
  };
}

/**
 * Stops an HCI object for good. In raw mode both families poll `isDevUp` once a second with a timer
 * they never clear (radio.md: it keeps the process alive; on a machine without Bluetooth the next
 * poll even throws once the socket is stopped). So the poll is disarmed and, once the socket is
 * stopped, the HCI object gets an inert stand-in: the timer already set fires once more, finds
 * nothing changed and does not re-arm. Never throws.
 */
export function stopHci(hci: HciLike | undefined): void {
  if (!hci) return;
  const last = hci._isDevUp ?? null;
  const socket = hci._socket;
  try {
    hci.pollIsDevUp = () => {};
    if (typeof hci.stop === 'function') hci.stop();
    else socket?.stop?.();
  } catch {
    // Stopping a socket that never started: nothing to release.
  }
  const inert = () => {};
  hci._socket = {
    stop: inert,
    isDevUp: () => last,
    write: inert,
    start: inert,
    setFilter: inert,
    on: inert,
    once: inert,
    removeListener: inert,
    removeAllListeners: inert,
  } as HciLike['_socket'];
}
