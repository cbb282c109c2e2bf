/**
 * The same behaviours for both library families: the unmodified noble and bleno of a family talk
 * to each other through virtual controllers on one air, in virtual time (timeScale 0), so every
 * time asserted below is simulated time and does not depend on the machine.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Air,
  type Connection,
  createAir,
  type HciFamily,
  installVirtualHci,
  linkThroughput,
  type VirtualHci,
} from '../../../radio/virtual/index.js';
import {
  collect,
  connect,
  discover,
  type Hosts,
  INFO_VALUE,
  loadHosts,
  type PeripheralLike,
  SERVICE,
  SERVICE_DATA,
  startToy,
  type Toy,
  within,
} from './hosts.js';

export function familySuite(family: HciFamily): void {
  describe(`virtual radio: ${family} noble ↔ ${family} bleno`, () => {
    let air: Air;
    let hci: VirtualHci;
    let hosts: Hosts;
    let toy: Toy;
    let peripheral: PeripheralLike;

    beforeAll(async () => {
      air = createAir({ timeScale: 0 });
      hci = installVirtualHci(family, air);
      hosts = await loadHosts(family);
      toy = await startToy(hosts);
    });

    afterAll(() => {
      hosts?.stop();
      hci?.close();
      air?.close();
    });

    const nextConnection = () => once(air, 'connect').then(([c]) => c as Connection);

    it('noble discovers the service bleno advertises, with its service data intact', async () => {
      peripheral = await discover(hosts.noble);
      expect(peripheral.advertisement.serviceUuids).toEqual([SERVICE]);
      expect(peripheral.advertisement.serviceData).toEqual([{ uuid: SERVICE, data: SERVICE_DATA }]);
      expect(peripheral.address).toBe(hosts.bleno.address);
      expect(peripheral.rssi).toBe(-50);
    });

    it('connects, exchanges MTU 256, reads INFO, writes with and without response, notifies, disconnects', async () => {
      const accepted = toy.accepted();
      const connection = nextConnection();
      const { rx, tx, info } = await connect(peripheral);
      await accepted;
      expect((await connection).isOpen).toBe(true);
      expect(peripheral.mtu).toBe(256);

      expect(await within(info.readAsync(), 'read INFO')).toEqual(INFO_VALUE);
      await within(rx.writeAsync(Buffer.from('handshake'), false), 'write with response');
      await within(rx.writeAsync(Buffer.from('segment'), true), 'write without response');
      const subscribed = toy.subscribed();
      await within(tx.subscribeAsync(), 'subscribe');
      expect(await subscribed).toBe(253);
      const received = collect(tx, 2);
      toy.notify(Buffer.from('first'));
      toy.notify(Buffer.alloc(300, 7)); // longer than MTU − 3: bleno truncates it
      expect(await received).toEqual([Buffer.from('first'), Buffer.alloc(253, 7)]);
      expect(await within(peripheral.updateRssiAsync(), 'read RSSI')).toBe(-50);
      // The write without response may overtake nothing: GATT is ordered.
      await within(
        (async () => {
          while (toy.writes.length < 2) await new Promise((r) => setImmediate(r));
        })(),
        'bleno receives both writes',
      );
      expect(toy.writes).toEqual([
        { data: Buffer.from('handshake'), withoutResponse: false },
        { data: Buffer.from('segment'), withoutResponse: true },
      ]);

      const closed = once(air, 'disconnect');
      const blenoSaw = toy.disconnected();
      await within(peripheral.disconnectAsync(), 'noble disconnects');
      await blenoSaw;
      const [, reasons] = (await closed) as [Connection, ReadonlyMap<unknown, number>];
      expect([...reasons.values()].sort()).toEqual([0x13, 0x16]);
    });

    it('reconnects, and the peripheral can end the connection', async () => {
      toy.writes.length = 0;
      const { rx } = await connect(peripheral);
      await within(rx.writeAsync(Buffer.from('again'), false), 'write after reconnecting');
      expect(toy.writes).toEqual([{ data: Buffer.from('again'), withoutResponse: false }]);
      const nobleSaw = within(once(peripheral, 'disconnect'), 'noble sees the disconnection');
      const blenoSaw = toy.disconnected();
      hosts.bleno.disconnect();
      const [reason] = await nobleSaw;
      await blenoSaw;
      expect(reason).toBe(0x13);
    });

    it('runs 20 advertise → connect → discover → write → notify → disconnect cycles', async () => {
      for (let cycle = 0; cycle < 20; cycle++) {
        const { rx, tx } = await connect(peripheral);
        await within(rx.writeAsync(Buffer.from([cycle]), false), `write in cycle ${cycle}`);
        const subscribed = toy.subscribed();
        await within(tx.subscribeAsync(), `subscribe in cycle ${cycle}`);
        await subscribed;
        const received = collect(tx, 1);
        toy.notify(Buffer.from([cycle, 0xaa]));
        expect(await received).toEqual([Buffer.from([cycle, 0xaa])]);
        const blenoSaw = toy.disconnected();
        await within(peripheral.disconnectAsync(), `disconnect in cycle ${cycle}`);
        await blenoSaw;
      }
      expect(air.connections).toEqual([]);
    });

    describe('transfer times follow the link model (simulated time)', () => {
      const cases = [
        {
          name: 'MTU 23-sized values, no data length extension, 15 ms',
          dataLength: 27,
          phy: '1M',
          valueSize: 20,
          pdus: 6,
        },
        {
          name: 'MTU 247-sized values, data length 251, 15 ms',
          dataLength: 251,
          phy: '1M',
          valueSize: 244,
          pdus: 6,
        },
        {
          name: 'data length 251 on the 2M PHY, limited by the interval only',
          dataLength: 251,
          phy: '2M',
          valueSize: 244,
          pdus: Number.POSITIVE_INFINITY,
        },
      ] as const;
      for (const c of cases) {
        it(`moves 20 kB of notifications: ${c.name}`, async () => {
          const link = {
            connectionIntervalMs: 15,
            maxPdusPerEvent: c.pdus,
            dataLength: c.dataLength,
            phy: c.phy,
          };
          air.configureLink(link);
          const connection = nextConnection();
          const { tx } = await connect(peripheral);
          const subscribed = toy.subscribed();
          await within(tx.subscribeAsync(), 'subscribe');
          await subscribed;
          expect((await connection).parameters).toEqual(link);

          const total = 20_000;
          const count = Math.ceil(total / c.valueSize);
          const values = Array.from({ length: count }, (_, i) => Buffer.alloc(c.valueSize, i & 0xff));
          const received = collect(tx, count, `${count} notifications`);
          const start = air.now();
          for (const v of values) toy.notify(v);
          expect(await received).toEqual(values);
          const elapsed = air.now() - start;

          const model = linkThroughput(link, c.valueSize).transferMs(count * c.valueSize);
          expect(Math.abs(elapsed - model) / model).toBeLessThan(0.1);
          const blenoSaw = toy.disconnected();
          await within(peripheral.disconnectAsync(), 'disconnect');
          await blenoSaw;
        });
      }
    });

    it('a lost link ends in Disconnection Complete 0x08 on both sides one supervision timeout later', async () => {
      air.configureLink({ connectionIntervalMs: 15, maxPdusPerEvent: 6, dataLength: 251, phy: '1M' });
      const connection = nextConnection();
      const { tx } = await connect(peripheral);
      const subscribed = toy.subscribed();
      await within(tx.subscribeAsync(), 'subscribe');
      await subscribed;
      const link = await connection;

      const closed = once(air, 'disconnect');
      const nobleSaw = within(once(peripheral, 'disconnect'), 'noble sees the lost link');
      const blenoSaw = toy.disconnected();
      const got: Buffer[] = [];
      tx.on('data', (d: Buffer) => got.push(d));
      link.lose({ afterOctets: 5_000 }); // mid-transfer
      const lostFrom = air.now();
      for (let i = 0; i < 100; i++) toy.notify(Buffer.alloc(200, i));
      const [reason] = await nobleSaw;
      await blenoSaw;
      const [, reasons] = (await closed) as [Connection, ReadonlyMap<unknown, number>];

      expect(reason).toBe(0x08);
      expect([...reasons.values()]).toEqual([0x08, 0x08]);
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(100);
      const elapsed = air.now() - lostFrom;
      expect(elapsed).toBeGreaterThanOrEqual(link.supervisionTimeoutMs);
      expect(elapsed).toBeLessThan(link.supervisionTimeoutMs + 100);
    });
  });
}
