/**
 * Test drivers for the unmodified noble and bleno of both families on the virtual radio: a toy
 * peripheral with PawLink's GATT service (RX write / write without response, TX notify, INFO read)
 * and a central that scans, connects, discovers, reads, writes and subscribes.
 *
 * The libraries' own handler signatures differ (@stoprocent passes the connection first); the
 * drivers hide that. Every wait has a wall-clock limit so a broken radio fails a test instead of
 * hanging it.
 */
import type { EventEmitter } from 'node:events';
import { encodeAdvertisement } from '../../../protocol/gatt/advertising.js';
import {
  INFO_CHAR_UUID,
  RX_CHAR_UUID,
  SERVICE_UUID,
  TX_CHAR_UUID,
} from '../../../protocol/gatt/constants.js';
import type { HciFamily } from '../../../radio/virtual/index.js';

export const uuid = (dashed: string) => dashed.replace(/-/g, '');
export const SERVICE = uuid(SERVICE_UUID);
export const RX = uuid(RX_CHAR_UUID);
export const TX = uuid(TX_CHAR_UUID);
export const INFO = uuid(INFO_CHAR_UUID);
export const INFO_VALUE = Buffer.from([1, 1, 1, 0, 16]);
/** PawLink service data while the pairing window is open, with discriminator 0x123. */
export const SERVICE_DATA = Buffer.from(
  encodeAdvertisement({ version: 1, pairingWindowOpen: true, discriminator: 0x123 }),
);

export interface NobleLike extends EventEmitter {
  readonly state: string;
  address: string;
  startScanning(uuids: string[], allowDuplicates: boolean, callback?: (error?: Error) => void): void;
  stopScanning(callback?: () => void): void;
  stop?(): void;
}

export interface PeripheralLike extends EventEmitter {
  readonly id: string;
  readonly address: string;
  readonly state: string;
  readonly mtu: number | null;
  readonly rssi: number;
  readonly advertisement: { serviceData: { uuid: string; data: Buffer }[]; serviceUuids: string[] };
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  updateRssiAsync(): Promise<number>;
  discoverSomeServicesAndCharacteristicsAsync(
    services: string[],
    characteristics: string[],
  ): Promise<{ characteristics: CharacteristicLike[] }>;
}

export interface CharacteristicLike extends EventEmitter {
  readonly uuid: string;
  readAsync(): Promise<Buffer>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
}

export interface BlenoLike extends EventEmitter {
  readonly state: string;
  readonly address: string;
  PrimaryService: new (options: object) => unknown;
  Characteristic: new (options: object) => unknown;
  setServices(services: unknown[], callback: (error?: Error) => void): void;
  startAdvertisingWithEIRData(adv: Buffer, scan: Buffer, callback: (error?: Error) => void): void;
  disconnect(): void;
  stop?(): void;
}

export interface Hosts {
  family: HciFamily;
  noble: NobleLike;
  bleno: BlenoLike;
  /** Stops what the family can stop (@stoprocent has stop(); @abandonware relies on VirtualHci.close()). */
  stop(): void;
}

/** Imports the family's bleno and noble (after installVirtualHci) and powers both on, bleno first. */
export async function loadHosts(family: HciFamily): Promise<Hosts> {
  const bleno = await loadBleno(family);
  const noble = await loadNoble(family);
  return {
    family,
    noble,
    bleno,
    stop() {
      noble.stop?.();
      bleno.stop?.();
    },
  };
}

/** Imports the family's bleno (a module singleton for @abandonware) and waits until it is powered on. */
export async function loadBleno(family: HciFamily): Promise<BlenoLike> {
  const bleno =
    family === 'abandonware'
      ? ((await import('@abandonware/bleno')).default as unknown as BlenoLike)
      : (
          (await import('@stoprocent/bleno')).default as unknown as { withBindings(t: string): BlenoLike }
        ).withBindings('hci');
  await poweredOn(bleno, 'bleno');
  return bleno;
}

/** Imports the family's noble and waits until it is powered on. */
export async function loadNoble(family: HciFamily): Promise<NobleLike> {
  const noble =
    family === 'abandonware'
      ? ((await import('@abandonware/noble')).default as unknown as NobleLike)
      : (
          (await import('@stoprocent/noble')).default as unknown as { withBindings(t: string): NobleLike }
        ).withBindings('hci');
  await poweredOn(noble, 'noble');
  return noble;
}

function poweredOn(host: EventEmitter & { readonly state: string }, name: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = (state: string) => {
        if (state !== 'poweredOn') return;
        host.off('stateChange', check);
        resolve();
      };
      host.on('stateChange', check);
    }),
    `${name} powers on`,
  );
}

/** Rejects with a clear message if `promise` takes longer than `ms` of wall time. */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** The toy side: PawLink's service on bleno, recording what the central does. */
export interface Toy {
  /** Values written to RX, with whether they came without response. */
  readonly writes: { data: Buffer; withoutResponse: boolean }[];
  /** Called after each write to RX has been answered. */
  onWrite: ((data: Buffer, withoutResponse: boolean) => void) | undefined;
  /** Sends a notification on TX to the subscribed central (bleno truncates it to MTU − 3). */
  notify(data: Buffer): void;
  /** Resolves when a central subscribes to TX; gives bleno's maxValueSize. */
  subscribed(): Promise<number>;
  /** Resolves on bleno's next 'accept' / 'disconnect'. */
  accepted(): Promise<void>;
  disconnected(): Promise<void>;
  advertise(): Promise<void>;
}

export async function startToy(hosts: Pick<Hosts, 'bleno' | 'family'>): Promise<Toy> {
  const { bleno, family } = hosts;
  // @stoprocent passes the connection first to every handler.
  const handler =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: unknown[]) =>
      fn(...((family === 'stoprocent' ? args.slice(1) : args) as A));
  const writes: Toy['writes'] = [];
  let sendNotification: ((data: Buffer) => void) | undefined;
  let onSubscribe: ((maxValueSize: number) => void) | undefined;
  const rx = new bleno.Characteristic({
    uuid: RX,
    properties: ['write', 'writeWithoutResponse'],
    onWriteRequest: handler(
      (data: Buffer, _offset: number, withoutResponse: boolean, callback: (result: number) => void) => {
        writes.push({ data: Buffer.from(data), withoutResponse });
        callback(0);
        toy.onWrite?.(Buffer.from(data), withoutResponse);
      },
    ),
  });
  const tx = new bleno.Characteristic({
    uuid: TX,
    properties: ['notify'],
    onSubscribe: handler((maxValueSize: number, update: (data: Buffer) => void) => {
      sendNotification = update;
      onSubscribe?.(maxValueSize);
    }),
    onUnsubscribe: handler(() => {
      sendNotification = undefined;
    }),
  });
  const info = new bleno.Characteristic({
    uuid: INFO,
    properties: ['read'],
    onReadRequest: handler((_offset: number, callback: (result: number, data: Buffer) => void) => {
      callback(0, INFO_VALUE);
    }),
  });
  bleno.on('disconnect', () => {
    sendNotification = undefined;
  });
  await within(
    new Promise<void>((resolve, reject) =>
      bleno.setServices(
        [new bleno.PrimaryService({ uuid: SERVICE, characteristics: [rx, tx, info] })],
        (e) => (e ? reject(e) : resolve()),
      ),
    ),
    'bleno sets its services',
  );
  const toy: Toy = {
    writes,
    onWrite: undefined,
    notify(data) {
      if (!sendNotification) throw new Error('no central is subscribed to TX');
      sendNotification(data);
    },
    subscribed: () =>
      within(
        new Promise<number>((resolve) => {
          onSubscribe = resolve;
        }),
        'the central subscribes to TX',
      ),
    accepted: () =>
      within(new Promise<void>((resolve) => bleno.once('accept', () => resolve())), 'bleno accepts'),
    disconnected: () =>
      within(
        new Promise<void>((resolve) => bleno.once('disconnect', () => resolve())),
        'bleno sees the disconnection',
      ),
    advertise: () =>
      within(
        new Promise<void>((resolve, reject) =>
          bleno.startAdvertisingWithEIRData(advertisingData(), scanResponseData(), (e) =>
            e ? reject(e) : resolve(),
          ),
        ),
        'bleno starts advertising',
      ),
  };
  await toy.advertise();
  return toy;
}

/** Flags + the complete list of 128-bit service UUIDs (PawLink's service). */
export function advertisingData(): Buffer {
  const service = Buffer.from(SERVICE, 'hex').reverse();
  return Buffer.concat([Buffer.from([2, 0x01, 0x06, 1 + service.length, 0x07]), service]);
}

/** 128-bit service data: PawLink's service UUID, then the advertisement's service data. */
export function scanResponseData(): Buffer {
  const service = Buffer.from(SERVICE, 'hex').reverse();
  return Buffer.concat([
    Buffer.from([1 + service.length + SERVICE_DATA.length, 0x21]),
    service,
    SERVICE_DATA,
  ]);
}

/** Scans for PawLink's service and resolves with the first peripheral noble reports. */
export function discover(noble: NobleLike): Promise<PeripheralLike> {
  return within(
    new Promise<PeripheralLike>((resolve, reject) => {
      const found = (peripheral: PeripheralLike) => {
        noble.off('discover', found);
        noble.stopScanning(() => resolve(peripheral));
      };
      noble.on('discover', found);
      noble.startScanning([SERVICE], false, (error) => {
        if (error) reject(error);
      });
    }),
    'noble discovers the toy',
  );
}

export interface Link {
  rx: CharacteristicLike;
  tx: CharacteristicLike;
  info: CharacteristicLike;
}

/** Connects and discovers PawLink's characteristics. */
export async function connect(peripheral: PeripheralLike): Promise<Link> {
  await within(peripheral.connectAsync(), 'noble connects');
  const { characteristics } = await within(
    peripheral.discoverSomeServicesAndCharacteristicsAsync([SERVICE], [RX, TX, INFO]),
    'noble discovers the characteristics',
  );
  const find = (id: string) => {
    const c = characteristics.find((ch) => ch.uuid === id);
    if (!c) throw new Error(`characteristic ${id} not found`);
    return c;
  };
  return { rx: find(RX), tx: find(TX), info: find(INFO) };
}

/** Collects TX notifications until `count` have arrived. */
export function collect(
  tx: CharacteristicLike,
  count: number,
  what = `${count} notifications`,
): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return within(
    new Promise<Buffer[]>((resolve) => {
      const onData = (data: Buffer) => {
        got.push(Buffer.from(data));
        if (got.length === count) {
          tx.off('data', onData);
          resolve(got);
        }
      };
      tx.on('data', onData);
    }),
    what,
  );
}
