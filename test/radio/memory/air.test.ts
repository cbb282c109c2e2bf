/**
 * The in-memory link's own model and test hooks (the link rules themselves are checked by the
 * contract suite, test/contract/). All in virtual time: durations are checked exactly.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../radio/clock.js';
import { RadioError } from '../../../radio/errors.js';
import type { DisconnectInfo, PeripheralConnection } from '../../../radio/link.js';
import { MemoryAir, type MemoryAirOptions, type MemoryLink } from '../../../radio/memory/index.js';

const INFO = Uint8Array.of(1, 1, 1, 0, 16);
const ADV = Uint8Array.of(1, 1, 1);

async function setup(options: MemoryAirOptions = {}, mtu?: number, maxMtu?: number) {
  const clock = new ManualClock({ auto: true });
  const air = new MemoryAir({ scheduler: clock, ...options });
  const toy = air.createPeripheral({ info: () => INFO, ...(maxMtu ? { maxMtu } : {}) });
  let peer: PeripheralConnection | undefined;
  toy.onConnect((c) => {
    peer = c;
  });
  let link: MemoryLink | undefined;
  air.onLink((l) => {
    link = l;
  });
  await toy.advertise({ serviceData: ADV });
  const central = air.createCentral(mtu ? { mtu } : {});
  let id = '';
  for await (const t of central.scan({ timeoutMs: 1_000 })) {
    id = t.id;
    break;
  }
  const conn = await central.connect(id);
  return { clock, air, toy, central, conn, peer: peer!, link: link! };
}

async function rejection(p: Promise<unknown>): Promise<RadioError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RadioError);
  return e as RadioError;
}

describe('in-memory link: timing model', () => {
  it('each value arrives latencyMs after it leaves; a shorter latency never lets a later value overtake', async () => {
    const { clock, conn, peer, link } = await setup({ latencyMs: 10 });
    const arrivals: Array<[number, number]> = [];
    peer.onWrite((v) => arrivals.push([v[0]!, clock.now()]));
    const t0 = clock.now();
    await conn.write(Uint8Array.of(1), { withResponse: false });
    link.latencyMs = 1;
    await conn.write(Uint8Array.of(2), { withResponse: false });
    await conn.write(Uint8Array.of(3), { withResponse: true });
    expect(arrivals).toEqual([
      [1, t0 + 10],
      [2, t0 + 10],
      [3, t0 + 10],
    ]);
  });

  it('with one buffer per direction, a Write Without Response waits for the previous value to arrive', async () => {
    const { clock, conn, peer } = await setup({ latencyMs: 10, bufferPackets: 1 });
    const arrivals: number[] = [];
    peer.onWrite(() => arrivals.push(clock.now()));
    const t0 = clock.now();
    const resolved: number[] = [];
    for (let i = 0; i < 3; i++) {
      await conn.write(Uint8Array.of(i), { withResponse: false });
      resolved.push(clock.now() - t0);
    }
    await conn.write(Uint8Array.of(9), { withResponse: true });
    expect(resolved).toEqual([0, 10, 20]);
    expect(arrivals.map((t) => t - t0)).toEqual([10, 20, 30, 40]);
  });

  it('notifications never wait, but beyond notificationQueueLimit they are dropped and counted', async () => {
    const { conn, peer, link } = await setup({ bufferPackets: 1, notificationQueueLimit: 2 });
    const got: number[] = [];
    await conn.subscribe((v) => got.push(v[0]!));
    for (let i = 0; i < 10; i++) peer.notify(Uint8Array.of(i));
    await conn.readInfo(); // after the notifications on the same bearer
    expect(got).toEqual([0, 1, 2]);
    expect(link.stats.droppedNotifications).toBe(7);
  });

  it('counts the payload values and bytes carried each way', async () => {
    const { conn, peer, link } = await setup();
    await conn.subscribe(() => {});
    await conn.write(new Uint8Array(20), { withResponse: false });
    await conn.write(new Uint8Array(5), { withResponse: true });
    peer.notify(new Uint8Array(100));
    await conn.readInfo();
    expect(link.stats).toMatchObject({
      valuesToPeripheral: 2,
      bytesToPeripheral: 25,
      valuesToCentral: 2, // the notification and the INFO value
      bytesToCentral: 100 + INFO.length,
    });
  });
});

describe('in-memory link: faults', () => {
  it('dropAfterBytes loses the link when the budget runs out; both sides hear of it one supervision timeout later', async () => {
    const { clock, conn, peer, link } = await setup({ supervisionTimeoutMs: 300 });
    const got: number[] = [];
    peer.onWrite((v) => got.push(v.length));
    const saw: Array<[string, DisconnectInfo]> = [];
    conn.onDisconnect((i) => saw.push(['central', i]));
    peer.onDisconnect((i) => saw.push(['toy', i]));
    link.dropAfterBytes(25);
    await conn.write(new Uint8Array(10), { withResponse: false });
    await conn.write(new Uint8Array(10), { withResponse: true });
    const t0 = clock.now();
    const error = await rejection(conn.write(new Uint8Array(10), { withResponse: true }));
    expect(error.code).toBe('DISCONNECTED');
    expect(got).toEqual([10, 10]);
    expect(link.stats.bytesToPeripheral).toBe(20);
    // The third write was lost on arrival (7.5 ms after it was sent); the report came 300 ms later.
    expect(clock.now() - t0).toBe(7.5 + 300);
    expect(saw.map(([who, i]) => [who, i.reason, i.hciReason])).toEqual([
      ['central', 'link-lost', 0x08],
      ['toy', 'link-lost', 0x08],
    ]);
  });

  it('a dropped link carries nothing; notify is still accepted until the disconnect is reported', async () => {
    const { clock, conn, peer, link } = await setup();
    const got: Uint8Array[] = [];
    await conn.subscribe((v) => got.push(v));
    const t0 = clock.now();
    link.drop();
    expect(link.state).toBe('lost');
    peer.notify(Uint8Array.of(1));
    const down = await new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
    expect(down.reason).toBe('link-lost');
    expect(clock.now() - t0).toBe(link.supervisionTimeoutMs);
    expect(got).toEqual([]);
    expect(link.state).toBe('down');
    expect(() => peer.notify(Uint8Array.of(2))).toThrow(RadioError);
  });

  it('out of range: the toy is no longer heard and its links are lost', async () => {
    const { air, toy, central, conn } = await setup();
    const down = new Promise<DisconnectInfo>((resolve) => conn.onDisconnect(resolve));
    air.setInRange(toy, false);
    expect((await down).reason).toBe('link-lost');
    const seen = [];
    for await (const t of central.scan({ timeoutMs: 1_000 })) seen.push(t);
    expect(seen).toEqual([]);
    air.setInRange(toy, true);
    for await (const t of central.scan({ timeoutMs: 1_000 })) seen.push(t);
    expect(seen).toHaveLength(1);
  });

  it('advertising loss: at 100 % nothing is heard; at 50 % the toy is found all the same', async () => {
    const clock = new ManualClock({ auto: true });
    const air = new MemoryAir({ scheduler: clock, advertisingLoss: 1 });
    await air.createPeripheral({ info: () => INFO }).advertise({ serviceData: ADV });
    const central = air.createCentral();
    const seen = [];
    for await (const t of central.scan({ timeoutMs: 2_000 })) seen.push(t);
    expect(seen).toEqual([]);
    air.advertisingLoss = 0.5;
    for await (const t of central.scan({ timeoutMs: 2_000 })) seen.push(t);
    expect(seen).toHaveLength(1);
  });
});

describe('in-memory link: MTU, writes, options', () => {
  it("negotiates min(the central's request, the toy's maximum), per connection", async () => {
    const small = await setup({}, 23);
    expect(small.conn.mtu).toBe(23);
    expect(small.peer.mtu).toBe(23);
    expect(small.conn.maxWriteLength).toBe(20);
    const capped = await setup({}, 200, 80);
    expect(capped.conn.mtu).toBe(80);
    expect(capped.peer.mtu).toBe(80);
    // The hook: the same central asks for another MTU on its next connection.
    const { central, conn, toy } = capped;
    await conn.disconnect();
    central.mtu = 50;
    const again = await central.connect(toy.id);
    expect(again.mtu).toBe(50);
  });

  it('the toy sees MTU 23 until the exchange arrives', async () => {
    const clock = new ManualClock({ auto: true });
    const air = new MemoryAir({ scheduler: clock });
    const toy = air.createPeripheral({ info: () => INFO });
    const mtuAtConnect: number[] = [];
    toy.onConnect((c) => mtuAtConnect.push(c.mtu));
    await toy.advertise({ serviceData: ADV });
    const central = air.createCentral();
    for await (const t of central.scan({ timeoutMs: 1_000 })) {
      await central.connect(t.id);
      break;
    }
    expect(mtuAtConnect).toEqual([23]);
    expect([...toy.connections][0]!.mtu).toBe(256);
  });

  it('writes that arrive before the first onWrite listener are kept for it, in order', async () => {
    const { conn, peer } = await setup();
    await conn.write(Uint8Array.of(1), { withResponse: true });
    await conn.write(Uint8Array.of(2), { withResponse: false });
    const got: number[] = [];
    peer.onWrite((v) => got.push(v[0]!));
    await conn.write(Uint8Array.of(3), { withResponse: true });
    expect(got).toEqual([1, 2, 3]);
  });

  it('refuses an MTU outside 23..517 with BAD_OPTION; a closed central or toy fails with CLOSED', async () => {
    const air = new MemoryAir({ scheduler: new ManualClock({ auto: true }) });
    expect(() => air.createCentral({ mtu: 22 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => air.createPeripheral({ info: () => INFO, maxMtu: 518 })).toThrow(
      expect.objectContaining({ code: 'BAD_OPTION' }),
    );
    const { central, toy, conn } = await setup();
    await central.close();
    expect(conn.connected).toBe(false);
    expect((await rejection(central.connect(toy.id))).code).toBe('CLOSED');
    await toy.close();
    expect((await rejection(toy.advertise({ serviceData: ADV }))).code).toBe('CLOSED');
    await central.close();
  });
});
