/**
 * The SDK's radio: the central a `ToyClient` scans and connects with.
 *
 * | choice | what it is |
 * | --- | --- |
 * | `'virtual'` (default) | the shared virtual air of this machine (radio/virtual `connectToSharedAir`), through the unmodified noble of the chosen family. The simulated toy (`npm start`) normally hosts the air; if no process does, this one hosts it (and finds no toy). |
 * | `'ble'` | a real Bluetooth adapter through noble (`hci`: its number; `bleLib`: the library family). |
 * | a `Central` | one the app (or a test) opened itself; the SDK never closes it. |
 *
 * Nothing of noble loads until `openRadio` runs. Every failure is an `SdkError` whose message says
 * what to do (NO_ADAPTER, NO_PERMISSION, LIBRARY_MISSING, BAD_OPTION, SHARED_AIR_UNREACHABLE...,
 * the radio layer's codes).
 */
import { openBleCentral } from '../radio/ble/index.js';
import { realScheduler, type Scheduler } from '../radio/clock.js';
import type { Central } from '../radio/link.js';
import { connectToSharedAir, installVirtualHci, type SharedAir } from '../radio/virtual/index.js';
import { SdkError } from './errors.js';
import { asSdkError } from './internal.js';

/** Which radio a ToyClient uses: the shared virtual air, a real adapter, or a central of the app's. */
export type RadioChoice = 'virtual' | 'ble' | Central;

export interface RadioOptions {
  /** Default 'virtual'. */
  radio?: RadioChoice;
  /** BLE library family: 'abandonware' (default, or PAWLINK_BLE_LIB) or 'stoprocent'. */
  bleLib?: string;
  /** A real adapter's number (hciN), for `radio: 'ble'`. */
  hci?: number;
  /** The shared virtual air's name (default: PAWLINK_AIR, else "default"), for `radio: 'virtual'`. */
  air?: string;
  /** Time for scan and connect timeouts (default: real time). */
  scheduler?: Scheduler;
}

/** An open radio: the central, and what closes it. */
export interface OpenedRadio {
  central: Central;
  /** 'virtual (host)': this process hosts the shared air, so no other process (no toy) is on it. */
  kind: string;
  /** True when this process hosts the shared virtual air (no simulator is running). */
  hostsVirtualAir: boolean;
  close(): Promise<void>;
}

/** Opens the chosen radio. @throws SdkError with the radio layer's code and advice. */
export async function openRadio(options: RadioOptions = {}): Promise<OpenedRadio> {
  const choice = options.radio ?? 'virtual';
  const scheduler = options.scheduler ?? realScheduler;
  if (typeof choice === 'object' && choice !== null) {
    return { central: choice, kind: choice.kind, hostsVirtualAir: false, close: async () => undefined };
  }
  if (options.hci !== undefined && !(Number.isInteger(options.hci) && options.hci >= 0)) {
    throw new SdkError('BAD_OPTION', `--hci ${options.hci} is not an adapter number (0, 1, ...)`);
  }
  if (choice === 'ble') {
    try {
      const central = await openBleCentral({
        ...(options.bleLib !== undefined ? { family: options.bleLib } : {}),
        ...(options.hci !== undefined ? { hciDeviceId: options.hci } : {}),
        scheduler,
      });
      return { central, kind: central.kind, hostsVirtualAir: false, close: () => central.close() };
    } catch (e) {
      throw asSdkError(e);
    }
  }
  if (choice !== 'virtual') {
    throw new SdkError('BAD_OPTION', `unknown radio '${String(choice)}': use 'virtual' or 'ble'`);
  }
  let shared: SharedAir;
  try {
    shared = await connectToSharedAir(options.air !== undefined ? { name: options.air } : {});
  } catch (e) {
    throw asSdkError(e);
  }
  try {
    const central = await openBleCentral({
      ...(options.bleLib !== undefined ? { family: options.bleLib } : {}),
      virtual: (family) => {
        installVirtualHci(family, shared);
      },
      scheduler,
    });
    return {
      central,
      kind: central.kind,
      hostsVirtualAir: shared.role === 'host',
      close: async () => {
        await central.close();
        await shared.close();
      },
    };
  } catch (e) {
    await shared.close().catch(() => undefined);
    throw asSdkError(e);
  }
}
