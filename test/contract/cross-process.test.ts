/**
 * The adapters and drivers across processes: a toy (ToyEngine over the bleno adapter) in a child
 * process joins the shared air this process hosts; a phone (PhoneConnection over the noble
 * adapter) here pairs with it, opens a session and uploads a message. Each toy runs the other
 * family than the phone talking to it. The child must end by itself once its central has gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../protocol/crypto.js';
import type { PhoneEvent } from '../../protocol/engine/phone.js';
import { type BleFamily, openBleCentral } from '../../radio/ble/index.js';
import { PhoneDriver } from '../../radio/drive.js';
import type { Central } from '../../radio/link.js';
import { connectToSharedAir, installVirtualHci, type SharedAir } from '../../radio/virtual/index.js';
import { makePhone, syntheticMessage } from '../protocol/engine/harness.js';

const fixture = fileURLToPath(new URL('./fixtures/toy-process.ts', import.meta.url));
const name = `contract-${process.pid}`;

interface Child {
  process: ChildProcess;
  /** Lines the child printed and nobody has read yet. */
  lines: string[];
  ended: boolean;
  wake: () => void;
  exited: Promise<unknown[]>;
}

function startToyProcess(family: BleFamily): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, family], {
    env: { ...process.env, PAWLINK_AIR: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderr!.on('data', (d) => process.stderr.write(`TOY PROCESS: ${d}`));
  const child: Child = { process: proc, lines: [], ended: false, wake: () => {}, exited: once(proc, 'exit') };
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (line) => {
    child.lines.push(line);
    child.wake();
  });
  rl.on('close', () => {
    child.ended = true;
    child.wake();
  });
  return child;
}

/** The child's next report (one JSON line). */
async function next(child: Child): Promise<Record<string, string | number>> {
  while (child.lines.length === 0) {
    if (child.ended) throw new Error(`the toy process ended early: ${JSON.stringify(await child.exited)}`);
    await new Promise<void>((resolve) => {
      child.wake = resolve;
    });
  }
  return JSON.parse(child.lines.shift()!) as Record<string, string | number>;
}

function nextEvent<T extends PhoneEvent['type']>(
  driver: PhoneDriver,
  type: T,
): Promise<Extract<PhoneEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const off = driver.onEvent((e) => {
      if (e.type === type) {
        off();
        resolve(e as Extract<PhoneEvent, { type: T }>);
      } else if (e.type === 'closed') {
        off();
        reject(new Error(`closed (${e.reason.code}) while waiting for ${type}`));
      }
    });
  });
}

describe('adapters and drivers across processes over the shared air', () => {
  let shared: SharedAir;
  const centrals = new Map<BleFamily, Central>();
  const children: Child[] = [];

  beforeAll(async () => {
    shared = await connectToSharedAir({ name, air: { timeScale: 1 } });
    for (const family of ['abandonware', 'stoprocent'] as const) {
      const virtual = (f: BleFamily) => {
        installVirtualHci(f, shared);
      };
      centrals.set(family, await openBleCentral({ family, virtual }));
    }
  });

  afterAll(async () => {
    for (const child of children) child.process.kill();
    for (const c of centrals.values()) await c.close();
    await shared?.close();
  });

  for (const [toyFamily, phoneFamily] of [
    ['abandonware', 'stoprocent'],
    ['stoprocent', 'abandonware'],
  ] as const) {
    it(`a ${phoneFamily} phone here pairs with a ${toyFamily} toy in a child process and uploads a message; the child then exits by itself`, async () => {
      expect(shared.role).toBe('host');
      const child = startToyProcess(toyFamily);
      children.push(child);
      const ready = await next(child);
      expect(ready).toMatchObject({ event: 'ready', role: 'guest' });

      const central = centrals.get(phoneFamily)!;
      let id: string | undefined;
      for await (const toy of central.scan({ timeoutMs: 10_000 })) {
        id = toy.id;
        break;
      }
      expect(id).toBeDefined();
      const phone = makePhone(`cross ${toyFamily}`);
      const driver = await PhoneDriver.open(await central.connect(id!), {
        identity: phone,
        random: phone.random,
      });
      const paired = nextEvent(driver, 'paired');
      driver.act((e, now) => e.pair(String(ready.setupCode), now));
      const toy = (await paired).toy;
      const session = nextEvent(driver, 'session-open');
      driver.act((e, now) => e.openSession(toy, now));
      await session;
      const message = syntheticMessage('cross-process', 10);
      const done = nextEvent(driver, 'upload-done');
      driver.act((e, now) => e.upload(message, now));
      await done;
      expect(await next(child)).toEqual({
        event: 'stored',
        bytes: message.length,
        sha256: Buffer.from(sha256(message)).toString('hex'),
      });
      await driver.close();
      expect(await next(child)).toEqual({ event: 'closed' });
      expect(await child.exited).toEqual([0, null]);
    });
  }
});
