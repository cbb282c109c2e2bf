/**
 * `pawlink` as a real process, as a user runs it: the fixture toy in one child process hosts the
 * shared virtual air (as `npm start` would), the CLI runs in others and joins it. Proves the
 * default radio path (connectToSharedAir + noble over the virtual HCI), the exit codes, one-line
 * errors, and that each CLI process ends by itself once its command is done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { writeWav } from '../../audio/wav.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const toyScript = join(root, 'test/sdk/fixtures/toy-process.ts');
const cliScript = join(root, 'sdk/cli.ts');
const air = `sdk-cli-${process.pid}`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process until it exits by itself. */
async function pawlink(home: string, ...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliScript, '--home', home, ...args], {
    env: { ...process.env, PAWLINK_AIR: air },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('pawlink as a process on the shared virtual air', () => {
  let toy: ChildProcess;
  let ready: { setupCode: string; payload: string; role: string };
  const lines: string[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-cli-'));
    toy = spawn(process.execPath, ['--import', 'tsx', toyScript, 'cli-process'], {
      env: { ...process.env, PAWLINK_AIR: air },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const rl = createInterface({ input: toy.stdout! });
    const first = new Promise<string>((resolve) => rl.once('line', resolve));
    rl.on('line', (l) => lines.push(l));
    ready = JSON.parse(await first);
  });

  afterAll(async () => {
    toy.stdin!.end('quit\n');
    await once(toy, 'exit');
    rmSync(dir, { recursive: true, force: true });
  });

  it('pair and send succeed; bad input and a wrong code are one line with a non-zero exit; every process exits by itself', async () => {
    expect(ready.role).toBe('host');
    const home = join(dir, 'home');
    toy.stdin!.write('hold\n');
    // The payload names the toy (no wait for a second open window); its code is wrong.
    const wrong = ready.payload.slice(0, -1) + String((Number(ready.payload.at(-1)) + 1) % 10);
    const bad = await pawlink(home, 'pair', wrong);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^pawlink: wrong setup code[^\n]*\n$/);

    const paired = await pawlink(home, '--json', 'pair', ready.payload);
    expect(paired.stderr).toBe('');
    expect(paired.code).toBe(0);
    expect(JSON.parse(paired.stdout)).toMatchObject({ toy: { role: 'admin' } });

    const wav = join(dir, 'hello.wav');
    await writeWav(wav, floatToInt16(speechLikeSignal({ seconds: 2, sampleRate: 22_050 })), 22_050);
    const sent = await pawlink(home, '--json', 'send', wav);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const result = JSON.parse(sent.stdout) as { messageId: number; durationMs: number };
    expect(result.durationMs).toBe(2000);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ event: 'stored', messageId: result.messageId }),
    );

    const volume = await pawlink(home, 'volume', '300');
    expect(volume.code).toBe(2);
    expect(volume.stdout).toBe('');
    expect(volume.stderr).toBe("pawlink: the volume must be a whole number from 0 to 255, not '300'\n");
  });
});
