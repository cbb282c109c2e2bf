/**
 * The drivers (radio/drive.ts) on the in-memory link in virtual time: what they add to the
 * engines — the negotiated MTU reaching the toy engine, the unauthenticated-connection limit
 * counted from link-up, one write at a time in order, and clean failure paths.
 */
import { describe, expect, it } from 'vitest';
import { AUTH_TIMEOUT_MS } from '../../protocol/engine/constants.js';
import type { PhoneEvent } from '../../protocol/engine/phone.js';
import { encodeAdvertisement } from '../../protocol/gatt/advertising.js';
import { encodeInfo } from '../../protocol/gatt/info.js';
import { ManualClock } from '../../radio/clock.js';
import { PhoneDriver, ToyDriver } from '../../radio/drive.js';
import { RadioError } from '../../radio/errors.js';
import type { CentralConnection, DisconnectInfo, Unsubscribe } from '../../radio/link.js';
import { MemoryAir } from '../../radio/memory/index.js';
import { makePhone, makeToy } from '../protocol/engine/harness.js';

async function toyOnAir(mtu = 256) {
  const clock = new ManualClock({ auto: true });
  const air = new MemoryAir({ scheduler: clock });
  const toy = makeToy('drive');
  const peripheral = air.createPeripheral({
    info: () => encodeInfo({ minVersion: 1, maxVersion: 1, pairingWindowOpen: false, maxWindow: 16 }),
  });
  const driver = new ToyDriver(toy.engine, peripheral, { scheduler: clock });
  driver.start();
  await peripheral.advertise({ serviceData: encodeAdvertisement({ version: 1, pairingWindowOpen: false }) });
  const central = air.createCentral({ mtu });
  let id = '';
  for await (const t of central.scan({ timeoutMs: 1_000 })) id = t.id;
  return { clock, air, toy, driver, central, id };
}

function waitFor<T extends PhoneEvent['type']>(
  d: PhoneDriver,
  type: T,
): Promise<Extract<PhoneEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = d.onEvent((e) => {
      if (e.type === type) {
        off();
        resolve(e as Extract<PhoneEvent, { type: T }>);
      }
    });
  });
}

describe('ToyDriver', () => {
  it('gives the toy engine the ATT_MTU the central negotiated (segment size min(MTU) − 3)', async () => {
    for (const [mtu, segment] of [
      [23, 20],
      [100, 97],
      [256, 244],
    ] as const) {
      const { central, id, clock } = await toyOnAir(mtu);
      const phone = makePhone('mtu');
      const d = await PhoneDriver.open(await central.connect(id), {
        identity: phone,
        random: phone.random,
        scheduler: clock,
      });
      expect((await waitFor(d, 'framing-open')).segmentSize).toBe(segment);
      await d.close();
    }
  });

  it('drops a central that neither subscribes nor writes, 10 s after link-up', async () => {
    const { central, id, clock } = await toyOnAir();
    const conn = await central.connect(id);
    const t0 = clock.now();
    const down = await new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
    expect(down.reason).toBe('remote');
    // Link-up came one set-up (MTU exchange and discovery: two round trips of 15 ms) before t0.
    expect(clock.now() - t0).toBeGreaterThanOrEqual(AUTH_TIMEOUT_MS - 30);
    expect(clock.now() - t0).toBeLessThanOrEqual(AUTH_TIMEOUT_MS + 30);
  });

  it('counts the 10 s limit from link-up even when the central subscribes late', async () => {
    const { central, id, clock } = await toyOnAir();
    const conn = await central.connect(id);
    const t0 = clock.now();
    await new Promise<void>((r) => clock.setTimer(r, 6_000));
    await conn.subscribe(() => {});
    const down = await new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
    expect(down.reason).toBe('remote');
    // Not 10 s after the subscription (t0 + 16 s): 10 s after link-up, plus the toy's grace for
    // queued notifications before it drops the link.
    expect(clock.now() - t0).toBeLessThanOrEqual(AUTH_TIMEOUT_MS + 100 + 30);
  });

  it('stop() drops every connection and later connections are not served', async () => {
    const { central, id, driver, toy } = await toyOnAir();
    const conn = await central.connect(id);
    await conn.subscribe(() => {});
    expect(toy.engine.connectionCount).toBe(1);
    await driver.stop();
    expect(conn.connected).toBe(false);
    expect(toy.engine.connectionCount).toBe(0);
  });
});

/** A central connection that checks the driver never overlaps writes, and can be made to fail. */
class ProbeConnection implements CentralConnection {
  readonly id = 'probe';
  readonly mtu = 100;
  readonly maxWriteLength = 97;
  connected = true;
  writes: Array<{ value: Uint8Array; withResponse: boolean }> = [];
  inFlight = 0;
  maxInFlight = 0;
  failWith: RadioError | undefined;
  disconnects = 0;
  #onDown: Array<(i: DisconnectInfo) => void> = [];

  async readInfo(): Promise<Uint8Array> {
    return new Uint8Array(5);
  }
  async write(value: Uint8Array, options: { withResponse: boolean }): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    if (this.failWith) throw this.failWith;
    this.writes.push({ value, withResponse: options.withResponse });
  }
  async subscribe(): Promise<void> {}
  onDisconnect(listener: (i: DisconnectInfo) => void): Unsubscribe {
    this.#onDown.push(listener);
    return () => {};
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
    this.connected = false;
  }
  async rssi(): Promise<number> {
    return -50;
  }
  lose(): void {
    const error = new RadioError('DISCONNECTED', 'lost');
    for (const l of this.#onDown) l({ reason: 'link-lost', error });
  }
}

describe('PhoneDriver', () => {
  it('sends the engine’s writes one at a time, in order, the framing handshake with response', async () => {
    const conn = new ProbeConnection();
    const phone = makePhone('probe');
    const d = await PhoneDriver.open(conn, {
      identity: phone,
      random: phone.random,
      scheduler: new ManualClock(),
    });
    await new Promise((r) => setImmediate(r));
    expect(conn.writes).toHaveLength(1);
    expect(conn.writes[0]!.withResponse).toBe(true);
    expect(conn.maxInFlight).toBe(1);
    expect(d.engine.state).toBe('framing');
  });

  it('a write failing for another reason than the link closes the engine and drops the link', async () => {
    const conn = new ProbeConnection();
    conn.failWith = new RadioError('WRITE_TOO_LONG', 'too long');
    const clock = new ManualClock();
    const phone = makePhone('probe');
    const d = await PhoneDriver.open(conn, { identity: phone, random: phone.random, scheduler: clock });
    const reason = await d.closed;
    expect(reason.code).toBe('LOCAL_CLOSE');
    expect(reason.message).toContain('WRITE_TOO_LONG');
    expect(conn.disconnects).toBe(0);
    clock.advance(100); // the grace for queued writes
    await new Promise((r) => setImmediate(r));
    expect(conn.disconnects).toBe(1);
  });

  it('a lost link closes the engine with LINK_LOST and stops its timers', async () => {
    const conn = new ProbeConnection();
    const clock = new ManualClock();
    const phone = makePhone('probe');
    const d = await PhoneDriver.open(conn, { identity: phone, random: phone.random, scheduler: clock });
    expect(clock.pending).toBeGreaterThan(0); // the framing handshake timer
    conn.lose();
    expect((await d.closed).code).toBe('LINK_LOST');
    expect(d.engine.state).toBe('closed');
    clock.runAll();
    expect(clock.pending).toBe(0);
  });

  it('open fails with the link’s error when the subscription fails, leaving the engine closed', async () => {
    const conn = new ProbeConnection();
    conn.subscribe = async () => {
      throw new RadioError('DISCONNECTED', 'gone');
    };
    const phone = makePhone('probe');
    const e = await PhoneDriver.open(conn, {
      identity: phone,
      random: phone.random,
      scheduler: new ManualClock(),
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RadioError);
    expect((e as RadioError).code).toBe('DISCONNECTED');
  });
});
