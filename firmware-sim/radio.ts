/**
 * The simulated toy's radio: which peripheral it serves PawLink's GATT service on, and what it
 * advertises.
 *
 * Radios (`ToyRadioSpec`):
 * - `virtual` (the default of `pawlink-sim`): the unmodified bleno of the chosen family over the
 *   virtual radio. Without an `endpoint` the toy joins the air shared by the processes of this user
 *   (connectToSharedAir: the first process hosts it, at real pace; `pawlink` phones join it); with
 *   one (an in-process air, tests) it uses that.
 * - `ble`: bleno on a real adapter (`hciDeviceId`); no adapter is RadioError NO_ADAPTER with a
 *   message that says what to do.
 * - `peripheral`: any `Peripheral` (the in-memory link in tests).
 *
 * Advertising (PROTOCOL.md §3): service data = format, version, flags, the rotating tag (only once
 * the toy has a tag key, i.e. a pairing) and the discriminator (only while the pairing window is
 * open). A new tag is drawn at every 15-minute boundary of the toy's clock (`tagEpoch`), at each
 * change of what is advertised (window opened or closed, first pairing, wipe, factory reset) and
 * after each connection ends (bleno resumes advertising by itself then: the tag must not link the
 * connection to what follows).
 */

import { encodeAdvertisement, makeTag, tagEpoch } from '../protocol/gatt/advertising.js';
import { TAG_ROTATION_MS } from '../protocol/gatt/constants.js';
import type { RandomSource } from '../protocol/random.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { openBlePeripheral } from '../radio/ble/index.js';
import type { Scheduler, Timer } from '../radio/clock.js';
import type { Peripheral, PeripheralOptions } from '../radio/link.js';
import type { AirEndpoint } from '../radio/virtual/air.js';
import { installVirtualHci } from '../radio/virtual/install.js';
import { connectToSharedAir, type SharedAir } from '../radio/virtual/shared-air.js';

export type ToyRadioSpec =
  | {
      kind: 'virtual';
      /** BLE library family: 'abandonware' (default) or 'stoprocent'; default from PAWLINK_BLE_LIB. */
      family?: string;
      /** An air to use (in-process); default: join or host the shared air. */
      endpoint?: AirEndpoint;
      /** The shared air's name (default $PAWLINK_AIR, else "default"). */
      airName?: string;
    }
  | { kind: 'ble'; family?: string; hciDeviceId?: number }
  | {
      kind: 'peripheral';
      open(options: PeripheralOptions): Peripheral | Promise<Peripheral>;
      description?: string;
    };

export interface ToyRadio {
  readonly peripheral: Peripheral;
  /** One line for people: what the toy is on. */
  readonly description: string;
  /** For the shared virtual air: whether this process hosts it or joined another's. */
  readonly airRole: 'host' | 'guest' | undefined;
  /** Closes the peripheral and what it needed (the shared air this process joined or hosts). */
  close(): Promise<void>;
}

export interface OpenToyRadioOptions extends PeripheralOptions {
  /** The clock for the radio's own durations (default: real time). */
  scheduler?: Scheduler;
}

/**
 * Opens the toy's peripheral. @throws RadioError (NO_ADAPTER, NO_PERMISSION, LIBRARY_MISSING,
 * BAD_OPTION, BLE_LIBRARY_MISSING, SHARED_AIR_UNREACHABLE, ...); nothing stays open on failure.
 */
export async function openToyRadio(spec: ToyRadioSpec, options: OpenToyRadioOptions): Promise<ToyRadio> {
  const peripheralOptions: PeripheralOptions = {
    info: options.info,
    ...(options.maxMtu !== undefined ? { maxMtu: options.maxMtu } : {}),
  };
  const scheduler = options.scheduler ? { scheduler: options.scheduler } : {};
  switch (spec.kind) {
    case 'peripheral': {
      const peripheral = await spec.open(peripheralOptions);
      return {
        peripheral,
        description: spec.description ?? peripheral.kind,
        airRole: undefined,
        close: () => peripheral.close(),
      };
    }
    case 'ble': {
      const peripheral = await openBlePeripheral({
        ...peripheralOptions,
        ...scheduler,
        ...(spec.family !== undefined ? { family: spec.family } : {}),
        ...(spec.hciDeviceId !== undefined ? { hciDeviceId: spec.hciDeviceId } : {}),
      });
      return {
        peripheral,
        description: peripheral.kind,
        airRole: undefined,
        close: () => peripheral.close(),
      };
    }
    case 'virtual': {
      const shared: SharedAir | undefined = spec.endpoint
        ? undefined
        : await connectToSharedAir({
            ...(spec.airName !== undefined ? { name: spec.airName } : {}),
            air: { timeScale: 1 },
          });
      const endpoint: AirEndpoint = spec.endpoint ?? shared!;
      try {
        const peripheral = await openBlePeripheral({
          ...peripheralOptions,
          ...scheduler,
          ...(spec.family !== undefined ? { family: spec.family } : {}),
          virtual: (family) => {
            installVirtualHci(family, endpoint);
          },
        });
        const where = shared
          ? shared.role === 'host'
            ? `hosting the shared virtual air ${shared.path}`
            : `on the shared virtual air ${shared.path} (hosted by another process: keep it running)`
          : 'on an in-process virtual air';
        return {
          peripheral,
          description: `${peripheral.kind}, ${where}`,
          airRole: shared?.role,
          close: async () => {
            try {
              await peripheral.close();
            } finally {
              await shared?.close();
            }
          },
        };
      } catch (e) {
        await shared?.close();
        throw e;
      }
    }
  }
}

/** What the advertisement depends on, read from the toy at each refresh. */
export interface AdvertisedState {
  pairingWindowOpen: boolean;
  /** The tag key (present once the toy has a pairing). */
  tagKey: Uint8Array | undefined;
  discriminator: number;
}

/**
 * Keeps the peripheral's service data current (see the module comment). Advertise calls are
 * serialised; a failure is reported to `onError` and the next refresh tries again.
 */
export class Advertiser {
  readonly #peripheral: Peripheral;
  readonly #scheduler: Scheduler;
  readonly #random: RandomSource;
  readonly #read: () => AdvertisedState;
  readonly #onError: (e: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #key: string | undefined;
  #serviceData: Uint8Array | undefined;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(options: {
    peripheral: Peripheral;
    scheduler: Scheduler;
    random: RandomSource;
    read: () => AdvertisedState;
    onError: (e: unknown) => void;
  }) {
    this.#peripheral = options.peripheral;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#read = options.read;
    this.#onError = options.onError;
  }

  /** The service data last handed to the peripheral. */
  get serviceData(): Uint8Array | undefined {
    return this.#serviceData;
  }

  /**
   * Advertises the current state. Without `newTag`, nothing happens when the advertised state
   * (window, tag key) has not changed; with it (rotation, after a connection) a new tag is drawn.
   * Resolves when the peripheral took the data (never rejects).
   */
  refresh(options: { newTag?: boolean } = {}): Promise<void> {
    if (this.#stopped) return this.#chain;
    const state = this.#read();
    const key = `${state.pairingWindowOpen}:${state.tagKey ? Buffer.from(state.tagKey).toString('hex') : '-'}`;
    if (key === this.#key && !options.newTag) return this.#chain;
    this.#key = key;
    const serviceData = encodeAdvertisement({
      version: PROTOCOL_VERSION,
      pairingWindowOpen: state.pairingWindowOpen,
      ...(state.tagKey ? { tag: makeTag(state.tagKey, this.#random) } : {}),
      ...(state.pairingWindowOpen ? { discriminator: state.discriminator } : {}),
    });
    this.#serviceData = serviceData;
    this.#armRotation(state.tagKey !== undefined);
    this.#chain = this.#chain.then(async () => {
      if (this.#stopped) return;
      try {
        await this.#peripheral.advertise({ serviceData });
      } catch (e) {
        this.#key = undefined; // try again at the next refresh
        this.#onError(e);
      }
    });
    return this.#chain;
  }

  /** A new tag at the next 15-minute boundary, while there is a tag to rotate. */
  #armRotation(hasTag: boolean): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (!hasTag || this.#stopped) return;
    const now = this.#scheduler.now();
    const next = (tagEpoch(now) + 1) * TAG_ROTATION_MS;
    this.#timer = this.#scheduler.setTimer(() => {
      this.#timer = undefined;
      void this.refresh({ newTag: true });
    }, next - now);
  }

  /** Stops rotating and refreshing; resolves when the last advertise call settled. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    return this.#chain;
  }
}
