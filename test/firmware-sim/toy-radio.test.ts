/**
 * The simulated toy's pairing window and what it advertises (PROTOCOL.md §3, §6): the paw hold,
 * the LED, the service data, INFO, the rotating tag, and the window an admin opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedToy } from '../../firmware-sim/toy.js';
import type { PhoneEvent } from '../../protocol/engine/phone.js';
import { decodeAdvertisement, resolveTag } from '../../protocol/gatt/advertising.js';
import { decodeInfo } from '../../protocol/gatt/info.js';
import { seededRandom } from '../../protocol/random.js';
import { ManualClock } from '../../radio/clock.js';
import { PhoneDriver } from '../../radio/drive.js';
import { MemoryAir } from '../../radio/memory/index.js';
import {
  type Bench,
  EventLog,
  makePhoneIdentity,
  pairAndConnect,
  startBench,
  TestPhone,
} from './fixtures/toy-bench.js';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

function advertised(b: Bench) {
  return decodeAdvertisement(b.toy.advertisement!);
}

async function readInfo(b: Bench) {
  let id: string | undefined;
  for await (const t of b.central.scan({ timeoutMs: 5_000 })) {
    id = t.id;
    break;
  }
  const conn = await b.central.connect(id!);
  const info = decodeInfo(await conn.readInfo());
  await conn.disconnect();
  return info;
}

describe('the pairing window and the advertisement', () => {
  it('a 3 s listen hold opens the window: the heart pulses, the advertisement and INFO say so and carry the discriminator; it closes by itself after 180 s', async () => {
    bench = await startBench();
    const { toy } = bench;
    const discriminator = toy.tagStatus.kind === 'ok' ? toy.tagStatus.tag.discriminator : -1;
    expect(advertised(bench)).toEqual({ version: 1, pairingWindowOpen: false });
    expect((await readInfo(bench)).pairingWindowOpen).toBe(false);

    await toy.hold('listen', 3_000);
    expect(await bench.toyEvent('pairing-window')).toMatchObject({
      state: 'open',
      by: 'paw',
      closesInMs: 180_000,
    });
    expect(toy.led.shown()).toEqual({ layer: 'pairing', pattern: { mode: 'pulse', periodMs: 2000 } });
    await Promise.resolve();
    expect(advertised(bench)).toEqual({ version: 1, pairingWindowOpen: true, discriminator });
    expect((await readInfo(bench)).pairingWindowOpen).toBe(true);
    expect(bench.events.has((e) => e.event === 'playback-started' || e.event === 'nothing-to-play')).toBe(
      false,
    );

    expect(await bench.toyEvent('pairing-window')).toMatchObject({ state: 'closed', reason: 'expired' });
    expect(toy.led.shown().layer).toBe('base');
    expect(advertised(bench)).toEqual({ version: 1, pairingWindowOpen: false });
  });

  it('once paired, the toy advertises a tag only its phone resolves, a new one after each connection and every 15 minutes, and no discriminator', async () => {
    bench = await startBench();
    const { phone, paired } = await pairAndConnect(bench, 'parent');
    const during = advertised(bench);
    expect(during.pairingWindowOpen).toBe(false);
    expect(during.discriminator).toBeUndefined();
    expect(resolveTag(during.tag!, paired.tagKey)).toBe(true);
    expect(resolveTag(during.tag!, seededRandom('a stranger')(16))).toBe(false);

    await phone.close();
    await bench.toyEvent('disconnected');
    await new Promise((r) => setImmediate(r));
    const after = advertised(bench);
    expect(resolveTag(after.tag!, paired.tagKey)).toBe(true);
    expect(Buffer.from(after.tag!).equals(Buffer.from(during.tag!))).toBe(false);

    // Nothing happens for 15 minutes: the tag rotates all the same.
    await new Promise<void>((r) => bench!.scheduler.setTimer(r, 15 * 60_000));
    const later = advertised(bench);
    expect(resolveTag(later.tag!, paired.tagKey)).toBe(true);
    expect(Buffer.from(later.tag!).equals(Buffer.from(after.tag!))).toBe(false);
  });

  it('with a phone paired the paw no longer opens the window (refusal flash); an admin opens it from the app for a second phone', async () => {
    bench = await startBench();
    const { phone } = await pairAndConnect(bench, 'parent');
    await bench.toy.hold('listen', 3_000);
    expect(await bench.toyEvent('pairing-window-refused')).toEqual({
      event: 'pairing-window-refused',
      reason: 'TABLE_NOT_EMPTY',
    });
    expect(bench.toy.led.shown().layer).toBe('identify');
    expect(bench.toy.pairing.windowOpen).toBe(false);

    expect(await phone.request({ type: 'OpenPairingWindow', role: 'member', seconds: 60 })).toMatchObject({
      type: 'Ok',
    });
    expect(
      await bench.toyEvent('pairing-window', (e) => e.state === 'open' && e.by === 'admin'),
    ).toMatchObject({ closesInMs: 60_000 });
    expect(bench.toy.led.has('pairing')).toBe(true);
    await phone.close();
    await new Promise((r) => setImmediate(r));
    expect(advertised(bench).pairingWindowOpen).toBe(true);

    const second = await TestPhone.connect(bench, makePhoneIdentity('grandma'));
    const tag = bench.toy.tagStatus.kind === 'ok' ? bench.toy.tagStatus.tag : undefined;
    const toyForGrandma = await second.pair(tag!.setupCode);
    expect(toyForGrandma.role).toBe('member');
    expect(await bench.toyEvent('paired', (e) => e.phone.name === 'grandma')).toBeDefined();
    await second.close();
  });
});

describe('other radios', () => {
  it('the toy serves any Peripheral it is given: on the in-memory link a phone pairs and gets a Status', async () => {
    const clock = new ManualClock({ auto: true });
    const air = new MemoryAir({ scheduler: clock });
    const stateDir = mkdtempSync(join(tmpdir(), 'pawlink-memory-toy-'));
    const toy = await SimulatedToy.start({
      stateDir,
      radio: { kind: 'peripheral', open: (options) => air.createPeripheral(options), description: 'memory' },
      scheduler: clock,
      random: seededRandom('memory toy'),
      pbkdfIterations: 1000,
      flashSize: 1024 * 1024,
      storagePolicy: { slotReserveBytes: 0 },
      pairingWindowAtStart: true,
    });
    try {
      expect(toy.radio.description).toBe('memory');
      expect(toy.pairing.windowOpen).toBe(true);
      const central = air.createCentral();
      let id: string | undefined;
      for await (const t of central.scan({ timeoutMs: 1_000 })) {
        expect(decodeAdvertisement(t.serviceData!).pairingWindowOpen).toBe(true);
        id = t.id;
        break;
      }
      const identity = makePhoneIdentity('memory phone');
      const driver = await PhoneDriver.open(await central.connect(id!), {
        identity,
        random: identity.random,
        scheduler: clock,
      });
      const events = new EventLog<PhoneEvent>();
      driver.onEvent((e) => events.push(e));
      const code = toy.tagStatus.kind === 'ok' ? toy.tagStatus.tag.setupCode : '';
      driver.act((e, now) => e.pair(code, now));
      const paired = await events.next((e) => e.type === 'paired' || e.type === 'closed');
      if (paired.type !== 'paired') throw new Error(`not paired: ${paired.type}`);
      driver.act((e, now) => e.openSession(paired.toy, now));
      await events.next((e) => e.type === 'session-open');
      const id2 = driver.act((e, now) => e.request({ type: 'StatusRequest' }, now));
      const status = await events.next((e) => e.type === 'response' && e.requestId === id2);
      expect(status).toMatchObject({ message: { type: 'Status', pairingWindowOpen: false } });
      await driver.close();
      await central.close();
    } finally {
      await toy.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
