/**
 * `pawlink`: the SDK as a command line, for developers and testers (one command, one toy action).
 *
 *   pawlink pair 1234-5670                 pair with the toy whose pairing window is open
 *   pawlink send hello.wav                 send a voice message (WAV, Ogg Opus), with a progress bar
 *   pawlink status | messages | recordings [download <id> | --all] | delete <id>
 *   pawlink volume 200 | identify 10 | lullaby 3 --times 5 | game on | pairings [add | remove <id>]
 *
 * Global options: --radio virtual|ble, --ble-lib, --hci N, --home DIR, --toy ID, --timeout S,
 * --json. Results go to stdout (text, or one JSON object with --json); any error is ONE line on
 * stderr ("pawlink: ...") with exit code 1 (2 for a command-line usage error); never a stack trace.
 * Arguments are checked before the radio opens, so a bad one changes nothing. The radio is closed
 * before `main` returns, so the process ends by itself.
 *
 * `main(argv, io)` takes its streams and, for tests, an injected radio and clock (`CliIo`).
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import CliProgress from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import {
  IDENTIFY_SECONDS_MAX,
  IDENTIFY_SECONDS_MIN,
  LULLABY_SECONDS_MAX,
  LULLABY_SECONDS_MIN,
  LULLABY_TIMES_MAX,
  LULLABY_TIMES_MIN,
  MESSAGE_ID_MAX,
  MESSAGE_ID_MIN,
  type MessageEntry,
  PAIRING_WINDOW_SECONDS_MAX,
  PAIRING_WINDOW_SECONDS_MIN,
  VOLUME_MAX,
  VOLUME_MIN,
} from '../protocol/messages/index.js';
import { parseSetupInput } from '../protocol/pairing/index.js';
import type { Scheduler } from '../radio/clock.js';
import type { Central } from '../radio/link.js';
import { ToyClient, type ToyClient as ToyClientType } from './client.js';
import { SdkError } from './errors.js';
import { asSdkError, oneLine, parseHex } from './internal.js';
import type { Keystore } from './keystore.js';
import { prepareVoice } from './send.js';
import type { ResumedUpload, ToySession, TransferProgress } from './session.js';

/** A writable text stream (process.stdout or a test's capture). */
export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What `main` talks to; everything defaults to the process's own. */
export interface CliIo {
  stdout: TextOut;
  stderr: TextOut;
  /** Environment (PAWLINK_HOME, PAWLINK_BLE_LIB...). */
  env: NodeJS.ProcessEnv;
  /** A central to use instead of opening --radio (tests). */
  radio?: Central;
  /** Time for timeouts (tests: the virtual air's clock). */
  scheduler?: Scheduler;
  /** A keystore to use instead of --home (tests). */
  keystore?: Keystore;
  /**
   * Ends `game on` (default: SIGINT or SIGTERM). Tests abort it.
   */
  stop?: AbortSignal;
}

interface GlobalOptions {
  radio: 'virtual' | 'ble';
  bleLib?: string;
  hci?: string;
  home?: string;
  json?: boolean;
  timeout?: string;
  toy?: string;
}

/** Thrown for a command-line usage error (exit code 2). */
class UsageError extends SdkError {}

/** Runs the CLI with `argv` (as process.argv: node, script, args...). Resolves with the exit code. */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const out: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    ...(io.radio ? { radio: io.radio } : {}),
    ...(io.scheduler ? { scheduler: io.scheduler } : {}),
    ...(io.keystore ? { keystore: io.keystore } : {}),
    ...(io.stop ? { stop: io.stop } : {}),
  };
  // Commander's own error output is held back: no command at all makes it print the whole help
  // on stderr, which is replaced by one line.
  let commanderErr = '';
  const cli = new Cli(out, (s) => {
    commanderErr += s;
  });
  const program = cli.program();
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.help' && e.exitCode !== 0) {
        out.stderr.write('pawlink: give a command (pawlink --help lists them)\n');
        return 2;
      }
      out.stderr.write(commanderErr);
      // Help and version are not errors; anything else commander refused is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    const error = asSdkError(e);
    out.stderr.write(`pawlink: ${oneLine(error.message)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await cli.close();
  }
}

class Cli {
  #client: ToyClientType | undefined;
  #session: ToySession | undefined;

  constructor(
    readonly io: CliIo,
    readonly commanderErr: (text: string) => void,
  ) {}

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.close().catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }

  program(): Command {
    const io = this.io;
    const program = new Command('pawlink')
      .description('Talk to a PawLink toy: pair, send voice messages, collect recordings.')
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.stdout.write(s),
        writeErr: (s) => this.commanderErr(s),
        outputError: (s, write) => write(`pawlink: ${oneLine(s.replace(/^error: /, ''))}\n`),
      })
      .addOption(
        new Option('--radio <radio>', 'virtual (the simulator on this machine) or ble (a real adapter)')
          .choices(['virtual', 'ble'])
          .default('virtual'),
      )
      .option('--ble-lib <family>', 'BLE library family: abandonware or stoprocent (default PAWLINK_BLE_LIB)')
      .option('--hci <n>', 'real adapter number (hciN), with --radio ble')
      .option(
        '--home <dir>',
        "this phone's keystore directory (default PAWLINK_HOME or the user data directory)",
      )
      .option('--toy <id>', 'which paired toy (id, id prefix or label) when there are several')
      .option('--timeout <seconds>', 'how long to look for a toy (default 10)')
      .option('--json', 'print results as JSON')
      .showSuggestionAfterError(true);

    program
      .command('toys')
      .description('list the toys this phone is paired with (no radio)')
      .action(async (_o, cmd: Command) => {
        const client = await this.#openClient(cmd);
        const toys = client.toys();
        // Listing creates no identity: a phone that never paired has none yet.
        const phone = client.keystore.hasIdentity() ? client.phone() : null;
        this.#print(cmd, { phone, toys }, () =>
          toys.length === 0
            ? 'not paired with any toy (pawlink pair <code>)'
            : toys.map((t) => `${t.toyId}  ${t.role.padEnd(6)}  ${t.label}`).join('\n'),
        );
      });

    program
      .command('scan')
      .description('list the PawLink toys in range')
      .option('--discriminator <n>', 'only the toy with this discriminator (0-4095, or 0x000-0xFFF)')
      .action(async (o: { discriminator?: string }, cmd: Command) => {
        const discriminator = o.discriminator === undefined ? undefined : discriminatorArg(o.discriminator);
        const g = globals(cmd);
        const timeoutMs = g.timeout === undefined ? undefined : seconds(g.timeout) * 1000;
        const client = await this.#openClient(cmd);
        const toys = await client.scan({
          ...(discriminator !== undefined ? { discriminator } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        });
        this.#print(cmd, { toys }, () => {
          if (toys.length === 0) return 'no PawLink toy in range';
          return toys
            .map((t) => {
              const window =
                t.pairingWindowOpen === undefined
                  ? 'state unknown'
                  : t.pairingWindowOpen
                    ? `pairing window OPEN (discriminator ${t.discriminator ?? '?'})`
                    : 'pairing window closed';
              const mine = t.paired
                ? `your toy ${t.paired.toyId.slice(0, 8)}${t.paired.label ? ` (${t.paired.label})` : ''}`
                : 'not yours';
              return `${t.id}  ${t.rssi} dBm  ${window}  ${mine}`;
            })
            .join('\n');
        });
      });

    program
      .command('pair')
      .description('pair with the toy whose pairing window is open (hold its listen paw 3 s)')
      .argument('<code>', "the 8-digit setup code on the toy's tag, or the setup payload of its QR code")
      .option(
        '--discriminator <n>',
        'which toy, when several have their window open (0-4095 or 0x000-0xFFF, on the tag)',
      )
      .option('--name <name>', "this phone's name on the toy's list of phones")
      .option('--label <label>', 'your name for the toy')
      .action(
        async (code: string, o: { discriminator?: string; name?: string; label?: string }, cmd: Command) => {
          try {
            parseSetupInput(code);
          } catch (e) {
            throw asSdkError(e);
          }
          const discriminator = o.discriminator === undefined ? undefined : discriminatorArg(o.discriminator);
          const client = await this.#openClient(cmd);
          const toy = await client.pair(code, {
            ...(discriminator !== undefined ? { discriminator } : {}),
            ...(o.name !== undefined ? { name: o.name } : {}),
            ...(o.label !== undefined ? { label: o.label } : {}),
            ...this.#timeoutOption(cmd),
          });
          this.#print(
            cmd,
            { toy },
            () => `paired with toy ${toy.toyId} as ${toy.role}${toy.label ? ` (${toy.label})` : ''}`,
          );
        },
      );

    program
      .command('send')
      .description('send a voice message (WAV of any rate, or Ogg Opus)')
      .argument('<file>', 'the audio file')
      .option('--truncate', 'send the first 120 s of a longer file instead of refusing it')
      .action(async (file: string, o: { truncate?: boolean }, cmd: Command) => {
        const voice = await prepareVoice(file, { onTooLong: o.truncate ? 'truncate' : 'error' });
        const session = await this.#connect(cmd);
        const bar = this.#progressBar(cmd, 'sending');
        let messageId: number;
        try {
          messageId = await session.send(voice, { onProgress: (p) => bar?.update(p) });
        } finally {
          bar?.stop();
        }
        const result = {
          messageId,
          toyId: session.toy.toyId,
          durationMs: voice.durationMs,
          bytes: voice.container.length,
          source: voice.source,
          reencoded: voice.reencoded,
          truncated: voice.truncated,
        };
        this.#print(
          cmd,
          result,
          () =>
            `sent message ${messageId} (${(voice.durationMs / 1000).toFixed(1)} s, ${voice.container.length} bytes${voice.reencoded ? '' : ', not re-encoded'}${voice.truncated ? ', truncated to 120 s' : ''}): press the toy's listen paw to hear it`,
        );
      });

    program
      .command('messages')
      .description('list the messages stored on the toy')
      .addOption(
        new Option('--kind <kind>', 'which messages')
          .choices(['all', 'incoming', 'recording'])
          .default('all'),
      )
      .action(async (o: { kind: 'all' | 'incoming' | 'recording' }, cmd: Command) => {
        const session = await this.#connect(cmd);
        const messages = await session.messages(o.kind);
        this.#print(cmd, { messages }, () => formatMessages(messages));
      });

    const recordings = program
      .command('recordings')
      .description("list the child's recordings on the toy (or download them)")
      .action(async (_o, cmd: Command) => {
        const session = await this.#connect(cmd);
        const list = await session.recordings();
        this.#print(cmd, { recordings: list }, () => formatMessages(list, 'no recordings on the toy'));
      });
    recordings
      .command('download')
      .description('download recordings as WAV files')
      .argument('[id]', 'the recording to download')
      .option('--all', 'download every recording')
      .option('--out <dir>', 'directory for the WAV files', '.')
      .action(async (id: string | undefined, o: { all?: boolean; out: string }, cmd: Command) => {
        if ((id === undefined) === !o.all) throw new UsageError('BAD_INPUT', 'give a recording id or --all');
        const wanted =
          id === undefined ? undefined : int(id, MESSAGE_ID_MIN, MESSAGE_ID_MAX, 'a recording id');
        try {
          mkdirSync(o.out, { recursive: true });
        } catch (e) {
          throw new SdkError(
            'WRITE_FAILED',
            `cannot create ${o.out}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
          );
        }
        const session = await this.#connect(cmd);
        const ids = wanted !== undefined ? [wanted] : (await session.recordings()).map((r) => r.id);
        const downloaded: Array<{ messageId: number; path: string; durationMs: number; bytes: number }> = [];
        for (const messageId of ids) {
          const bar = this.#progressBar(cmd, `recording ${messageId}`);
          try {
            const r = await session.download(messageId, {
              out: join(o.out, `recording-${messageId}.wav`),
              onProgress: (p) => bar?.update(p),
            });
            downloaded.push({
              messageId,
              path: r.path!,
              durationMs: r.durationMs,
              bytes: r.container.length,
            });
          } finally {
            bar?.stop();
          }
        }
        this.#print(cmd, { downloaded }, () =>
          downloaded.length === 0
            ? 'no recordings on the toy'
            : downloaded
                .map((d) => `recording ${d.messageId} -> ${d.path} (${(d.durationMs / 1000).toFixed(1)} s)`)
                .join('\n'),
        );
      });

    program
      .command('delete')
      .description('delete a message stored on the toy')
      .argument('<id>', 'the message id (see pawlink messages)')
      .action(async (id: string, _o, cmd: Command) => {
        const messageId = int(id, MESSAGE_ID_MIN, MESSAGE_ID_MAX, 'a message id');
        const session = await this.#connect(cmd);
        await session.delete(messageId);
        this.#print(cmd, { deleted: messageId }, () => `deleted message ${messageId}`);
      });

    program
      .command('volume')
      .description("set the toy's speaker volume")
      .argument('<volume>', `${VOLUME_MIN} (silent) to ${VOLUME_MAX} (loudest)`)
      .action(async (v: string, _o, cmd: Command) => {
        const volume = int(v, VOLUME_MIN, VOLUME_MAX, 'the volume');
        const session = await this.#connect(cmd);
        await session.setVolume(volume);
        this.#print(cmd, { volume }, () => `volume set to ${volume}`);
      });

    program
      .command('identify')
      .description("blink the toy's heart so you can tell which toy it is")
      .argument('[seconds]', `${IDENTIFY_SECONDS_MIN} to ${IDENTIFY_SECONDS_MAX}`, '10')
      .action(async (s: string, _o, cmd: Command) => {
        const secs = int(s, IDENTIFY_SECONDS_MIN, IDENTIFY_SECONDS_MAX, 'identify seconds');
        const session = await this.#connect(cmd);
        await session.identify(secs);
        this.#print(cmd, { identify: secs }, () => `the heart blinks for ${secs} s`);
      });

    program
      .command('lullaby')
      .description('play a stored message in a loop ("lullaby stop" stops it)')
      .argument('<messageId>', 'the message to loop, or "stop"')
      .option('--times <n>', `repeat count (${LULLABY_TIMES_MIN}-${LULLABY_TIMES_MAX})`)
      .option('--seconds <s>', `sleep timer (${LULLABY_SECONDS_MIN}-${LULLABY_SECONDS_MAX})`)
      .action(async (arg: string, o: { times?: string; seconds?: string }, cmd: Command) => {
        if (arg === 'stop') {
          if (o.times !== undefined || o.seconds !== undefined)
            throw new UsageError('BAD_INPUT', '"lullaby stop" takes no --times or --seconds');
          const session = await this.#connect(cmd);
          await session.stopLullaby();
          this.#print(cmd, { lullaby: 'stopped' }, () => 'lullaby stopped');
          return;
        }
        const messageId = int(arg, MESSAGE_ID_MIN, MESSAGE_ID_MAX, 'a message id');
        if (o.times !== undefined && o.seconds !== undefined)
          throw new UsageError('BAD_INPUT', 'give --times or --seconds, not both');
        const loop =
          o.seconds !== undefined
            ? { seconds: int(o.seconds, LULLABY_SECONDS_MIN, LULLABY_SECONDS_MAX, 'lullaby seconds') }
            : {
                times:
                  o.times === undefined
                    ? 1
                    : int(o.times, LULLABY_TIMES_MIN, LULLABY_TIMES_MAX, 'lullaby times'),
              };
        const session = await this.#connect(cmd);
        await session.lullaby(messageId, loop);
        this.#print(cmd, { lullaby: { messageId, ...loop } }, () =>
          'times' in loop
            ? `playing message ${messageId} ${loop.times} time(s)`
            : `playing message ${messageId} for ${loop.seconds} s`,
        );
      });

    program
      .command('game')
      .description('game mode: "game on" prints the paw presses until Ctrl-C')
      .argument('<state>', 'on or off')
      .action(async (state: string, _o, cmd: Command) => {
        if (state !== 'on' && state !== 'off')
          throw new UsageError('BAD_INPUT', `game takes "on" or "off", not "${state}"`);
        const session = await this.#connect(cmd);
        if (state === 'off') {
          await session.gameMode(false);
          this.#print(cmd, { gameMode: false }, () => 'game mode off');
          return;
        }
        await this.#game(session, cmd);
      });

    program
      .command('status')
      .description("the toy's state: battery, volume, storage, messages")
      .action(async (_o, cmd: Command) => {
        const session = await this.#connect(cmd);
        const status = await session.status();
        this.#print(cmd, { toyId: session.toy.toyId, status }, () =>
          [
            `toy ${session.toy.toyId}${session.toy.label ? ` (${session.toy.label})` : ''}, you are ${session.toy.role}`,
            `battery ${status.batteryPercent}%${status.charging ? ' (charging)' : ''}, volume ${status.volume}, firmware ${status.firmware.major}.${status.firmware.minor}.${status.firmware.patch}`,
            `messages: ${status.incomingCount} incoming (${status.unplayedCount} not played), ${status.recordingCount} recordings`,
            `storage: ${status.storageFreeBytes} of ${status.storageTotalBytes} bytes free`,
            `game mode ${status.gameMode ? 'on' : 'off'}, pairing window ${status.pairingWindowOpen ? 'open' : 'closed'}, lullaby ${status.lullabyPlaying ? 'playing' : 'off'}`,
          ].join('\n'),
        );
      });

    const pairings = program
      .command('pairings')
      .description("the toy's paired phones (admin only); add or remove one")
      .action(async (_o, cmd: Command) => {
        const session = await this.#connect(cmd);
        const list = await session.pairings();
        this.#print(cmd, { pairings: list }, () =>
          list
            .map((p) => `${p.phoneId}  ${p.role.padEnd(6)}  ${p.name}${p.thisPhone ? '  (this phone)' : ''}`)
            .join('\n'),
        );
      });
    pairings
      .command('add')
      .description('open the pairing window for another phone, which then pairs with the setup code')
      .addOption(
        new Option('--role <role>', "the new phone's role").choices(['member', 'admin']).default('member'),
      )
      .option(
        '--seconds <s>',
        `how long the window stays open (${PAIRING_WINDOW_SECONDS_MIN}-${PAIRING_WINDOW_SECONDS_MAX})`,
        '180',
      )
      .action(async (o: { role: 'member' | 'admin'; seconds: string }, cmd: Command) => {
        const secs = int(
          o.seconds,
          PAIRING_WINDOW_SECONDS_MIN,
          PAIRING_WINDOW_SECONDS_MAX,
          'the window seconds',
        );
        const session = await this.#connect(cmd);
        await session.addPairing({ role: o.role, seconds: secs });
        this.#print(
          cmd,
          { pairingWindow: { role: o.role, seconds: secs } },
          () =>
            `the toy's pairing window is open for ${secs} s: on the other phone run "pawlink pair <code>" (the new phone will be ${o.role})`,
        );
      });
    pairings
      .command('remove')
      .description('remove a phone from the toy')
      .argument('<phoneId>', 'the phone id (32 hex digits, see pawlink pairings)')
      .action(async (phoneId: string, _o, cmd: Command) => {
        if (!parseHex(phoneId, 16))
          throw new UsageError('BAD_INPUT', 'a phone id is 32 hex digits (see pawlink pairings)');
        const session = await this.#connect(cmd);
        await session.removePairing(phoneId);
        this.#print(cmd, { removed: phoneId.toLowerCase() }, () => `removed phone ${phoneId.toLowerCase()}`);
      });

    program
      .command('unpair')
      .description('remove this phone from the toy and forget the toy')
      .option('--force', 'also when this phone is the only admin (that removes every phone)')
      .option('--local', 'only forget the toy on this phone (the toy keeps the pairing)')
      .action(async (o: { force?: boolean; local?: boolean }, cmd: Command) => {
        if (o.local) {
          const client = await this.#openClient(cmd);
          const toy = client.forget(globals(cmd).toy);
          this.#print(
            cmd,
            { forgotten: toy.toyId },
            () =>
              `forgot toy ${toy.toyId} on this phone (the toy still lists this phone until an admin removes it)`,
          );
          return;
        }
        const session = await this.#connect(cmd);
        const toyId = session.toy.toyId;
        await session.unpair({ force: !!o.force });
        this.#session = undefined;
        this.#print(cmd, { unpaired: toyId }, () => `this phone is no longer paired with toy ${toyId}`);
      });

    return program;
  }

  // ---- helpers ----

  async #openClient(cmd: Command): Promise<ToyClientType> {
    if (this.#client) return this.#client;
    const g = globals(cmd);
    const hci = g.hci === undefined ? undefined : int(g.hci, 0, 255, '--hci');
    const timeoutMs = g.timeout === undefined ? undefined : seconds(g.timeout) * 1000;
    const home = g.home ?? this.io.env['PAWLINK_HOME'];
    this.#client = await ToyClient.open({
      radio: this.io.radio ?? g.radio,
      ...(g.bleLib !== undefined ? { bleLib: g.bleLib } : {}),
      ...(hci !== undefined ? { hci } : {}),
      ...(this.io.keystore ? { keystore: this.io.keystore } : home ? { home } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(this.io.scheduler ? { scheduler: this.io.scheduler } : {}),
      ...(this.io.env['PAWLINK_AIR'] ? { air: this.io.env['PAWLINK_AIR'] } : {}),
      phoneName: defaultPhoneName(),
    });
    return this.#client;
  }

  #timeoutOption(cmd: Command): { timeoutMs?: number } {
    const g = globals(cmd);
    return g.timeout === undefined ? {} : { timeoutMs: seconds(g.timeout) * 1000 };
  }

  async #connect(cmd: Command): Promise<ToySession> {
    const client = await this.#openClient(cmd);
    const g = globals(cmd);
    const bar = this.#progressBar(cmd, 'resuming an interrupted upload');
    let session: ToySession;
    try {
      session = await client.connect(g.toy, {
        ...this.#timeoutOption(cmd),
        ...(bar ? { onResumeProgress: (p: TransferProgress) => bar.update(p) } : {}),
      });
    } finally {
      bar?.stop();
    }
    this.#session = session;
    this.#reportResumed(cmd, session.resumed);
    return session;
  }

  #reportResumed(cmd: Command, resumed: ResumedUpload[]): void {
    if (resumed.length === 0 || globals(cmd).json) return;
    for (const r of resumed) {
      this.io.stderr.write(
        r.messageId !== undefined
          ? `pawlink: finished an interrupted upload: message ${r.messageId} stored\n`
          : `pawlink: dropped an interrupted upload: ${oneLine(r.error?.message ?? 'failed')}\n`,
      );
    }
  }

  #print(cmd: Command, json: object, text: () => string): void {
    const g = globals(cmd);
    if (g.json) {
      const resumed = this.#session?.resumed ?? [];
      const extra =
        resumed.length > 0
          ? {
              resumed: resumed.map((r) => ({
                transferId: r.transferId,
                ...(r.messageId !== undefined ? { messageId: r.messageId } : {}),
                ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
              })),
            }
          : {};
      this.io.stdout.write(`${JSON.stringify({ ...json, ...extra })}\n`);
    } else {
      const t = text();
      if (t) this.io.stdout.write(`${t}\n`);
    }
  }

  /** A progress bar on stdout when it is a terminal (and not --json); undefined otherwise. */
  #progressBar(cmd: Command, label: string): { update(p: TransferProgress): void; stop(): void } | undefined {
    if (globals(cmd).json || !this.io.stdout.isTTY) return undefined;
    let bar: CliProgress.SingleBar | undefined;
    let transferId: number | undefined;
    const io = this.io;
    return {
      update: (p) => {
        if (bar && p.transferId !== transferId) {
          bar.stop(); // the next transfer (several resumed uploads): a bar of its own
          bar = undefined;
        }
        transferId = p.transferId;
        if (!bar) {
          bar = new CliProgress.SingleBar(
            {
              stream: io.stdout as NodeJS.WritableStream,
              format: `${label} [{bar}] {percentage}% | {value}/{total} bytes`,
              hideCursor: true,
              clearOnComplete: false,
            },
            CliProgress.Presets.shades_classic,
          );
          bar.start(p.totalBytes, p.committedBytes);
        } else bar.update(p.committedBytes);
      },
      stop: () => bar?.stop(),
    };
  }

  async #game(session: ToySession, cmd: Command): Promise<void> {
    const json = globals(cmd).json;
    const controller = new AbortController();
    const signal = this.io.stop ?? controller.signal;
    const onSignal = () => controller.abort();
    if (!this.io.stop) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    const events = session.events();
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await session.gameMode(true);
      if (!json) this.io.stdout.write('game mode on: press the paws (Ctrl-C to stop)\n');
      else this.io.stdout.write(`${JSON.stringify({ gameMode: true })}\n`);
      const ended = session.closed.then((reason) => reason);
      for (;;) {
        const next = await Promise.race([events.next(), stopped.then(() => 'stop' as const), ended]);
        if (next === 'stop') break;
        if (next instanceof SdkError) throw next;
        if (next.done) break;
        const e = next.value;
        if (e.type !== 'PawEvent') continue;
        if (json) {
          this.io.stdout.write(
            `${JSON.stringify({ event: 'paw', paw: e.paw, action: e.action, durationMs: e.durationMs, atMs: e.atMs })}\n`,
          );
        } else this.io.stdout.write(`${e.paw} paw ${e.action} (${e.durationMs} ms)\n`);
      }
      if (session.isOpen) await session.gameMode(false).catch(() => undefined);
    } finally {
      await events.return?.();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
}

/** A whole number from `min` to `max` written in decimal, else a BAD_INPUT usage error. */
function int(text: string, min: number, max: number, what: string): number {
  const v = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UsageError('BAD_INPUT', `${what} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return v;
}

/** A discriminator as printed on a tag: decimal, or hexadecimal with 0x (the setup payload's form). */
function discriminatorArg(text: string): number {
  const hex = /^0x([0-9a-f]{1,3})$/i.exec(text.trim());
  return hex ? Number.parseInt(hex[1]!, 16) : int(text, 0, 4095, 'the discriminator');
}

/** This computer's name, as the toy's list of phones shows a phone paired without --name. */
function defaultPhoneName(): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are not allowed in names
  let name = hostname().replace(/[\u0000-\u001f\u007f\ufeff]/g, '');
  while (Buffer.byteLength(name) > 32) name = name.slice(0, -1);
  return name;
}

function seconds(text: string): number {
  const v = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(v > 0 && v <= 3600))
    throw new UsageError('BAD_INPUT', `--timeout must be a number of seconds above 0, not '${text}'`);
  return v;
}

function formatMessages(list: MessageEntry[], empty = 'no messages on the toy'): string {
  if (list.length === 0) return empty;
  return list
    .map(
      (m) =>
        `${String(m.id).padStart(4)}  ${m.kind.padEnd(9)}  ${(m.durationMs / 1000).toFixed(1).padStart(6)} s  ${String(m.sizeBytes).padStart(7)} bytes  ${m.played ? (m.kind === 'recording' ? 'downloaded' : 'played') : 'new'}`,
    )
    .join('\n');
}

/**
 * Runs the CLI as the `pawlink` process (bin/pawlink.js): `main(process.argv)`, its exit code, and
 * a last guard so that even an unexpected failure (a bug) is one line, never a stack trace.
 */
export async function run(): Promise<void> {
  const fatal = (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`pawlink: internal error: ${oneLine(message)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.exitCode = await main(process.argv);
}

// `tsx sdk/cli.ts ...` runs it directly (bin/pawlink.js does the same for the built file).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
