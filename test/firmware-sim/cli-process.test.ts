/**
 * `pawlink-sim` as its own process, as a developer runs it: the toy hosts a shared virtual air, and
 * a phone in this process (noble over the virtual radio, a raw PhoneDriver, not the SDK) joins it,
 * pairs with the printed code, sends a message; a `press listen` on the toy's stdin plays it into
 * a WAV. Also: a second toy on the same state directory, SIGTERM, and a bad flag.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { readWav } from '../../audio/wav.js';
import { main } from '../../firmware-sim/cli.js';
import type { PhoneEvent } from '../../protocol/engine/phone.js';
import { openBleCentral } from '../../radio/ble/index.js';
import { PhoneDriver } from '../../radio/drive.js';
import { connectToSharedAir, installVirtualHci } from '../../radio/virtual/index.js';
import { EventLog, makePhoneIdentity, voiceMessage } from './fixtures/toy-bench.js';

const cli = fileURLToPath(new URL('../../firmware-sim/cli.ts', import.meta.url));
const airName = `cli-process-${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'pawlink-cli-process-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

type Json = Record<string, unknown> & { event: string };

function startToy(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: { ...process.env, PAWLINK_AIR: airName },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const events = new EventLog<Json>();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => events.push(JSON.parse(line) as Json));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    events,
    exited,
    stderr: () => stderr,
    next: (event: string, where: (e: Json) => boolean = () => true) =>
      events.next((e): e is Json => e.event === event && where(e)),
    send: (line: string) => child.stdin!.write(`${line}\n`),
  };
}

describe('pawlink-sim in its own process', () => {
  it('a phone on the shared virtual air pairs with the printed code and sends a message; "press listen" plays it into a WAV; SIGTERM stops the toy with exit 0', async () => {
    const playback = join(root, 'playback');
    const state = join(root, 'toy');
    const { container, source } = await voiceMessage(21, 2);
    const toy = startToy(['--json', '--state', state, '--speaker', `file:${playback}`, '--speed', '20']);
    const ready = await toy.next('ready');
    expect(ready).toMatchObject({ radio: 'virtual', airRole: 'host', pairingWindowOpen: true });

    // A second toy on the same state directory is refused while the first runs.
    const err = new PassThrough();
    let errText = '';
    err.on('data', (d: Buffer) => {
      errText += d.toString();
    });
    const code = await main(['--state', state, '--speaker', 'none'], {
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: err,
      env: { ...process.env, PAWLINK_AIR: airName },
    });
    expect(code).toBe(1);
    expect(errText).toMatch(/^pawlink-sim: another toy \(process \d+\) is using .*\n$/);

    const shared = await connectToSharedAir({ name: airName });
    expect(shared.role).toBe('guest');
    const central = await openBleCentral({
      family: 'stoprocent',
      virtual: (f) => {
        installVirtualHci(f, shared);
      },
    });
    try {
      let id: string | undefined;
      for await (const t of central.scan({ timeoutMs: 10_000 })) {
        id = t.id;
        break;
      }
      const identity = makePhoneIdentity('developer');
      const driver = await PhoneDriver.open(await central.connect(id!), {
        identity,
        random: identity.random,
      });
      const phone = new EventLog<PhoneEvent>();
      driver.onEvent((e) => phone.push(e));
      const next = <T extends PhoneEvent['type']>(type: T) =>
        phone.next((e): e is Extract<PhoneEvent, { type: T }> => e.type === type || e.type === 'closed');
      driver.act((e, now) => e.pair(ready.setupCode as string, now));
      const paired = await next('paired');
      expect(paired.type).toBe('paired');
      if (paired.type !== 'paired') return;
      driver.act((e, now) => e.openSession(paired.toy, now));
      expect((await next('session-open')).type).toBe('session-open');
      driver.act((e, now) => e.upload(container, now));
      const done = await next('upload-done');
      expect(done.type).toBe('upload-done');
      expect(await toy.next('message-stored')).toMatchObject({ durationMs: 2000 });

      toy.send('press listen');
      const finished = await toy.next('playback-finished');
      expect(finished).toMatchObject({ state: 'finished', source: 'paw' });
      const played = readWav(readFileSync(finished.path as string)).channels[0]!;
      expect(correlate(source, played).correlation).toBeGreaterThan(0.9);
      expect(correlate(source.subarray(16_000), played).correlation).toBeLessThan(0.3);
      await driver.close();
    } finally {
      await central.close();
      await shared.close();
    }

    toy.child.kill('SIGTERM');
    expect(await toy.exited).toEqual([0, null]);
    expect(toy.events.all.at(-1)).toEqual({ event: 'closed' });
    expect(toy.stderr()).toBe('');
  });

  it('a bad flag: one line on stderr and exit 2, no stack trace', async () => {
    const toy = startToy(['--speed', 'warp', '--state', join(root, 'never')]);
    expect(await toy.exited).toEqual([2, null]);
    expect(toy.stderr()).toMatch(/^pawlink-sim: option '--speed <n>' argument 'warp' is invalid\. .*\n$/);
    expect(toy.events.all).toEqual([]);
  });
});
