/**
 * What the noble and bleno adapters share: host options, waiting for `poweredOn`, and reading a
 * disconnect reason.
 */
import type { EventEmitter } from 'node:events';
import type { Scheduler } from '../clock.js';
import { HciReason, POWER_ON_TIMEOUT_MS } from '../constants.js';
import { radioError } from '../internal.js';
import type { DisconnectReason } from '../link.js';
import { HARDWARE_GUIDE, NO_ADAPTER_ADVICE } from './family.js';

/** How to start a host stack (resolved from the public options in index.ts). */
export interface HostOptions {
  /** hciN of a real adapter; undefined: the host stack's default (its env var, else the first). */
  hciDeviceId: number | undefined;
  /** Bind with HCI_CHANNEL_USER; undefined: leave the environment's choice. */
  userChannel: boolean | undefined;
  powerOnTimeoutMs: number;
  /** Time for the caller's durations (scan and connect timeouts); safety limits run on real time. */
  scheduler: Scheduler;
  /**
   * 'hci': the host stack's own HCI code over an HCI socket (Linux, the virtual radio, USB/UART
   * dongles). 'platform': the operating system's stack (CoreBluetooth on macOS; WinRT for noble
   * on Windows), where the HCI internals the adapters otherwise use do not exist.
   */
  bindings: 'hci' | 'platform';
}

/** Which bindings a real adapter uses on this platform (the virtual radio is always 'hci'). */
export function platformBindings(
  role: 'central' | 'peripheral',
  platform = process.platform,
): 'hci' | 'platform' {
  if (platform === 'darwin') return 'platform';
  if (platform === 'win32' && role === 'central') return 'platform';
  return 'hci';
}

export const DEFAULT_POWER_ON_TIMEOUT_MS = POWER_ON_TIMEOUT_MS;

/**
 * Resolves when `host` reports `poweredOn`. `unsupported` and `unauthorized` fail at once;
 * anything else (`poweredOff`, `resetting`, `unknown`) fails when the time is up. The state is
 * checked right away as well: a host may have reported it before the listener was added.
 */
export function waitForPowerOn(
  host: EventEmitter,
  state: () => string,
  options: HostOptions,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const dev = options.hciDeviceId === undefined ? 'the adapter' : `hci${options.hciDeviceId}`;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      host.removeListener('stateChange', onState);
      if (error) reject(error);
      else resolve();
    };
    const onState = (s: string) => {
      if (s === 'poweredOn') finish();
      else if (s === 'unsupported') {
        finish(
          radioError(
            'NO_ADAPTER',
            `no usable Bluetooth adapter (${what} reports ${dev} unsupported: absent, no LE, or not usable from this process): ${NO_ADAPTER_ADVICE}`,
          ),
        );
      } else if (s === 'unauthorized') {
        finish(
          radioError(
            'NO_PERMISSION',
            `this process may not use ${dev}: give the real node binary cap_net_raw and cap_net_admin, see ${HARDWARE_GUIDE}`,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      const s = state();
      finish(
        radioError(
          'NO_ADAPTER',
          `${dev} did not power on within ${options.powerOnTimeoutMs} ms (${what} state: ${s}): bring it up (sudo hciconfig hciN up), or with HCI_CHANNEL_USER=1 take it down first; see ${HARDWARE_GUIDE}`,
        ),
      );
    }, options.powerOnTimeoutMs);
    host.on('stateChange', onState);
    onState(state());
  });
}

/** The reason for a disconnect the host reported with an HCI code (or a word, or nothing). */
export function disconnectReason(hci: unknown): DisconnectReason {
  switch (hci) {
    case HciReason.LocalHost:
      return 'local';
    case HciReason.RemoteUserTerminated:
    case HciReason.RemoteLowResources:
    case HciReason.RemotePowerOff:
      return 'remote';
    default:
      // 0x08 supervision timeout, 0x3e failed to be established, a vanished adapter ('cleanup')...
      return 'link-lost';
  }
}
