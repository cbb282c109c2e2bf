/**
 * The `pawlink` CLI run in-process (`main` with an injected radio, clock and captured streams)
 * against the SDK's fixture toy on an in-process virtual air: every command's happy path, its bad
 * input (one line on stderr, a non-zero exit, no stack trace, nothing changed), the --json shapes
 * and --help.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeVoice } from '../../audio/encode.js';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { writeWav } from '../../audio/wav.js';
import { toHex } from '../../protocol/bytes.js';
import type { Central } from '../../radio/link.js';
import { main } from '../../sdk/cli.js';
import { Keystore } from '../../sdk/keystore.js';
import { SdkEnv } from './fixtures/env.js';
import type { FixtureToy } from './fixtures/toy.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

class Cli {
  readonly home: string;
  central: Central | undefined;

  constructor(readonly env: SdkEnv) {
    this.home = env.home();
  }

  /** Runs `pawlink <args>` with this phone's home. */
  async run(args: string[], extra: { tty?: boolean; stop?: AbortSignal } = {}): Promise<Run> {
    this.central ??= await this.env.central();
    let stdout = '';
    let stderr = '';
    const code = await main(['node', 'pawlink', '--home', this.home, ...args], {
      stdout: {
        write: (s: string, cb?: () => void) => {
          stdout += s;
          cb?.();
          return true;
        },
        isTTY: extra.tty ?? false,
        columns: 100,
      } as never,
      stderr: { write: (s: string) => (stderr += s) },
      env: {},
      radio: this.central,
      scheduler: this.env.scheduler,
      ...(extra.stop ? { stop: extra.stop } : {}),
    });
    return { code, stdout, stderr };
  }

  /** `--json` output, parsed (and checked to be one JSON object on one line). */
  async json(args: string[]): Promise<Record<string, unknown>> {
    const r = await this.run(['--json', ...args]);
    expect(r.stderr, `stderr of ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
}

/** An error run: non-zero exit, exactly one line on stderr starting "pawlink: ", no stack, nothing on stdout. */
function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pawlink: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function pairedCli(env: SdkEnv): Promise<{ toy: FixtureToy; cli: Cli }> {
  const toy = await env.toy();
  toy.holdPaw();
  const cli = new Cli(env);
  const r = await cli.run(['pair', toy.setupCode, '--name', 'Mum', '--label', 'Bunny']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^paired with toy [0-9a-f]{32} as admin \(Bunny\)\n$/);
  return { toy, cli };
}

async function wavFile(env: SdkEnv, name: string, seconds = 2, rate = 48_000): Promise<string> {
  const path = join(env.dir, name);
  await writeWav(path, floatToInt16(speechLikeSignal({ seconds, sampleRate: rate })), rate);
  return path;
}

describe('pawlink CLI', () => {
  it('--help for the program and for every command, exit 0', async () => {
    const env = SdkEnv.open();
    const cli = new Cli(env);
    const top = await cli.run(['--help']);
    expect(top.code).toBe(0);
    for (const c of [
      'scan',
      'pair',
      'send',
      'messages',
      'recordings',
      'delete',
      'volume',
      'identify',
      'lullaby',
      'game',
      'status',
      'pairings',
      'unpair',
      'toys',
    ]) {
      expect(top.stdout).toContain(c);
    }
    for (const args of [
      ['pair', '--help'],
      ['send', '--help'],
      ['recordings', 'download', '--help'],
      ['pairings', 'add', '--help'],
    ]) {
      const r = await cli.run(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: pawlink ${args.slice(0, -1).join(' ')}`));
    }
  });

  it('usage errors (unknown command or option, missing or bad argument) are one line and exit 2', async () => {
    const env = SdkEnv.open();
    const cli = new Cli(env);
    expectOneLineError(await cli.run([]), /give a command/);
    expectOneLineError(await cli.run(['fly']), /unknown command 'fly'/);
    expectOneLineError(await cli.run(['status', '--loud']), /unknown option '--loud'/);
    expectOneLineError(await cli.run(['pair']), /missing required argument 'code'/);
    expectOneLineError(await cli.run(['--radio', 'wifi', 'status']), /wifi/);
    const r = await cli.run(['volume', 'loud']);
    expectOneLineError(r, /the volume must be a whole number from 0 to 255, not 'loud'/);
    expect(r.code).toBe(2);
  });

  it('pair: text and --json; a wrong code, a malformed code and no open window are one-line errors that save nothing', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    const cli = new Cli(env);
    expect(await cli.json(['toys'])).toEqual({ phone: null, toys: [] });
    expectOneLineError(await cli.run(['pair', '1234']), /8 digits|setup code/);
    expectOneLineError(await cli.run(['--timeout', '2', 'pair', toy.setupCode]), /hold the toy's listen paw/);
    toy.holdPaw();
    const wrong = toy.setupCode.slice(0, 7) + String((Number(toy.setupCode[7]) + 1) % 10);
    expectOneLineError(await cli.run(['pair', wrong]), /wrong setup code/);
    expect(Keystore.open({ home: cli.home }).listToys()).toEqual([]);
    const out = await cli.json(['pair', toy.payload]);
    expect(out).toEqual({
      toy: {
        toyId: toHex(toy.toy.engine.pairing.state.toyId),
        label: '',
        role: 'admin',
        pairedAt: expect.any(Number),
      },
    });
    const toys = await cli.json(['toys']);
    expect(toys).toMatchObject({
      phone: { phoneId: expect.stringMatching(/^[0-9a-f]{32}$/) },
      toys: [{ role: 'admin' }],
    });
  });

  it('scan --json lists the toys in range with window state, discriminator and ownership', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const stranger = await env.toy('stranger');
    stranger.holdPaw();
    const out = (await cli.json(['scan'])) as { toys: Array<Record<string, unknown>> };
    expect(out.toys).toHaveLength(2);
    expect(out.toys).toContainEqual(
      expect.objectContaining({ pairingWindowOpen: true, discriminator: stranger.discriminator }),
    );
    expect(out.toys).toContainEqual(
      expect.objectContaining({
        paired: expect.objectContaining({ toyId: toHex(toy.toy.engine.pairing.state.toyId) }),
      }),
    );
    const hex = `0x${stranger.discriminator.toString(16).toUpperCase()}`;
    const only = (await cli.json(['scan', '--discriminator', hex])) as { toys: unknown[] };
    expect(only.toys).toEqual([expect.objectContaining({ discriminator: stranger.discriminator })]);
    const text = await cli.run(['scan']);
    expect(text.stdout).toMatch(/pairing window OPEN \(discriminator \d+\)/);
    expect(text.stdout).toMatch(/your toy [0-9a-f]{8} \(Bunny\)/);
  });

  it('send: a WAV arrives on the toy; --json shape; no progress bar when stdout is not a terminal, one when it is', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const wav = await wavFile(env, 'hello.wav');
    const r = await cli.run(['send', wav]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^sent message 1 \(2\.0 s, \d+ bytes\): press the toy's listen paw to hear it\n$/,
    );
    expect(toy.toy.storage.messages.size).toBe(1);
    const out = await cli.json(['send', wav]);
    expect(out).toEqual({
      messageId: 2,
      toyId: toHex(toy.toy.engine.pairing.state.toyId),
      durationMs: 2000,
      bytes: toy.toy.storage.messages.get(2)!.length,
      source: 'wav',
      reencoded: true,
      truncated: false,
    });
    const tty = await cli.run(['send', wav], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('sending [');
    expect(tty.stdout).toContain('100%');
    expect(tty.stdout).toMatch(/sent message 3/);
  });

  it('send cut by a lost link: one-line error, exit 1; the next command finishes the upload and says so', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const wav = await wavFile(env, 'long.wav', 6, 16_000);
    let cut = false;
    toy.driver.onEvent((e) => {
      if (e.type === 'upload-progress' && !cut && e.committed > 0) {
        cut = true;
        env.air.connections.at(-1)!.lose();
      }
    });
    expectOneLineError(await cli.run(['send', wav]), /lost during the upload .* resumes by itself/);
    expect(toy.toy.storage.messages.size).toBe(0);
    const text = await cli.run(['volume', '90']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('volume set to 90\n');
    expect(text.stderr).toBe('pawlink: finished an interrupted upload: message 1 stored\n');
    expect(toy.toy.storage.messages.size).toBe(1);
    // Once only: the next command has nothing to resume.
    expect(await cli.json(['status'])).not.toHaveProperty('resumed');
  });

  it('--json output carries the uploads a command resumed', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const wav = await wavFile(env, 'long.wav', 6, 16_000);
    let cut = false;
    toy.driver.onEvent((e) => {
      if (e.type === 'upload-progress' && !cut && e.committed > 0) {
        cut = true;
        env.air.connections.at(-1)!.lose();
      }
    });
    expect((await cli.run(['send', wav])).code).toBe(1);
    const out = await cli.json(['volume', '91']);
    expect(out).toEqual({ volume: 91, resumed: [{ transferId: expect.any(Number), messageId: 1 }] });
  });

  it('send of a file that is missing or not audio: one line, exit 1, nothing sent', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const text = join(env.dir, 'notes.txt');
    await writeFile(text, 'not audio at all\n');
    expectOneLineError(await cli.run(['send', text]), /not an audio file/);
    expectOneLineError(await cli.run(['send', join(env.dir, 'nope.wav')]), /cannot read/);
    expect(toy.toy.storage.messages.size).toBe(0);
    expect(toy.app.actions).toHaveLength(0);
  });

  it('status, messages, volume, identify, lullaby, delete: happy paths (text and --json) and bad input', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    toy.toy.storage.messages.set(
      7,
      (await encodeVoice(floatToInt16(speechLikeSignal({ seconds: 1 })), 16_000)).container,
    );
    toy.toy.storage.nextId = 8;
    const status = (await cli.json(['status'])) as { status: Record<string, unknown>; toyId: string };
    expect(status.toyId).toBe(toHex(toy.toy.engine.pairing.state.toyId));
    expect(status.status).toMatchObject({ volume: 128, incomingCount: 1, batteryPercent: 87 });
    expect((await cli.run(['status'])).stdout).toMatch(/battery 87%, volume 128/);
    expect(await cli.json(['messages'])).toEqual({
      messages: [expect.objectContaining({ id: 7, kind: 'incoming', played: false, durationMs: 1000 })],
    });
    expect((await cli.run(['messages'])).stdout).toMatch(/^\s+7\s+incoming\s+1\.0 s/);
    expect(await cli.json(['volume', '200'])).toEqual({ volume: 200 });
    expect(toy.app.volume).toBe(200);
    expect(await cli.json(['identify'])).toEqual({ identify: 10 });
    expect(await cli.json(['identify', '3'])).toEqual({ identify: 3 });
    expect(await cli.json(['lullaby', '7', '--times', '4'])).toEqual({ lullaby: { messageId: 7, times: 4 } });
    expect(toy.app.lullaby).toEqual({ messageId: 7, loop: { mode: 'times', times: 4 } });
    expect(await cli.json(['lullaby', 'stop'])).toEqual({ lullaby: 'stopped' });
    expect(toy.app.lullaby).toBeUndefined();
    expect((await cli.run(['lullaby', '7', '--seconds', '60'])).stdout).toBe('playing message 7 for 60 s\n');
    const before = toy.app.actions.length;
    expectOneLineError(await cli.run(['volume', '300']), /from 0 to 255, not '300'/);
    expectOneLineError(await cli.run(['identify', '99']), /from 1 to 60/);
    expectOneLineError(await cli.run(['lullaby', '7', '--times', '2', '--seconds', '3']), /not both/);
    expectOneLineError(await cli.run(['lullaby', '7', '--times', '0']), /from 1 to 100/);
    expectOneLineError(await cli.run(['delete', 'x']), /a message id must be/);
    expect(toy.app.actions.length).toBe(before);
    expect(toy.app.volume).toBe(200);
    expect(await cli.json(['delete', '7'])).toEqual({ deleted: 7 });
    expectOneLineError(await cli.run(['delete', '7']), /delete message 7: the toy has no such message/);
  });

  it('recordings: list, download one and --all as WAV files', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    const a = toy.addRecording(
      (await encodeVoice(floatToInt16(speechLikeSignal({ seconds: 1, seed: 2 })), 16_000)).container,
    );
    const b = toy.addRecording(
      (await encodeVoice(floatToInt16(speechLikeSignal({ seconds: 2, seed: 3 })), 16_000)).container,
    );
    const list = (await cli.json(['recordings'])) as { recordings: Array<{ id: number; kind: string }> };
    expect(list.recordings.map((r) => [r.id, r.kind])).toEqual([
      [a, 'recording'],
      [b, 'recording'],
    ]);
    const out1 = join(env.dir, 'one');
    expect(await cli.json(['recordings', 'download', String(b), '--out', out1])).toEqual({
      downloaded: [
        { messageId: b, path: join(out1, `recording-${b}.wav`), durationMs: 2000, bytes: expect.any(Number) },
      ],
    });
    const out2 = join(env.dir, 'all');
    const text = await cli.run(['recordings', 'download', '--all', '--out', out2]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`recording ${a} -> .*recording-${a}\\.wav \\(1\\.0 s\\)`));
    expect((await readdir(out2)).sort()).toEqual([`recording-${a}.wav`, `recording-${b}.wav`]);
    expectOneLineError(await cli.run(['recordings', 'download']), /give a recording id or --all/);
    expectOneLineError(await cli.run(['recordings', 'download', '99', '--out', out1]), /no message 99/);
  });

  it('game on prints paw events until stopped (text and --json); game off', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    for (const json of [false, true]) {
      const stop = new AbortController();
      const running = cli.run([...(json ? ['--json'] : []), 'game', 'on'], { stop: stop.signal });
      while (!toy.app.gameMode) await env.sleep(50);
      toy.sendEvent({
        type: 'PawEvent',
        requestId: 0,
        paw: 'listen',
        action: 'press',
        durationMs: 120,
        atMs: 5,
      });
      toy.sendEvent({
        type: 'PawEvent',
        requestId: 0,
        paw: 'record',
        action: 'hold',
        durationMs: 2500,
        atMs: 900,
      });
      await env.sleep(500);
      stop.abort();
      const r = await running;
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      if (json) {
        expect(
          r.stdout
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l)),
        ).toEqual([
          { gameMode: true },
          { event: 'paw', paw: 'listen', action: 'press', durationMs: 120, atMs: 5 },
          { event: 'paw', paw: 'record', action: 'hold', durationMs: 2500, atMs: 900 },
        ]);
      } else {
        expect(r.stdout).toBe(
          'game mode on: press the paws (Ctrl-C to stop)\nlisten paw press (120 ms)\nrecord paw hold (2500 ms)\n',
        );
      }
      expect(toy.app.gameMode).toBe(false);
    }
    expect(await cli.json(['game', 'off'])).toEqual({ gameMode: false });
    expectOneLineError(await cli.run(['game', 'maybe']), /"on" or "off"/);
  });

  it('pairings: list, add a member (who then pairs), remove it; a member is refused; unpair --local and unpair', async () => {
    const env = SdkEnv.open();
    const { toy, cli } = await pairedCli(env);
    toy.driver.act((e) => e.pairing.closeWindow());
    const list = (await cli.json(['pairings'])) as { pairings: Array<Record<string, unknown>> };
    expect(list.pairings).toEqual([
      { phoneId: expect.stringMatching(/^[0-9a-f]{32}$/), role: 'admin', name: 'Mum', thisPhone: true },
    ]);
    expect(await cli.json(['pairings', 'add', '--seconds', '30'])).toEqual({
      pairingWindow: { role: 'member', seconds: 30 },
    });
    const dad = new Cli(env);
    expect((await dad.run(['pair', toy.setupCode, '--name', 'Dad'])).stdout).toMatch(/as member/);
    expectOneLineError(await dad.run(['pairings']), /only an admin/);
    expectOneLineError(await dad.run(['unpair']), /a member cannot remove itself/);
    const dadId = ((await dad.json(['toys'])) as { phone: { phoneId: string } }).phone.phoneId;
    expectOneLineError(await cli.run(['pairings', 'remove', 'xyz']), /32 hex digits/);
    expectOneLineError(await cli.run(['pairings', 'add', '--role', 'owner']), /owner/);
    expectOneLineError(await cli.run(['unpair']), /only admin/);
    expect(await cli.json(['pairings', 'remove', dadId])).toEqual({ removed: dadId });
    expect(toy.toy.engine.pairing.state.pairings.map((p) => p.name)).toEqual(['Mum']);
    expectOneLineError(await dad.run(['status']), /pair again/);
    expect(await dad.json(['unpair', '--local'])).toEqual({
      forgotten: toHex(toy.toy.engine.pairing.state.toyId),
    });
    expect((await dad.run(['status'])).stderr).toMatch(/not paired with any toy/);
    expect(await cli.json(['unpair'])).toEqual({ unpaired: toHex(toy.toy.engine.pairing.state.toyId) });
    expect(toy.toy.engine.pairing.state.pairings).toEqual([]);
    expect((await cli.run(['toys'])).stdout).toMatch(/not paired with any toy/);
  });
});
