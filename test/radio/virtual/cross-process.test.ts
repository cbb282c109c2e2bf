/**
 * The air across processes: a toy (bleno) in a child process joins the shared air this test
 * process hosts, and noble here connects to it. Each toy is of the other family than the noble
 * talking to it. The child must end by itself once its central has gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectToSharedAir,
  type HciFamily,
  installVirtualHci,
  type SharedAir,
  sharedAirPath,
  type VirtualHci,
} from '../../../radio/virtual/index.js';
import { collect, connect, discover, INFO_VALUE, loadNoble, type NobleLike, within } from './hosts.js';

const fixture = fileURLToPath(new URL('./fixtures/toy-process.ts', import.meta.url));
const name = `test-${process.pid}`;

interface Child {
  process: ChildProcess;
  events: AsyncIterator<string>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

function startToyProcess(family: HciFamily): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, family], {
    env: { ...process.env, PAWLINK_AIR: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    process: child,
    events: createInterface({ input: child.stdout! })[Symbol.asyncIterator](),
    exited,
  };
}

async function nextEvent(child: Child): Promise<Record<string, string>> {
  const line = await within(child.events.next(), 'the toy process reports', 20_000);
  if (line.done) throw new Error(`the toy process ended early: ${JSON.stringify(await child.exited)}`);
  return JSON.parse(line.value) as Record<string, string>;
}

describe('shared air across processes', () => {
  let shared: SharedAir;
  let installs: VirtualHci[] = [];
  const nobles = new Map<HciFamily, NobleLike>();
  const children: Child[] = [];

  beforeAll(async () => {
    shared = await connectToSharedAir({ name, air: { timeScale: 1 } });
    installs = (['abandonware', 'stoprocent'] as const).map((f) => installVirtualHci(f, shared));
    for (const family of ['abandonware', 'stoprocent'] as const) nobles.set(family, await loadNoble(family));
  });

  afterAll(async () => {
    for (const child of children) child.process.kill();
    (nobles.get('stoprocent') as { stop?: () => void } | undefined)?.stop?.();
    for (const hci of installs) hci.close();
    await shared?.close();
  });

  it('the first process hosts the air; it removes its socket file when it closes', () => {
    expect(shared.role).toBe('host');
    expect(shared.air).toBeDefined();
    expect(existsSync(shared.path)).toBe(true);
  });

  for (const [toyFamily, nobleFamily] of [
    ['abandonware', 'stoprocent'],
    ['stoprocent', 'abandonware'],
  ] as const) {
    it(`${nobleFamily} noble here talks to ${toyFamily} bleno in a child process, which then exits by itself`, async () => {
      const child = startToyProcess(toyFamily);
      children.push(child);
      const ready = await nextEvent(child);
      expect(ready).toMatchObject({ event: 'ready', role: 'guest' });

      const noble = nobles.get(nobleFamily)!;
      const peripheral = await discover(noble);
      expect(peripheral.address).toBe(ready.address);
      const { rx, tx, info } = await connect(peripheral);
      expect(peripheral.mtu).toBe(256);
      expect(await within(info.readAsync(), 'read INFO')).toEqual(INFO_VALUE);
      await within(tx.subscribeAsync(), 'subscribe');
      const echoed = collect(tx, 2);
      await within(rx.writeAsync(Buffer.from('ping'), false), 'write with response');
      await within(rx.writeAsync(Buffer.alloc(240, 0x5a), true), 'write without response');
      expect(await echoed).toEqual([Buffer.from('ping'), Buffer.alloc(240, 0x5a)]);
      await within(peripheral.disconnectAsync(), 'disconnect');

      expect(await nextEvent(child)).toEqual({ event: 'closed' });
      expect(await within(child.exited, 'the toy process exits by itself')).toEqual([0, null]);
    });
  }

  it('replaces a stale socket file left by a process that died', async () => {
    const stale = `${name}-stale`;
    const file = sharedAirPath({ name: stale });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
    const air = await connectToSharedAir({ name: stale });
    expect(air.role).toBe('host');
    await air.close();
    expect(existsSync(file)).toBe(false);
  });
});
