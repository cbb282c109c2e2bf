/**
 * The virtual controller at the HCI level, without noble or bleno: the bytes of its answers, its
 * advertising and scanning, connections, ACL flow with buffer accounting, disconnection reasons,
 * event masks and the fault hooks. Virtual time throughout.
 */
import { describe, expect, it } from 'vitest';
import { Evt, HciStatus, LeEvt, Op } from '../../../radio/virtual/constants.js';
import { type Air, type Connection, createAir } from '../../../radio/virtual/index.js';
import { advertisingParameters, createConnection, RawHost, settle } from './raw-host.js';

const ADV_DATA = Buffer.from('020106', 'hex');
const SCAN_RSP = Buffer.from('05ff34120102', 'hex');

function padded(data: Buffer): number[] {
  const out = Buffer.alloc(32);
  out[0] = data.length;
  data.copy(out, 1);
  return [...out];
}

async function advertiser(air: Air, options = {}): Promise<RawHost> {
  const h = new RawHost(air, options);
  h.command(Op.ReadBdAddr);
  h.command(Op.LeSetAdvertisingParameters, advertisingParameters());
  h.command(Op.LeSetAdvertisingData, padded(ADV_DATA));
  h.command(Op.LeSetScanResponseData, padded(SCAN_RSP));
  h.command(Op.LeSetAdvertisingEnable, [1]);
  await settle(air);
  return h;
}

function scanner(air: Air, active: boolean, filterDuplicates: boolean): RawHost {
  const h = new RawHost(air);
  h.command(Op.LeSetScanParameters, [active ? 1 : 0, 0x12, 0, 0x12, 0, 0, 0]);
  h.command(Op.LeSetScanEnable, [1, filterDuplicates ? 1 : 0]);
  return h;
}

/** A connection between two fresh hosts; resolves with both hosts' handles. */
async function connected(air: Air, timeout = 42) {
  const peripheral = await advertiser(air);
  const central = new RawHost(air);
  central.command(Op.LeCreateConnection, createConnection(peripheral.address, 6, 24, timeout));
  await settle(air);
  const handleOf = (h: RawHost) => h.events(Evt.LeMeta, LeEvt.ConnectionComplete)[0]!.readUInt16LE(2);
  const connection = air.connections[0] as Connection;
  return { central, peripheral, connection, ch: handleOf(central), ph: handleOf(peripheral) };
}

describe('virtual controller: commands', () => {
  it('answers the identity and buffer commands the hosts send at start-up', async () => {
    const air = createAir({ timeScale: 0 });
    const h = new RawHost(air, { address: 'c0:de:5a:12:34:56' });
    h.command(Op.ReadLocalVersion);
    h.command(Op.ReadBdAddr);
    h.command(Op.LeReadBufferSize);
    h.command(Op.ReadBufferSize);
    h.command(Op.LeReadLocalSupportedFeatures);
    h.command(Op.LeReadMaximumDataLength);
    await settle(air);
    expect(h.completes(Op.ReadLocalVersion)).toEqual([Buffer.from('0009000009f1050000', 'hex')]);
    expect(h.completes(Op.ReadBdAddr)).toEqual([Buffer.from('00563412 5adec0'.replace(' ', ''), 'hex')]);
    expect(h.completes(Op.LeReadBufferSize)).toEqual([Buffer.from('00fb000c', 'hex')]);
    expect(h.completes(Op.ReadBufferSize)).toEqual([Buffer.from('00fb00000c000000', 'hex')]);
    // Data length extension (bit 5) and LE 2M PHY (bit 8); no extended advertising (bit 12).
    expect(h.completes(Op.LeReadLocalSupportedFeatures)).toEqual([Buffer.from('002001000000000000', 'hex')]);
    expect(h.completes(Op.LeReadMaximumDataLength)).toEqual([Buffer.from('00fb004808fb004808', 'hex')]);
    air.close();
  });

  it('refuses what a controller refuses: unknown commands, short parameters, 32 bytes of advertising data', async () => {
    const air = createAir({ timeScale: 0 });
    const h = new RawHost(air);
    h.command(0x2099);
    h.command(Op.SetEventMask, [0xff]);
    const tooLong = Buffer.alloc(32, 0);
    tooLong[0] = 32;
    h.command(Op.LeSetAdvertisingData, tooLong);
    h.command(Op.LeSetAdvertisingEnable, [1]);
    h.command(Op.LeSetAdvertisingParameters, advertisingParameters());
    h.command(Op.LeCreateConnectionCancel);
    await settle(air);
    expect(h.completes(0x2099)).toEqual([Buffer.of(HciStatus.UnknownCommand)]);
    expect(h.completes(Op.SetEventMask)).toEqual([Buffer.of(HciStatus.InvalidParameters)]);
    expect(h.completes(Op.LeSetAdvertisingData)).toEqual([Buffer.of(HciStatus.InvalidParameters)]);
    expect(h.completes(Op.LeSetAdvertisingParameters)).toEqual([Buffer.of(HciStatus.CommandDisallowed)]);
    expect(h.completes(Op.LeCreateConnectionCancel)).toEqual([Buffer.of(HciStatus.CommandDisallowed)]);
    air.close();
  });

  it('answers commands in the order they were written, on a later turn of the event loop', async () => {
    const air = createAir({ timeScale: 0 });
    const h = new RawHost(air);
    h.command(Op.Reset);
    h.command(Op.ReadBdAddr);
    h.command(Op.LeSetEventMask, [0x5f, 0, 0, 0, 0, 0, 0, 0]);
    expect(h.received).toEqual([]);
    await settle(air);
    expect(h.events(Evt.CommandComplete).map((p) => p.readUInt16LE(1))).toEqual([
      Op.Reset,
      Op.ReadBdAddr,
      Op.LeSetEventMask,
    ]);
    air.close();
  });
});

describe('virtual controller: advertising and scanning', () => {
  it('an active scanner gets the advertisement and the scan response, with RSSI, once each with the duplicate filter', async () => {
    const air = createAir({ timeScale: 0 });
    const adv = await advertiser(air, { rssiDbm: -61 });
    const scan = scanner(air, true, true);
    await settle(air);
    const reports = scan.events(Evt.LeMeta, LeEvt.AdvertisingReport);
    const report = (type: number, data: Buffer) =>
      Buffer.concat([
        Buffer.of(LeEvt.AdvertisingReport, 1, type, 0),
        adv.address,
        Buffer.of(data.length),
        data,
        Buffer.of(0xc3),
      ]);
    expect(reports).toEqual([report(0x00, ADV_DATA), report(0x04, SCAN_RSP)]);
    air.close();
  });

  it('a passive scanner gets no scan response; a scanner without duplicate filter keeps hearing the advertiser', async () => {
    const air = createAir({ timeScale: 0 });
    await advertiser(air);
    const passive = scanner(air, false, true);
    const repeating = scanner(air, true, false);
    for (let i = 0; i < 50 && repeating.events(Evt.LeMeta, LeEvt.AdvertisingReport).length < 6; i++) {
      await new Promise((r) => setImmediate(r));
    }
    repeating.command(Op.LeSetScanEnable, [0, 0]);
    await settle(air);
    expect(passive.events(Evt.LeMeta, LeEvt.AdvertisingReport).map((r) => r[2])).toEqual([0x00]);
    expect(repeating.events(Evt.LeMeta, LeEvt.AdvertisingReport).length).toBeGreaterThanOrEqual(6);
    air.close();
  });

  it('drops reports at the loss rate, and none reach a host that masked LE Meta events', async () => {
    const air = createAir({ timeScale: 0, advertisingReportLoss: 1 });
    await advertiser(air);
    const deaf = scanner(air, true, true);
    const masked = new RawHost(air);
    masked.command(Op.SetEventMask, [0xff, 0xff, 0xfb, 0xff, 0x07, 0xf8, 0xbf, 0x1d]); // bit 61 off
    masked.command(Op.LeSetScanParameters, [1, 0x12, 0, 0x12, 0, 0, 0]);
    masked.command(Op.LeSetScanEnable, [1, 1]);
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    await turns(100); // the deaf scanner keeps the advertiser busy: virtual time runs on
    deaf.command(Op.LeSetScanEnable, [0, 0]);
    await settle(air);
    expect(air.now()).toBeGreaterThan(1000);
    expect(deaf.events(Evt.LeMeta)).toEqual([]);
    expect(masked.events(Evt.LeMeta)).toEqual([]);

    air.setAdvertisingReportLoss(0.5);
    const half = scanner(air, true, false);
    const from = air.now();
    await turns(400);
    half.command(Op.LeSetScanEnable, [0, 0]);
    await settle(air);
    // Each advertising event (every 100 ms + up to 10 ms) offers two reports; about half arrive.
    const heard = half.events(Evt.LeMeta, LeEvt.AdvertisingReport).length;
    const offered = (2 * (air.now() - from)) / 105;
    expect(heard / offered).toBeGreaterThan(0.35);
    expect(heard / offered).toBeLessThan(0.65);
    air.close();
  });

  it('out of range, nothing is heard', async () => {
    const air = createAir({ timeScale: 0 });
    const adv = await advertiser(air);
    const scan = new RawHost(air);
    air.setOutOfRange(air.controllers[0]!, true);
    scan.command(Op.LeSetScanParameters, [1, 0x12, 0, 0x12, 0, 0, 0]);
    scan.command(Op.LeSetScanEnable, [1, 1]);
    await settle(air);
    expect(scan.events(Evt.LeMeta)).toEqual([]);
    air.setOutOfRange(air.controllers[0]!, false);
    await settle(air);
    expect(scan.events(Evt.LeMeta, LeEvt.AdvertisingReport).map((r) => r.subarray(4, 10))).toEqual([
      adv.address,
      adv.address,
    ]);
    air.close();
  });
});

describe('virtual controller: connections', () => {
  it("connects an initiator to a connectable advertiser: roles, handles, the 15 ms interval, the host's timeout", async () => {
    const air = createAir({ timeScale: 0 });
    const { central, peripheral, connection, ch, ph } = await connected(air);
    const cc = (h: RawHost) => h.events(Evt.LeMeta, LeEvt.ConnectionComplete);
    expect(central.events(Evt.CommandStatus)[0]).toEqual(Buffer.from('00010d20', 'hex'));
    expect(cc(central)).toEqual([
      Buffer.concat([
        Buffer.from('0100', 'hex'),
        u16b(ch),
        Buffer.of(0, 0),
        peripheral.address,
        Buffer.from('0c0000002a0000', 'hex'),
      ]),
    ]);
    expect(cc(peripheral)[0]![4]).toBe(1); // role: peripheral
    expect(connection.parameters).toEqual({
      connectionIntervalMs: 15,
      maxPdusPerEvent: 6,
      dataLength: 251,
      phy: '1M',
    });
    expect(connection.supervisionTimeoutMs).toBe(420);
    expect(air.controllers[0]!.isAdvertising).toBe(false);
    expect([ch, ph]).toEqual([0x40, 0x40]);
    air.close();
  });

  it('cuts host ACL packets into PDUs of the data length and reports completed packets to the sender', async () => {
    const air = createAir({ timeScale: 0, link: { dataLength: 27 } });
    const { central, peripheral, ch, ph } = await connected(air);
    central.clear();
    const l2cap = Buffer.concat([Buffer.from('3c000400', 'hex'), Buffer.alloc(60, 0xab)]);
    central.acl(ch, 0b00, l2cap);
    await settle(air);
    const got = peripheral.acls();
    expect(got.map((p) => [p.handle, p.boundary, p.data.length])).toEqual([
      [ph, 0b10, 27],
      [ph, 0b01, 27],
      [ph, 0b01, 10],
    ]);
    expect(Buffer.concat(got.map((p) => p.data))).toEqual(l2cap);
    expect(central.events(Evt.NumberOfCompletedPackets)).toEqual([
      Buffer.concat([Buffer.of(1), u16b(ch), u16b(1)]),
    ]);
    air.close();
  });

  it('drops packets beyond the buffers it offered the host, and counts them', async () => {
    const air = createAir({ timeScale: 0 });
    const { central, ch } = await connected(air);
    for (let i = 0; i < 14; i++) central.acl(ch, 0b00, Buffer.from('0100040001', 'hex'));
    await settle(air);
    expect(air.controllers[1]!.bufferOverflows).toBe(2);
    air.close();
  });

  it('disconnects with 0x16 for the host that asked and the given reason for its peer', async () => {
    const air = createAir({ timeScale: 0 });
    const { central, peripheral, ch, ph } = await connected(air);
    peripheral.command(Op.Disconnect, [...u16(ph), 0x13]);
    await settle(air);
    expect(peripheral.events(Evt.DisconnectionComplete)).toEqual([
      Buffer.concat([Buffer.of(0), u16b(ph), Buffer.of(0x16)]),
    ]);
    expect(central.events(Evt.DisconnectionComplete)).toEqual([
      Buffer.concat([Buffer.of(0), u16b(ch), Buffer.of(0x13)]),
    ]);
    expect(air.connections).toEqual([]);
    air.close();
  });

  it('ends a pending connection creation on cancel with Unknown Connection Identifier', async () => {
    const air = createAir({ timeScale: 0 });
    const central = new RawHost(air);
    central.command(Op.LeCreateConnection, createConnection(Buffer.from('010203040506', 'hex')));
    central.command(Op.LeCreateConnectionCancel);
    await settle(air);
    expect(central.completes(Op.LeCreateConnectionCancel)).toEqual([Buffer.of(0)]);
    expect(central.events(Evt.LeMeta, LeEvt.ConnectionComplete).map((p) => p[1])).toEqual([
      HciStatus.UnknownConnectionId,
    ]);
    air.close();
  });

  it('reports data length and PHY changes only to hosts that unmasked them', async () => {
    const air = createAir({ timeScale: 0 });
    const peripheral = await advertiser(air);
    const central = new RawHost(air);
    central.command(Op.LeSetEventMask, [0x5f, 0x08, 0, 0, 0, 0, 0, 0]); // + data length change, PHY update
    central.command(Op.LeCreateConnection, createConnection(peripheral.address));
    await settle(air);
    const ch = central.events(Evt.LeMeta, LeEvt.ConnectionComplete)[0]!.readUInt16LE(2);
    central.command(Op.LeSetPhy, [...u16(ch), 0, 0x02, 0x02, 0, 0]);
    await settle(air);
    expect(central.events(Evt.LeMeta, LeEvt.DataLengthChange)).toEqual([
      Buffer.concat([Buffer.of(LeEvt.DataLengthChange), u16b(ch), Buffer.from('fb004808fb004808', 'hex')]),
    ]);
    expect(central.events(Evt.LeMeta, LeEvt.PhyUpdateComplete)).toEqual([
      Buffer.concat([Buffer.of(LeEvt.PhyUpdateComplete, 0), u16b(ch), Buffer.of(2, 2)]),
    ]);
    expect(peripheral.events(Evt.LeMeta, LeEvt.DataLengthChange)).toEqual([]);
    expect(air.connections[0]!.parameters.phy).toBe('2M');
    air.close();
  });
});

describe('virtual controller: faults', () => {
  it('a lost link ends with 0x08 on both sides exactly one supervision timeout later', async () => {
    const air = createAir({ timeScale: 0 });
    const { central, peripheral, connection } = await connected(air, 100);
    const lostAt = air.now();
    const closedAt = new Promise<number>((resolve) => air.once('disconnect', () => resolve(air.now())));
    connection.lose();
    await settle(air);
    expect(await closedAt).toBe(lostAt + 1000);
    expect(central.events(Evt.DisconnectionComplete).map((p) => p[3])).toEqual([0x08]);
    expect(peripheral.events(Evt.DisconnectionComplete).map((p) => p[3])).toEqual([0x08]);
    air.close();
  });

  it('out of range drops the link after the supervision timeout; back in range in time, it survives', async () => {
    const air = createAir({ timeScale: 0 });
    const { central, peripheral, connection, ch } = await connected(air);
    const [a, b] = air.controllers;
    air.setInRange(a!, b!, false);
    air.scheduler.at(air.now() + 300, () => air.setInRange(a!, b!, true));
    await settle(air);
    expect(connection.isOpen).toBe(true);
    central.acl(ch, 0b00, Buffer.from('0100040001', 'hex'));
    await settle(air);
    expect(peripheral.acls()).toHaveLength(1);
    air.setInRange(a!, b!, false);
    await settle(air);
    expect(connection.isOpen).toBe(false);
    expect(central.events(Evt.DisconnectionComplete).map((p) => p[3])).toEqual([0x08]);
    expect(peripheral.events(Evt.DisconnectionComplete).map((p) => p[3])).toEqual([0x08]);
    air.close();
  });

  it('adds latency to data without reordering it', async () => {
    const air = createAir({ timeScale: 0, latencyMs: 40 });
    const { central, peripheral, ch } = await connected(air);
    const sentAt = air.now();
    const arrivals: number[] = [];
    const receive = peripheral.receive.bind(peripheral);
    peripheral.receive = (p) => {
      if (p[0] === 0x02) arrivals.push(air.now());
      receive(p);
    };
    central.acl(ch, 0b00, Buffer.from('0100040001', 'hex'));
    central.acl(ch, 0b00, Buffer.from('0100040002', 'hex'));
    await settle(air);
    expect(peripheral.acls().map((p) => p.data[4])).toEqual([1, 2]);
    expect(arrivals[0]! - sentAt).toBeGreaterThanOrEqual(40);
    expect(arrivals[0]! - sentAt).toBeLessThan(40 + 15 + 2);
    air.close();
  });

  it('a controller reset leaves its peer to time out, and tells its own host nothing', async () => {
    const air = createAir({ timeScale: 0 });
    const { central, peripheral } = await connected(air);
    peripheral.command(Op.Reset);
    await settle(air);
    expect(peripheral.events(Evt.DisconnectionComplete)).toEqual([]);
    expect(central.events(Evt.DisconnectionComplete).map((p) => p[3])).toEqual([0x08]);
    air.close();
  });

  it("detaching a controller takes its host's device down", async () => {
    const air = createAir({ timeScale: 0 });
    const h = new RawHost(air);
    h.port.detach();
    expect(h.downs).toBe(1);
    expect(air.controllers).toEqual([]);
    air.close();
  });
});

function u16(v: number): number[] {
  return [v & 0xff, v >> 8];
}

function u16b(v: number): Buffer {
  return Buffer.from(u16(v));
}
