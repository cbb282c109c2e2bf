/**
 * The link contract (radio/link.ts), as one parameterised suite run over every transport: the
 * in-memory link, the virtual radio with each BLE library family, and real adapters. Each file in
 * this directory calls `defineLinkContract` with a transport factory.
 *
 * On top of the link rules, the protocol core runs end to end over each transport through the
 * drivers (radio/drive.ts): framing, pairing, a Noise session and a 60-second voice message.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { bytesEqual } from '../../protocol/bytes.js';
import type { PhoneEvent } from '../../protocol/engine/phone.js';
import type { ToyEvent } from '../../protocol/engine/toy.js';
import type { PawLinkError } from '../../protocol/errors.js';
import { decodeAdvertisement, encodeAdvertisement } from '../../protocol/gatt/advertising.js';
import { encodeInfo } from '../../protocol/gatt/info.js';
import type { Scheduler } from '../../radio/clock.js';
import { PhoneDriver, ToyDriver } from '../../radio/drive.js';
import { RadioError } from '../../radio/errors.js';
import type {
  Central,
  CentralConnection,
  DisconnectInfo,
  DiscoveredToy,
  Peripheral,
  PeripheralConnection,
  PeripheralOptions,
} from '../../radio/link.js';
import { makePhone, makeToy, syntheticMessage } from '../protocol/engine/harness.js';

/** One transport under test. A fresh one is opened for each test and closed after it. */
export interface ContractTransport {
  scheduler: Scheduler;
  openPeripheral(options: PeripheralOptions): Promise<Peripheral>;
  openCentral(): Promise<Central>;
  /** The ATT_MTU a connection between the two ends up with. */
  expectedMtu: number;
  /** How long to scan for a toy that should be found, ms (on the transport's scheduler). */
  scanTimeoutMs: number;
  /** How long to scan when nothing should be found, ms. */
  quietScanMs: number;
  /** Loses the most recent link (a radio fault); undefined when the transport cannot (real adapters). */
  loseLink?(): void;
  supervisionTimeoutMs: number;
  /** True when `scheduler` runs virtual time, so durations can be checked exactly. */
  virtualTime: boolean;
  /** Releases what the transport itself holds (after the test's centrals and peripherals closed). */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Skip every case by name (a reason for the report), e.g. when no adapter is configured. */
  skip?: string | undefined;
  /** Skip the fault cases by name (a reason), for transports that cannot lose a link on demand. */
  noFaults?: string | undefined;
}

const INFO = { minVersion: 1, maxVersion: 1, pairingWindowOpen: false, maxWindow: 16 };
const ADV = encodeAdvertisement({ version: 1, pairingWindowOpen: true, discriminator: 0xa5c });

/** Errors are checked by class and code. */
async function expectRadioError(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected RadioError ${code}`).toBeInstanceOf(RadioError);
  expect((e as RadioError).code).toBe(code);
}

function expectRadioErrorSync(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected RadioError ${code}`).toBeInstanceOf(RadioError);
  expect((caught as RadioError).code).toBe(code);
}

/** Per-test environment: opens things, closes them all when the test ends. */
class Env {
  info = INFO;
  readonly peripheralConnections: PeripheralConnection[] = [];
  #closers: Array<() => Promise<void>> = [];

  constructor(readonly t: ContractTransport) {}

  static async open(factory: () => Promise<ContractTransport>): Promise<Env> {
    const env = new Env(await factory());
    onTestFinished(() => env.close());
    return env;
  }

  async close(): Promise<void> {
    for (const c of this.#closers.reverse()) await c();
    this.#closers = [];
    await this.t.close();
  }

  /** A toy that advertises ADV and answers INFO with `this.info`. */
  async toy(serviceData = ADV, maxMtu?: number): Promise<Peripheral> {
    const p = await this.t.openPeripheral({
      info: () => encodeInfo(this.info),
      ...(maxMtu !== undefined ? { maxMtu } : {}),
    });
    this.#closers.push(() => p.close());
    p.onConnect((c) => this.peripheralConnections.push(c));
    await p.advertise({ serviceData });
    return p;
  }

  async phone(): Promise<Central> {
    const c = await this.t.openCentral();
    this.#closers.push(() => c.close());
    return c;
  }

  async find(central: Central, filter?: (sd: Uint8Array | undefined) => boolean): Promise<DiscoveredToy> {
    for await (const toy of central.scan({
      timeoutMs: this.t.scanTimeoutMs,
      ...(filter ? { filter } : {}),
    })) {
      return toy;
    }
    throw new Error(`no toy found within ${this.t.scanTimeoutMs} ms`);
  }

  /** Toy advertising, phone connected to it; the toy's side of the connection. */
  async connected(): Promise<{
    toy: Peripheral;
    central: Central;
    conn: CentralConnection;
    peer: PeripheralConnection;
  }> {
    const toy = await this.toy();
    const central = await this.phone();
    const found = await this.find(central);
    const conn = await central.connect(found.id);
    const peer = this.peripheralConnections.at(-1);
    if (!peer) throw new Error('the toy saw no connection');
    return { toy, central, conn, peer };
  }

  /** Resolves on the transport's scheduler after `ms`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.t.scheduler.setTimer(resolve, ms));
  }

  /** Polls `cond` on the transport's scheduler until it holds (fails after `limitMs`). */
  async until(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
    const start = this.t.scheduler.now();
    while (!cond()) {
      if (this.t.scheduler.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
      await this.sleep(5);
    }
  }
}

/** Records a driver's events; `next(type)` resolves with the first unconsumed one of that type. */
class EventLog<E extends { type: string }> {
  readonly log: E[] = [];
  #waiters: Array<() => void> = [];

  constructor(subscribe: (listener: (e: E) => void) => unknown) {
    subscribe((e) => {
      this.log.push(e);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  has(type: E['type']): boolean {
    return this.log.some((e) => e.type === type);
  }

  async next<T extends E['type']>(type: T, env: Env, limitMs = 60_000): Promise<Extract<E, { type: T }>> {
    const start = env.t.scheduler.now();
    for (;;) {
      const i = this.log.findIndex((e) => e.type === type);
      if (i >= 0) return this.log.splice(i, 1)[0] as Extract<E, { type: T }>;
      const closed = this.log.find((e) => e.type === 'closed') as { reason?: PawLinkError } | undefined;
      if (closed && type !== 'closed') {
        throw new Error(`closed (${closed.reason?.code}) while waiting for '${type}'`);
      }
      if (env.t.scheduler.now() - start > limitMs) {
        throw new Error(`no '${type}' within ${limitMs} ms; saw ${this.log.map((e) => e.type).join(', ')}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        env.t.scheduler.setTimer(resolve, 1_000);
      });
    }
  }
}

export function defineLinkContract(
  title: string,
  factory: () => Promise<ContractTransport>,
  options: ContractOptions = {},
): void {
  const skip = options.skip !== undefined;
  const name = (s: string) => (skip ? `${s} [skipped: ${options.skip}]` : s);
  const test = (s: string, fn: () => Promise<void>) => it.skipIf(skip)(name(s), fn);
  const noFaults = options.noFaults !== undefined;
  const faultTest = (s: string, fn: () => Promise<void>) =>
    it.skipIf(skip || noFaults)(noFaults && !skip ? `${s} [skipped: ${options.noFaults}]` : name(s), fn);

  describe(`link contract: ${title}`, () => {
    test('a toy advertises the service with its service data; a scan finds it, once', async () => {
      const env = await Env.open(factory);
      await env.toy();
      const central = await env.phone();
      const seen: DiscoveredToy[] = [];
      for await (const t of central.scan({ timeoutMs: env.t.quietScanMs })) seen.push(t);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.serviceData).toEqual(ADV);
      expect(decodeAdvertisement(seen[0]!.serviceData!).discriminator).toBe(0xa5c);
      expect(typeof seen[0]!.rssi).toBe('number');
    });

    test('a toy whose service data changes during a scan is reported again with the new data', async () => {
      const env = await Env.open(factory);
      const toy = await env.toy();
      const central = await env.phone();
      const seen: Array<Uint8Array | undefined> = [];
      const changed = encodeAdvertisement({
        version: 1,
        pairingWindowOpen: false,
        tag: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1),
      });
      for await (const t of central.scan({ timeoutMs: env.t.quietScanMs })) {
        seen.push(t.serviceData);
        if (seen.length === 1) await toy.advertise({ serviceData: changed });
        if (seen.length === 2) break;
      }
      expect(seen).toEqual([ADV, changed]);
    });

    test('the scan filter sees the service data and keeps out what it rejects', async () => {
      const env = await Env.open(factory);
      await env.toy();
      const central = await env.phone();
      const offered: Array<Uint8Array | undefined> = [];
      const rejected: DiscoveredToy[] = [];
      for await (const t of central.scan({
        timeoutMs: env.t.quietScanMs,
        filter: (sd) => {
          offered.push(sd);
          return false;
        },
      })) {
        rejected.push(t);
      }
      expect(rejected).toEqual([]);
      expect(offered.some((sd) => sd !== undefined && bytesEqual(sd, ADV))).toBe(true);
      // A second scan (the first one ended) with an accepting filter finds the toy.
      const found = await env.find(
        central,
        (sd) => sd !== undefined && decodeAdvertisement(sd).pairingWindowOpen,
      );
      expect(found.serviceData).toEqual(ADV);
    });

    test('a second scan while one runs fails with SCAN_IN_PROGRESS', async () => {
      const env = await Env.open(factory);
      const central = await env.phone();
      const first = central.scan({ timeoutMs: env.t.quietScanMs })[Symbol.asyncIterator]();
      const pending = first.next();
      await expectRadioError(
        central.scan({ timeoutMs: 10 })[Symbol.asyncIterator]().next(),
        'SCAN_IN_PROGRESS',
      );
      await first.return?.();
      await pending;
    });

    test('connect exchanges the MTU and discovers the service; INFO is read fresh each time', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      expect(conn.mtu).toBe(env.t.expectedMtu);
      expect(conn.maxWriteLength).toBe(env.t.expectedMtu - 3);
      expect(conn.connected).toBe(true);
      expect(await conn.readInfo()).toEqual(encodeInfo(INFO));
      env.info = { ...INFO, pairingWindowOpen: true };
      expect(await conn.readInfo()).toEqual(encodeInfo(env.info));
      await env.until(() => peer.mtu === env.t.expectedMtu, 'the toy to learn the MTU');
    });

    test('a toy that accepts at most MTU 185 gets exactly that from the exchange', async () => {
      const env = await Env.open(factory);
      const toy = await env.toy(ADV, 185);
      expect(toy.maxMtu).toBe(185);
      const central = await env.phone();
      const conn = await central.connect((await env.find(central)).id);
      expect(conn.mtu).toBe(185);
      expect(conn.maxWriteLength).toBe(182);
      await expectRadioError(
        env.t.openPeripheral({ info: () => encodeInfo(INFO), maxMtu: 20 }),
        'BAD_OPTION',
      );
    });

    test('service data longer than a scan response holds is refused with ADV_DATA_TOO_LONG', async () => {
      const env = await Env.open(factory);
      const toy = await env.toy();
      await expectRadioError(toy.advertise({ serviceData: new Uint8Array(14) }), 'ADV_DATA_TOO_LONG');
      // The 13-byte maximum (format, version, flags, tag, discriminator) is accepted and seen.
      const full = encodeAdvertisement({
        version: 1,
        pairingWindowOpen: true,
        tag: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
        discriminator: 0xfff,
      });
      expect(full.length).toBe(13);
      await toy.advertise({ serviceData: full });
      const central = await env.phone();
      const found = await env.find(central, (sd) => sd !== undefined && sd.length === 13);
      expect(found.serviceData).toEqual(full);
    });

    test('connect gives up with TIMEOUT while the toy does not advertise; later it connects', async () => {
      const env = await Env.open(factory);
      const toy = await env.toy();
      const central = await env.phone();
      const found = await env.find(central);
      await toy.stopAdvertising();
      await expectRadioError(central.connect(found.id, { timeoutMs: 500 }), 'TIMEOUT');
      expect(env.peripheralConnections).toHaveLength(0);
      await toy.advertise({ serviceData: ADV });
      const conn = await central.connect(found.id);
      expect(await conn.readInfo()).toEqual(encodeInfo(INFO));
    });

    test('connect to an id no scan reported fails with NOT_FOUND', async () => {
      const env = await Env.open(factory);
      const central = await env.phone();
      await expectRadioError(central.connect('0123456789ab'), 'NOT_FOUND');
    });

    test('writes with and without response arrive in order, flagged, the acknowledged one before it resolves', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      const got: Array<[number, boolean]> = [];
      peer.onWrite((v, withoutResponse) => got.push([v[0]!, withoutResponse]));
      await conn.write(Uint8Array.of(0, 1, 2), { withResponse: true });
      expect(got).toEqual([[0, false]]);
      for (let i = 1; i <= 40; i++) await conn.write(new Uint8Array(20).fill(i), { withResponse: false });
      await conn.write(Uint8Array.of(41), { withResponse: true });
      expect(got.map(([v]) => v)).toEqual(Array.from({ length: 42 }, (_, i) => i));
      expect(got.slice(1, 41).every(([, wr]) => wr)).toBe(true);
      expect(got.at(-1)![1]).toBe(false);
    });

    test('a full-size write passes; one byte more is refused with WRITE_TOO_LONG and nothing is sent', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      const got: Uint8Array[] = [];
      peer.onWrite((v) => got.push(v));
      const max = new Uint8Array(conn.maxWriteLength).fill(7);
      await conn.write(max, { withResponse: true });
      await expectRadioError(
        conn.write(new Uint8Array(conn.maxWriteLength + 1), { withResponse: false }),
        'WRITE_TOO_LONG',
      );
      await expectRadioError(
        conn.write(new Uint8Array(conn.maxWriteLength + 1), { withResponse: true }),
        'WRITE_TOO_LONG',
      );
      await conn.write(Uint8Array.of(1), { withResponse: true });
      expect(got.map((v) => v.length)).toEqual([conn.maxWriteLength, 1]);
      expect(got[0]).toEqual(max);
    });

    test('a write while another is pending fails with WRITE_IN_PROGRESS; the first completes', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      const got: number[] = [];
      peer.onWrite((v) => got.push(v[0]!));
      const first = conn.write(Uint8Array.of(1), { withResponse: true });
      await expectRadioError(conn.write(Uint8Array.of(2), { withResponse: false }), 'WRITE_IN_PROGRESS');
      await first;
      await conn.write(Uint8Array.of(3), { withResponse: true });
      expect(got).toEqual([1, 3]);
    });

    test('notifications arrive in order after subscribing; longer ones are cut to MTU − 3', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      expectRadioErrorSync(() => peer.notify(Uint8Array.of(1)), 'NOT_SUBSCRIBED');
      const got: Uint8Array[] = [];
      await conn.subscribe((v) => got.push(v));
      await env.until(() => peer.subscribed, 'the toy to see the subscription');
      for (let i = 0; i < 30; i++) peer.notify(new Uint8Array(10).fill(i));
      const long = Uint8Array.from({ length: conn.mtu + 20 }, (_, i) => i & 0xff);
      peer.notify(long);
      await env.until(() => got.length === 31, 'all notifications');
      expect(got.slice(0, 30).map((v) => v[0])).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(got[30]).toEqual(long.subarray(0, conn.mtu - 3));
    });

    test('the central disconnects: both sides learn why; later operations fail with NOT_CONNECTED', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      const centralSaw: DisconnectInfo[] = [];
      const toySaw: DisconnectInfo[] = [];
      conn.onDisconnect((i) => centralSaw.push(i));
      peer.onDisconnect((i) => toySaw.push(i));
      const pending = conn.readInfo().then(
        () => 'read',
        (e: unknown) => (e instanceof RadioError ? e.code : 'other'),
      );
      await conn.disconnect();
      expect(['read', 'DISCONNECTED']).toContain(await pending);
      expect(conn.connected).toBe(false);
      expect(centralSaw.map((i) => i.reason)).toEqual(['local']);
      expect(centralSaw[0]!.error.code).toBe('DISCONNECTED');
      await env.until(() => toySaw.length === 1, "the toy's disconnect");
      expect(toySaw[0]!.reason).toBe('remote');
      expect(peer.connected).toBe(false);
      await expectRadioError(conn.write(Uint8Array.of(1), { withResponse: false }), 'NOT_CONNECTED');
      await expectRadioError(conn.readInfo(), 'NOT_CONNECTED');
      expectRadioErrorSync(() => peer.notify(Uint8Array.of(1)), 'NOT_CONNECTED');
      // A listener added afterwards still hears of it.
      const late = await new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
      expect(late.reason).toBe('local');
    });

    test('the toy disconnects: the central sees reason remote', async () => {
      const env = await Env.open(factory);
      const { conn, peer } = await env.connected();
      const centralSaw = new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
      await peer.disconnect();
      expect(peer.connected).toBe(false);
      const info = await centralSaw;
      expect(info.reason).toBe('remote');
      expect(info.error.code).toBe('DISCONNECTED');
      expect(conn.connected).toBe(false);
    });

    test('after a disconnect the toy advertises again by itself; a reconnect works', async () => {
      const env = await Env.open(factory);
      const { central, conn } = await env.connected();
      await conn.disconnect();
      const again = await env.find(central);
      const conn2 = await central.connect(again.id);
      expect(conn2.mtu).toBe(env.t.expectedMtu);
      expect(await conn2.readInfo()).toEqual(encodeInfo(INFO));
      expect(env.peripheralConnections).toHaveLength(2);
    });

    test('RSSI of a connection is a plausible dBm value', async () => {
      const env = await Env.open(factory);
      const { conn } = await env.connected();
      const rssi = await conn.rssi();
      expect(rssi).toBeGreaterThanOrEqual(-127);
      expect(rssi).toBeLessThanOrEqual(20);
    });

    faultTest(
      'a lost link: pending operations fail with DISCONNECTED, both sides see link-lost within the supervision timeout',
      async () => {
        const env = await Env.open(factory);
        const { conn, peer } = await env.connected();
        await conn.subscribe(() => {});
        const centralSaw = new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
        const toySaw = new Promise<DisconnectInfo>((resolve) => peer.onDisconnect(resolve));
        const t0 = env.t.scheduler.now();
        env.t.loseLink!();
        const read = conn.readInfo();
        await expectRadioError(read, 'DISCONNECTED');
        const [c, p] = await Promise.all([centralSaw, toySaw]);
        expect(c.reason).toBe('link-lost');
        expect(p.reason).toBe('link-lost');
        if (env.t.virtualTime) {
          expect(env.t.scheduler.now() - t0).toBeLessThanOrEqual(env.t.supervisionTimeoutMs + 1);
        }
      },
    );

    test('the protocol core end to end: pair, open a session, upload a 60-second message', async () => {
      const env = await Env.open(factory);
      const { toyDriver, toy, phoneDriver, phoneEvents } = await startEngines(env, 'e2e');
      const message = syntheticMessage('contract');
      expect(message.length).toBeGreaterThan(100_000);
      phoneDriver.act((e, now) => e.pair(toy.setupCode, now));
      const paired = await phoneEvents.next('paired', env);
      phoneDriver.act((e, now) => e.openSession(paired.toy, now));
      await phoneEvents.next('session-open', env);
      const transferId = phoneDriver.act((e, now) => e.upload(message, now));
      const done = await phoneEvents.next('upload-done', env, 120_000);
      expect(done.transferId).toBe(transferId);
      expect(toy.storage.messages.get(done.messageId)).toEqual(message);
      await phoneDriver.close();
      await toyDriver.stop();
    });

    faultTest(
      'a link lost mid-transfer closes both engines with a typed disconnect; a new connection resumes',
      async () => {
        const env = await Env.open(factory);
        const { toy, phone, phoneDriver, phoneEvents, toyEvents, central, peripheral } = await startEngines(
          env,
          'fault',
        );
        const message = syntheticMessage('contract fault');
        phoneDriver.act((e, now) => e.pair(toy.setupCode, now));
        const paired = (await phoneEvents.next('paired', env)).toy;
        phoneDriver.act((e, now) => e.openSession(paired, now));
        await phoneEvents.next('session-open', env);
        const transferId = phoneDriver.act((e, now) => e.upload(message, now));
        await phoneEvents.next('transfer-progress', env);
        await phoneEvents.next('transfer-progress', env);
        const conn = phoneDriver.connection;
        const centralSaw = new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
        env.t.loseLink!();
        const reason = await phoneDriver.closed;
        expect(reason.code).toBe('LINK_LOST');
        expect((await centralSaw).reason).toBe('link-lost');
        await env.until(() => toyEvents.has('disconnected'), 'the toy engine to see the disconnect');
        expect(toy.storage.messages.size).toBe(0);
        expect(toy.storage.partials.get(transferId)?.committed.length ?? 0).toBeGreaterThan(0);
        // Resume over a new connection: the toy answers with the offset it committed.
        const again = await env.find(central);
        const phone2 = await PhoneDriver.open(await central.connect(again.id), {
          identity: phone,
          random: phone.random,
          scheduler: env.t.scheduler,
        });
        const events2 = new EventLog<PhoneEvent>((l) => phone2.onEvent(l));
        phone2.act((e, now) => e.openSession(paired, now));
        await events2.next('session-open', env);
        phone2.act((e, now) => e.upload(message, now, transferId));
        const done = await events2.next('upload-done', env, 120_000);
        expect(toy.storage.messages.get(done.messageId)).toEqual(message);
        expect(peripheral.kind).toBeTypeOf('string');
        await phone2.close();
      },
    );
  });
}

/** A toy engine behind a peripheral and a phone engine connected to it, both driven. */
async function startEngines(env: Env, seed: string) {
  const toy = makeToy(`contract ${seed}`);
  const peripheral = await env.t.openPeripheral({
    info: () => encodeInfo({ ...INFO, pairingWindowOpen: toy.engine.pairing.windowOpen }),
  });
  const toyDriver = new ToyDriver(toy.engine, peripheral, { scheduler: env.t.scheduler });
  const toyEvents = new EventLog<ToyEvent>((l) => toyDriver.onEvent(l));
  toyDriver.start();
  onTestFinished(async () => {
    await toyDriver.stop();
    await peripheral.close();
  });
  toyDriver.act((e, now) => e.pairing.openWindowByPaw(now, 3_000));
  await peripheral.advertise({ serviceData: encodeAdvertisement({ version: 1, pairingWindowOpen: true }) });
  const central = await env.phone();
  const found = await env.find(central);
  const phone = makePhone(`contract ${seed}`);
  const phoneDriver = await PhoneDriver.open(await central.connect(found.id), {
    identity: phone,
    random: phone.random,
    scheduler: env.t.scheduler,
  });
  const phoneEvents = new EventLog<PhoneEvent>((l) => phoneDriver.onEvent(l));
  onTestFinished(() => phoneDriver.connection.disconnect());
  return { toy, toyDriver, toyEvents, peripheral, central, phone, phoneDriver, phoneEvents };
}
