/**
 * `pawlink-sim`: main() with injected streams (its own shared virtual air, named for this test
 * file), and bad command lines. Each error is one line and a non-zero exit, never a stack trace.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../firmware-sim/cli.js';

const savedAir = process.env.PAWLINK_AIR;
process.env.PAWLINK_AIR = `cli-test-${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'pawlink-cli-test-'));
afterAll(() => {
  if (savedAir === undefined) delete process.env.PAWLINK_AIR;
  else process.env.PAWLINK_AIR = savedAir;
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
const freshDir = () => join(root, `state-${++dirs}`);

interface Run {
  code: Promise<number>;
  stdin: PassThrough;
  /** stdout lines so far. */
  out: string[];
  err: () => string;
}

function run(argv: string[], input?: string): Run {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  let err = '';
  let partial = '';
  stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  if (input !== undefined) stdin.end(input);
  // An air of its own: never the default one a developer's running `npm start` hosts.
  const code = main(argv, {
    stdin,
    stdout,
    stderr,
    env: { ...process.env, PAWLINK_AIR: `cli-test-${process.pid}` },
  });
  return {
    code,
    stdin,
    out,
    err: () => err,
  };
}

function expectOneLineError(text: string): void {
  const lines = text.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^pawlink-sim: /);
  expect(text).not.toMatch(/\n\s+at /);
}

describe('pawlink-sim --json with commands on stdin', () => {
  it('prints ready first (the tag, the state dir, the radio), then the events the commands cause; an unknown command is one line on stderr; quit exits 0', async () => {
    const state = freshDir();
    const r = run(
      // No power-on window, so the 3 s hold is what opens it (a hold on an already open window
      // changes nothing, and the test would depend on which came first).
      ['--json', '--state', state, '--speaker', 'none', '--speed', '10', '--no-pairing-window'],
      'hold listen 3\nstatus\nbogus command\nquit\n',
    );
    expect(await r.code).toBe(0);
    const events = r.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({
      event: 'ready',
      setupCode: expect.stringMatching(/^\d{8}$/),
      discriminator: expect.any(Number),
      setupPayload: expect.stringMatching(/^PAWLINK1-[0-9A-F]{3}-\d{8}$/),
      stateDir: state,
      radio: 'virtual',
      airRole: 'host',
      firstStart: true,
      pairingWindowOpen: false,
    });
    const names = events.map((e) => e.event);
    expect(names).toContain('pairing-window');
    expect(events.find((e) => e.event === 'pairing-window')).toMatchObject({ state: 'open', by: 'paw' });
    expect(events.find((e) => e.event === 'status')).toMatchObject({
      status: { pairingWindowOpen: true, pairings: 0, firmware: '0.1.0' },
    });
    expect(names.at(-1)).toBe('closed');
    expect(names.indexOf('status')).toBeGreaterThan(names.indexOf('pairing-window'));
    expect(r.err()).toMatch(/unknown command: "bogus command"/);
    expectOneLineError(r.err());
    expect(statSync(join(state, 'tag.json')).mode & 0o777).toBe(0o600);

    // A second start on the same state: the same tag, no longer a first start.
    const again = run(['--json', '--state', state, '--speaker', 'none', '--no-pairing-window'], '');
    expect(await again.code).toBe(0);
    const ready = JSON.parse(again.out[0]!) as Record<string, unknown>;
    expect(ready).toMatchObject({
      event: 'ready',
      setupCode: (events[0] as { setupCode: string }).setupCode,
      firstStart: false,
      pairingWindowOpen: false,
    });
  });

  it('prints the tag and "ready" for a person, then one line per event', async () => {
    const r = run(['--state', freshDir(), '--speaker', 'none', '--speed', '100'], 'press listen\nquit\n');
    expect(await r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/setup code {6}\d{4}-\d{4}/);
    expect(text).toMatch(/setup payload {3}PAWLINK1-/);
    expect(text).toMatch(/^playback: none$/m);
    expect(text).toMatch(/^ready: the pairing window is open/m);
    expect(text).toMatch(/^no message to play$/m);
    expect(text).toMatch(/^switched off$/m);
    expect(r.err()).toBe('');
  });
});

describe('pawlink-sim errors', () => {
  it.each([
    [['--radio', 'radio-waves']],
    [['--speed', '0']],
    [['--speed', 'fast']],
    [['--ble-lib', 'bluez']],
    [['--hci', '1']],
    [['--hci', 'x', '--radio', 'ble']],
    [['--speaker', 'loud']],
    [['--mic-file', '']],
    [['--volume', '3']],
    [['an-argument']],
  ])('a bad command line %j: one line on stderr, exit 2, nothing started', async (argv) => {
    const state = freshDir();
    const r = run([...argv, '--state', state], '');
    expect(await r.code).toBe(2);
    expectOneLineError(r.err());
    expect(r.out).toEqual([]);
    expect(() => statSync(state)).toThrow();
  });

  it('a state directory that cannot be used, a missing microphone file: one line, exit 1', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const blocked = run(['--state', join(file, 'toy'), '--speaker', 'none'], '');
    expect(await blocked.code).toBe(1);
    expectOneLineError(blocked.err());

    const state = freshDir();
    const mic = run(['--state', state, '--speaker', 'none', '--mic-file', join(root, 'nothing.wav')], '');
    expect(await mic.code).toBe(1);
    expectOneLineError(mic.err());
    expect(mic.err()).toMatch(/nothing\.wav/);
    expect(() => statSync(state)).toThrow(); // a bad microphone file provisions no toy
  });
});
