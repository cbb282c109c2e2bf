/**
 * Product benchmarks (issue "Toy and SDK", BENCHMARKS.md §3): the simulated toy and the SDK
 * together, over the virtual radio and the real host stacks. Time from `npm start` to ready, and
 * the whole user story (pair, send a 60-second message, the paw press, playback) at MTU 185 and a
 * 15 ms connection interval, in simulated and in wall time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeVoice, encodeVoice, speechLikeSignal } from '../audio/index.js';
import type { ToySimEvent } from '../firmware-sim/events.js';
import { readTag } from '../firmware-sim/tag.js';
import { SimulatedToy } from '../firmware-sim/toy.js';
import { seededRandom } from '../protocol/random.js';
import { openBleCentral, openBlePeripheral } from '../radio/ble/index.js';
import type { Scheduler } from '../radio/clock.js';
import { createAir, installVirtualHci } from '../radio/virtual/index.js';
import { ToyClient } from '../sdk/index.js';
import type { Bench, Figure } from './harness.js';

const launcher = fileURLToPath(new URL('../bin/pawlink-sim.js', import.meta.url));

/** Wall time from starting `pawlink-sim` (the built launcher, as `npm start` runs it) to its ready event. */
async function startToReady(firstStart: boolean, state: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [launcher, '--json', '--state', state, '--speaker', 'none'], {
    env: { ...process.env, PAWLINK_AIR: `bench-${process.pid}` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if ((JSON.parse(line) as { event: string }).event === 'ready') break;
  }
  const ms = performance.now() - t0;
  child.stdin!.end('quit\n');
  await new Promise((resolve) => child.once('exit', resolve));
  void firstStart;
  return ms;
}

async function readyFigures(quick: boolean): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const first of [true, false]) {
    const times: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const dir = mkdtempSync(join(tmpdir(), 'pawlink-bench-ready-'));
      try {
        if (!first) await startToReady(true, dir);
        times.push(await startToReady(first, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    times.sort((a, b) => a - b);
    out.push({
      name: `npm start to ready (${first ? 'first start: provisioning, PBKDF2' : 'later start'}), wall`,
      value: times[Math.floor(times.length / 2)]!,
      unit: 'ms',
      note: 'node bin/pawlink-sim.js --json, process start included',
    });
  }
  return out;
}

/** pair + a 60-second message + the paw press and its playback, at MTU 185 / 15 ms. */
async function storyFigures(): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'pawlink-bench-story-'));
  const air = createAir({ timeScale: 0 });
  air.configureLink({ connectionIntervalMs: 15, maxPdusPerEvent: 6, dataLength: 251, phy: '1M' });
  const scheduler: Scheduler = { now: () => air.now(), setTimer: (fn, ms) => air.scheduler.after(ms, fn) };
  const virtual = (f: 'abandonware' | 'stoprocent') => {
    installVirtualHci(f, air);
  };
  const events: ToySimEvent[] = [];
  const waiters: Array<() => void> = [];
  const next = async (name: ToySimEvent['event']) => {
    for (;;) {
      const i = events.findIndex((e) => e.event === name);
      if (i >= 0) return events.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const toy = await SimulatedToy.start({
    stateDir: join(root, 'toy'),
    radio: {
      kind: 'peripheral',
      open: (options) =>
        openBlePeripheral({ ...options, family: 'abandonware', virtual, scheduler, maxMtu: 185 }),
    },
    scheduler,
    random: seededRandom('bench story'),
    speaker: `file:${join(root, 'played')}`,
  });
  toy.onEvent((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  });
  const central = await openBleCentral({ family: 'abandonware', virtual, scheduler });
  const client = await ToyClient.open({ radio: central, home: join(root, 'phone'), scheduler });
  // The virtual air's timers do not hold the process open (so finished tools exit by themselves);
  // this benchmark is a plain script, so it holds itself open while it runs.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    // Encoded before the clock starts: virtual time runs on while the encoder works, which would
    // count the encoder as radio time.
    const { container } = await encodeVoice(
      speechLikeSignal({ seconds: 60, sampleRate: 16_000, seed: 3 }),
      16_000,
    );
    // The decoder's first load is real work too (WASM): done before the clock starts, as on a toy
    // that has been on for a while.
    await decodeVoice(container);
    const wall0 = performance.now();
    const sim0 = air.now();
    await toy.hold('listen', 3_000);
    const pair0 = air.now();
    await client.pair(readTag(join(root, 'toy'))!.setupCode);
    const session = await client.connect();
    const pairMs = air.now() - pair0;
    const sent0 = air.now();
    await session.send(container);
    const sendMs = air.now() - sent0;
    await next('message-stored');
    await toy.press('listen');
    await next('playback-finished');
    const wallMs = performance.now() - wall0;
    void sim0;
    await session.close();
    return [
      {
        name: 'story at MTU 185 / 15 ms: pair (scan, connect, SPAKE2+) + open the session, simulated',
        value: pairMs / 1000,
        unit: 's',
      },
      {
        name: 'story at MTU 185 / 15 ms: upload of the 60 s message, simulated',
        value: sendMs / 1000,
        unit: 's',
        note: `${container.length} bytes, Init to Done`,
      },
      {
        name: 'story: paw hold, pair, session, 60 s message, paw press, playback to a WAV, wall',
        value: wallMs / 1000,
        unit: 's',
        note: 'virtual radio in virtual time; playback itself lasts the message (60 s) on a real toy',
      },
    ];
  } finally {
    clearInterval(keepAlive);
    await client.close();
    await central.close();
    await toy.close();
    air.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export const productBenches: Array<[string, Bench]> = [
  ['npm start to ready', ({ quick }) => readyFigures(quick)],
  ['the user story', () => storyFigures()],
];
