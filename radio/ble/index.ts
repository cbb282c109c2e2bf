/**
 * BLE radios through the real host stacks: a central over noble and a peripheral over bleno, for
 * either library family, on the virtual radio or a real adapter (radio.md; docs/hardware.md).
 *
 *   const central = await openBleCentral();                            // PAWLINK_BLE_LIB or abandonware, hci0
 *   const toy = await openBlePeripheral({ info, family: 'stoprocent', hciDeviceId: 1 });
 *   const central = await openBleCentral({ virtual: (family) => installVirtualHci(family, air) });
 *
 * Nothing of noble or bleno loads until one of these is called. What goes wrong becomes a
 * `RadioError`: NO_ADAPTER, NO_PERMISSION, LIBRARY_MISSING, BAD_OPTION, HOST_ERROR, with a
 * message that says what to do; a failed open leaves nothing running.
 */

import { realScheduler, type Scheduler } from '../clock.js';
import { ATT_MTU_DEFAULT, BLE_HOST_MTU } from '../constants.js';
import { radioError } from '../internal.js';
import type { Central, Peripheral, PeripheralOptions } from '../link.js';
import { openBlenoPeripheral } from './bleno.js';
import { type BleFamily, preflightAdapter, resolveFamily } from './family.js';
import { DEFAULT_POWER_ON_TIMEOUT_MS, type HostOptions, platformBindings } from './host.js';
import { openNobleCentral } from './noble.js';

export { BLE_FAMILIES, type BleFamily, resolveFamily } from './family.js';

/**
 * Installs the virtual radio's HCI for a family (radio/virtual/), before its noble or bleno is
 * loaded. Called once per open, with the family chosen.
 */
export type VirtualHciInstaller = (family: BleFamily) => void | Promise<void>;

export interface BleOptions {
  /** 'abandonware' (default) or 'stoprocent'; default from PAWLINK_BLE_LIB. */
  family?: string;
  /**
   * The virtual radio instead of an adapter: installs its HCI for the family first. Without it
   * the radio is a real adapter.
   */
  virtual?: VirtualHciInstaller;
  /**
   * A real adapter's id (hciN). Default: NOBLE_HCI_DEVICE_ID / BLENO_HCI_DEVICE_ID, else the host
   * stack's first adapter.
   */
  hciDeviceId?: number;
  /**
   * Bind the adapter with HCI_CHANNEL_USER (exclusive; the adapter must be down and BlueZ must not
   * hold it). Default: the HCI_CHANNEL_USER environment variable; always on for the virtual radio.
   */
  userChannel?: boolean;
  /** How long the adapter may take to power on, ms (default 5000). */
  powerOnTimeoutMs?: number;
  /**
   * The clock for the caller's durations: scan and connect timeouts (default: real time). Pass the
   * virtual radio's clock when it runs faster than real time. The adapters' safety limits (power-on,
   * ATT transactions, GAP commands) always run on real time: they guard against stuck host stacks.
   */
  scheduler?: Scheduler;
}

function envDeviceId(name: string): number | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
}

async function prepare(
  options: BleOptions,
  role: 'central' | 'peripheral',
): Promise<{ family: BleFamily; host: HostOptions; kind: string }> {
  const family = resolveFamily(options.family);
  const id =
    options.hciDeviceId ?? envDeviceId(role === 'central' ? 'NOBLE_HCI_DEVICE_ID' : 'BLENO_HCI_DEVICE_ID');
  if (id !== undefined && !(Number.isInteger(id) && id >= 0)) {
    throw radioError('BAD_OPTION', `HCI device id ${id} is not a whole number ≥ 0`);
  }
  const host: HostOptions = {
    hciDeviceId: id,
    userChannel: options.virtual ? true : options.userChannel,
    powerOnTimeoutMs: options.powerOnTimeoutMs ?? DEFAULT_POWER_ON_TIMEOUT_MS,
    scheduler: options.scheduler ?? realScheduler,
    bindings: options.virtual ? 'hci' : platformBindings(role),
  };
  if (options.virtual) await options.virtual(family);
  else if (host.bindings === 'hci') preflightAdapter(id);
  const where = options.virtual ? 'virtual radio' : `hci${id ?? 0}`;
  const kind = `${role === 'central' ? 'noble' : 'bleno'} (@${family}, ${where})`;
  return { family, host, kind };
}

/** A central over noble. */
export async function openBleCentral(options: BleOptions = {}): Promise<Central> {
  const { family, host, kind } = await prepare(options, 'central');
  return openNobleCentral(family, host, kind);
}

/** A peripheral over bleno, serving PawLink's GATT service. */
export async function openBlePeripheral(options: BleOptions & PeripheralOptions): Promise<Peripheral> {
  const mtu = options.maxMtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < ATT_MTU_DEFAULT || mtu > BLE_HOST_MTU)) {
    throw radioError(
      'BAD_OPTION',
      `peripheral max MTU ${mtu} is outside ${ATT_MTU_DEFAULT}..${BLE_HOST_MTU}`,
    );
  }
  const { family, host, kind } = await prepare(options, 'peripheral');
  return openBlenoPeripheral(
    family,
    host,
    { info: options.info, ...(options.maxMtu !== undefined ? { maxMtu: options.maxMtu } : {}) },
    kind,
  );
}
