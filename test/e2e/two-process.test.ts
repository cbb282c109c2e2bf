/**
 * The README's story, exactly as a user runs it: `pawlink-sim` in one process (scripted through
 * stdin, watched through --json), the `pawlink` CLI in others, on the shared virtual air, through
 * the real noble and bleno. Pair with the printed code, send a WAV, press the listen paw: the toy
 * plays it, and what it played matches what was sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { correlate, floatToInt16, readWav, resample, speechLikeSignal, writeWav } from '../../audio/index.js';

const toyCli = fileURLToPath(new URL('../../firmware-sim/cli.ts', import.meta.url));
const phoneCli = fileURLToPath(new URL('../../sdk/cli.ts', import.meta.url));
const airName = `e2e-${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'pawlink-e2e-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const env = { ...process.env, PAWLINK_AIR: airName, PAWLINK_HOME: join(root, 'phone') };
type Json = Record<string, unknown> & { event: string };

function startToy(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', toyCli, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const events: Json[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Json);
    for (const w of waiters.splice(0)) w();
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const next = async (event: string, timeoutMs = 30_000): Promise<Json> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = events.findIndex((e) => e.event === event);
      if (i >= 0) return events.splice(i, 1)[0]!;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(
          `toy: no '${event}' event; saw ${events.map((e) => e.event).join(', ')}; stderr: ${stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  };
  return { child, next, send: (line: string) => child.stdin!.write(`${line}\n`) };
}

/** Runs one `pawlink` command as its own process, as a user would type it. */
async function pawlink(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', phoneCli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

describe('pawlink-sim and pawlink as separate processes', () => {
  it('pair with the printed code, send a WAV, press the paw: the toy plays what was sent', async () => {
    const playback = join(root, 'playback');
    // A 44.1 kHz WAV, as a phone or laptop would record it.
    const source = speechLikeSignal({ seconds: 3, sampleRate: 44_100, seed: 7 });
    const wav = join(root, 'hello.wav');
    await writeWav(wav, floatToInt16(source), 44_100);

    const toy = startToy([
      '--json',
      '--state',
      join(root, 'toy'),
      '--speaker',
      `file:${playback}`,
      '--speed',
      '10',
    ]);
    const ready = await toy.next('ready');
    expect(ready).toMatchObject({ radio: 'virtual', pairingWindowOpen: true });

    const pair = await pawlink('--json', 'pair', String(ready.setupCode));
    expect(pair.stderr).toBe('');
    expect(pair.code).toBe(0);
    expect(JSON.parse(pair.stdout)).toMatchObject({ toy: { role: 'admin' } });
    await toy.next('paired');

    const send = await pawlink('--json', 'send', wav);
    expect(send.stderr).toBe('');
    expect(send.code).toBe(0);
    const { messageId } = JSON.parse(send.stdout) as { messageId: number };
    expect(await toy.next('message-stored')).toMatchObject({ messageId });

    toy.send('press listen');
    const played = await toy.next('playback-finished');
    const path = String(played.path);
    const heard = readWav(new Uint8Array(readFileSync(path)));
    expect(heard.sampleRate).toBe(16_000);
    const played16k = heard.channels[0]!;
    // What the toy played is what was sent, compared at 16 kHz (correlate finds the codec's delay).
    const same = correlate(played16k, resample(source, 44_100, 16_000));
    expect(same.correlation).toBeGreaterThanOrEqual(0.9);
    // Control: other speech does not pass the same check, so the check can fail.
    const other = speechLikeSignal({ seconds: 3, sampleRate: 16_000, seed: 99 });
    expect(correlate(played16k, other).correlation).toBeLessThan(0.5);

    const status = await pawlink('--json', 'status');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: { volume: expect.any(Number) } });

    // Bad input: one line on stderr, a non-zero exit, nothing changed on the toy.
    const bad = await pawlink('volume', '300');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const wrong = await pawlink('pair', '1357-2468');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);

    toy.send('quit');
    const [exit] = (await once(toy.child, 'exit')) as [number | null];
    expect(exit).toBe(0);
  });
});
