/**
 * `pawlink-sim` (`npm start`): the simulated toy in a terminal.
 *
 *   pawlink-sim [--state DIR] [--radio virtual|ble] [--ble-lib abandonware|stoprocent] [--hci N]
 *               [--speaker auto|none|file:DIR] [--mic-file FILE.wav] [--json] [--speed N]
 *               [--no-pairing-window]
 *
 * It prints the toy's tag (setup code, discriminator, setup payload, and a QR code in a terminal),
 * where playback goes, and "ready"; then it takes the paws from the keyboard:
 * - stdin a terminal: single keys (l press listen, L hold listen 3 s, r press record, b hold both
 *   paws 10 s, B hold both 2 s, s status, h help, q quit) and a status line with the heart LED;
 * - otherwise one command a line: `press listen|record`, `hold listen|record|both SECONDS`,
 *   `down|up listen|record`, `wait SECONDS`, `status`, `help`, `quit` (an unknown command is a
 *   one-line error on stderr; the toy carries on). End of input quits.
 * With --json every event is one JSON object a line on stdout, the first `{"event":"ready",...}`.
 *
 * A toy with nobody paired opens its pairing window at start (like a factory-new device; a paw
 * hold opens it again later); --no-pairing-window leaves it closed until the listen paw is held.
 *
 * Exit codes: 0 after quit, end of input, SIGINT or SIGTERM; 2 for a bad command line; 1 for
 * anything else that stops the toy (state directory unusable or in use, no adapter, a bad mic
 * file). Every error is one line; never a stack trace.
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PawLinkError } from '../protocol/errors.js';
import { FACTORY_RESET_HOLD_MS } from '../protocol/messages/constants.js';
import { PAW_HOLD_MS } from '../protocol/pairing/constants.js';
import { resolveFamily } from '../radio/ble/family.js';
import { realScheduler, type Scheduler } from '../radio/clock.js';
import { BOTH_PAWS_RESET_HOLD_MS } from './constants.js';
import type { PawName, ToySimEvent, ToyStatusSnapshot } from './events.js';
import { describeLed } from './hardware/led.js';
import { parseMicrophoneSpec } from './hardware/microphone.js';
import { parseSpeakerSpec } from './hardware/speaker.js';
import type { ToyRadioSpec } from './radio.js';
import { defaultStateDir } from './storage.js';
import { formatSetupCode } from './tag.js';
import { SimulatedToy } from './toy.js';

/** The process streams and environment main() uses (tests inject their own). */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Calls `handler` on SIGINT / SIGTERM; returns the unregistration. Default: none. */
  onSignal?: (handler: (signal: string) => void) => () => void;
}

interface Flags {
  state: string;
  radio: 'virtual' | 'ble';
  bleLib?: string;
  hci?: number;
  speaker: string;
  micFile?: string;
  json?: boolean;
  speed: number;
  pairingWindow: boolean;
}

class UsageError extends Error {}

/** A clock `speed` times faster than `base` (for the toy's physical time). */
export function scaledScheduler(base: Scheduler, speed: number): Scheduler {
  if (speed === 1) return base;
  const origin = base.now();
  return {
    now: () => origin + (base.now() - origin) * speed,
    setTimer: (fn, delayMs) => base.setTimer(fn, Math.max(0, delayMs) / speed),
  };
}

function parseSpeed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1000)
    throw new InvalidArgumentError('use a number above 0, at most 1000');
  return n;
}

function parseHci(value: string): number {
  if (!/^\d{1,3}$/.test(value)) throw new InvalidArgumentError('use the adapter number N of hciN');
  return Number(value);
}

function buildProgram(io: CliIo): Command {
  return new Command('pawlink-sim')
    .description('The simulated PawLink toy: pair with it and send it messages with `npx pawlink`.')
    .option('--state <dir>', 'where the toy keeps its flash, secure element and tag', defaultStateDir())
    .addOption(
      new Option('--radio <kind>', 'virtual radio (no hardware) or a real Bluetooth adapter')
        .choices(['virtual', 'ble'])
        .default('virtual'),
    )
    .option('--ble-lib <family>', 'BLE library family: abandonware or stoprocent (default $PAWLINK_BLE_LIB)')
    .option('--hci <n>', 'the adapter hciN to use with --radio ble', parseHci)
    .option('--speaker <spec>', 'where playback goes: auto, none or file:DIR (one WAV per playback)', 'auto')
    .option(
      '--mic-file <file>',
      'a WAV (or Ogg Opus) file the microphone hears, from its start at each recording',
    )
    .option('--json', 'print every event as one JSON object a line')
    .option('--speed <n>', "run the toy's own time N times faster (paw holds, LED, playback)", parseSpeed, 1)
    .option('--no-pairing-window', 'do not open the pairing window at start (a toy nobody paired opens it)')
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`pawlink-sim: ${s.replace(/^error: /, '').trim()} (see --help)\n`),
    });
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

/** Checks the flag values that commander cannot, before anything is opened. */
function checkFlags(flags: Flags, env: NodeJS.ProcessEnv): void {
  try {
    resolveFamily(flags.bleLib, env);
    parseSpeakerSpec(flags.speaker);
    if (flags.micFile !== undefined) parseMicrophoneSpec(`file:${flags.micFile}`);
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  if (flags.hci !== undefined && flags.radio !== 'ble') throw new UsageError('--hci needs --radio ble');
}

const HELP_KEYS =
  'keys: l press listen · L hold listen 3 s · r press record · b hold both paws 10 s · B hold both 2 s · s status · h help · q quit';
const HELP_LINES =
  'commands: press listen|record · hold listen|record|both SECONDS · down|up listen|record · wait SECONDS · status · help · quit';

/** Runs the simulator; resolves with the exit code. Never throws, never prints a stack trace. */
export async function main(argv: string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    ...ioOverrides,
  };
  const program = buildProgram(io);
  let flags: Flags;
  try {
    program.parse(argv, { from: 'user' });
    flags = program.opts<Flags>();
    checkFlags(flags, io.env);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.stderr.write(`pawlink-sim: ${oneLine(e)} (see --help)\n`);
    return 2;
  }
  return new Simulator(flags, io).run();
}

class Simulator {
  readonly #flags: Flags;
  readonly #io: CliIo;
  readonly #json: boolean;
  readonly #tty: boolean;
  #toy: SimulatedToy | undefined;
  #statusShown = false;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #quit!: () => void;
  readonly #quitting: Promise<void>;
  #lastLed = '';

  constructor(flags: Flags, io: CliIo) {
    this.#flags = flags;
    this.#io = io;
    this.#json = flags.json === true;
    this.#tty = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
    this.#quitting = new Promise((resolve) => {
      this.#quit = resolve;
    });
  }

  async run(): Promise<number> {
    const { env } = this.#io;
    const flags = this.#flags;
    const family = resolveFamily(flags.bleLib, env);
    const radio: ToyRadioSpec =
      flags.radio === 'ble'
        ? { kind: 'ble', family, ...(flags.hci !== undefined ? { hciDeviceId: flags.hci } : {}) }
        : { kind: 'virtual', family };
    const offSignal = this.#io.onSignal?.(() => this.#quit());
    let toy: SimulatedToy;
    try {
      toy = await SimulatedToy.start({
        stateDir: flags.state,
        radio,
        scheduler: realScheduler,
        hardwareClock: scaledScheduler(realScheduler, flags.speed),
        speaker: parseSpeakerSpec(flags.speaker),
        microphone: flags.micFile !== undefined ? parseMicrophoneSpec(`file:${flags.micFile}`) : 'auto',
        pairingWindowAtStart: flags.pairingWindow,
      });
    } catch (e) {
      offSignal?.();
      this.#fatal(e);
      return 1;
    }
    this.#toy = toy;
    toy.onEvent((event) => this.#onEvent(event));
    this.#printReady(toy, family);
    const stopInput = this.#readInput();
    await this.#quitting;
    stopInput();
    offSignal?.();
    try {
      await this.#queue.catch(() => undefined);
      await toy.close();
    } catch (e) {
      this.#clearStatus();
      this.#fatal(e);
      return 1;
    }
    this.#clearStatus();
    if (this.#json) this.#out({ event: 'closed' });
    else this.#line('switched off');
    return 0;
  }

  // ---- input --------------------------------------------------------------------------------

  #readInput(): () => void {
    const stdin = this.#io.stdin;
    if (this.#tty) {
      stdin.setRawMode!(true);
      const onData = (chunk: Buffer | string) => {
        for (const key of chunk.toString()) this.#key(key);
      };
      stdin.on('data', onData);
      stdin.resume();
      this.#statusTimer = setInterval(() => this.#drawStatus(), 100);
      this.#statusTimer.unref?.();
      return () => {
        stdin.off('data', onData);
        stdin.setRawMode!(false);
        stdin.pause();
        if (this.#statusTimer) clearInterval(this.#statusTimer);
      };
    }
    const rl = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
    rl.on('line', (line) => this.#command(line));
    rl.on('close', () => {
      // End of input: run what was asked, then quit.
      void this.#queue.then(() => this.#quit());
    });
    return () => rl.close();
  }

  #key(key: string): void {
    const toy = this.#toy!;
    const keys: Record<string, () => void> = {
      l: () => this.#enqueue(() => toy.press('listen')),
      L: () => this.#enqueue(() => toy.hold('listen', PAW_HOLD_MS)),
      r: () => this.#enqueue(() => toy.press('record')),
      R: () => this.#enqueue(() => toy.hold('record', 2_000)),
      b: () => this.#enqueue(() => toy.hold('both', BOTH_PAWS_RESET_HOLD_MS)),
      B: () => this.#enqueue(() => toy.hold('both', FACTORY_RESET_HOLD_MS)),
      s: () => this.#printStatus(),
      h: () => this.#line(HELP_KEYS),
      '?': () => this.#line(HELP_KEYS),
      q: () => this.#quit(),
      '\u0003': () => this.#quit(), // Ctrl-C in raw mode
      '\u0004': () => this.#quit(), // Ctrl-D
    };
    keys[key]?.();
  }

  #command(raw: string): void {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const action = this.#parseCommand(line);
    if (typeof action === 'string') {
      this.#io.stderr.write(`pawlink-sim: ${action}: "${line}" (try: help)\n`);
      return;
    }
    this.#enqueue(action);
  }

  /** What a command line asks for, or why it cannot be done. */
  #parseCommand(line: string): (() => Promise<void> | void) | string {
    const toy = this.#toy!;
    const [verb, ...args] = line.split(/\s+/);
    const paw = (s: string | undefined): PawName | undefined =>
      s === 'listen' || s === 'record' ? s : undefined;
    const seconds = (s: string | undefined): number | undefined => {
      const n = Number(s);
      return s !== undefined && s !== '' && Number.isFinite(n) && n >= 0 && n <= 3600 ? n : undefined;
    };
    switch (verb) {
      case 'press': {
        const p = paw(args[0]);
        if (!p || args.length !== 1) return 'press which paw? listen or record';
        return () => toy.press(p);
      }
      case 'hold': {
        const p = args[0] === 'both' ? 'both' : paw(args[0]);
        const s = seconds(args[1]);
        if (!p || s === undefined || args.length !== 2) return 'use hold listen|record|both SECONDS';
        return () => toy.hold(p, s * 1000);
      }
      case 'down':
      case 'up': {
        const p = paw(args[0]);
        if (!p || args.length !== 1) return `${verb} which paw? listen or record`;
        return () => (verb === 'down' ? toy.pawDown(p) : toy.pawUp(p));
      }
      case 'wait': {
        const s = seconds(args[0]);
        if (s === undefined || args.length !== 1) return 'use wait SECONDS';
        return () => new Promise<void>((resolve) => toy.hardwareClock.setTimer(resolve, s * 1000));
      }
      case 'status':
        return args.length === 0 ? () => this.#printStatus() : 'status takes no argument';
      case 'help':
        return () => this.#line(HELP_LINES);
      case 'quit':
      case 'exit':
        return () => this.#quit();
      default:
        return 'unknown command';
    }
  }

  /** Commands run one after another, in the order given. */
  #enqueue(fn: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(async () => {
      try {
        await fn();
      } catch (e) {
        this.#io.stderr.write(`pawlink-sim: ${oneLine(e)}\n`);
      }
    });
  }

  // ---- output -------------------------------------------------------------------------------

  #printReady(toy: SimulatedToy, family: string): void {
    const tag =
      toy.tagStatus.kind === 'ok' || toy.tagStatus.kind === 'mismatch' ? toy.tagStatus.tag : undefined;
    const tagNote = toy.tagStatus.kind === 'ok' ? undefined : toy.tagStatus.message;
    const status = toy.status();
    if (this.#json) {
      this.#out({
        event: 'ready',
        setupCode: tag?.setupCode ?? null,
        discriminator: tag?.discriminator ?? null,
        setupPayload: tag?.setupPayload ?? null,
        ...(tagNote ? { tagNote } : {}),
        stateDir: toy.stateDir,
        firstStart: toy.firstStart,
        radio: this.#flags.radio,
        bleLib: family,
        radioDescription: toy.radio.description,
        ...(toy.radio.airRole ? { airRole: toy.radio.airRole } : {}),
        speaker: toy.speaker.notice,
        ...(toy.speaker.directory ? { playbackDir: toy.speaker.directory } : {}),
        microphone: toy.microphone.notice,
        speed: this.#flags.speed,
        firmware: status.firmware,
        pairings: status.pairings,
        pairingWindowOpen: status.pairingWindowOpen,
        led: status.led,
      });
      return;
    }
    const lines = [`PawLink toy (simulated), firmware ${status.firmware}, state ${toy.stateDir}`];
    if (tag) {
      lines.push(
        `  setup code      ${formatSetupCode(tag.setupCode)}`,
        `  discriminator   ${tag.discriminator} (0x${tag.discriminator.toString(16).toUpperCase().padStart(3, '0')})`,
        `  setup payload   ${tag.setupPayload}`,
      );
    }
    if (tagNote) lines.push(`  ${tagNote}`);
    this.#io.stdout.write(`${lines.join('\n')}\n`);
    if (tag && this.#io.stdout.isTTY) this.#io.stdout.write(`${qrCode(tag.setupPayload)}\n`);
    this.#io.stdout.write(
      `${[
        `radio: ${toy.radio.description}`,
        toy.speaker.notice,
        toy.microphone.notice,
        ...(this.#flags.speed !== 1 ? [`toy time runs ${this.#flags.speed}× faster`] : []),
      ].join('\n')}\n`,
    );
    const code = tag ? formatSetupCode(tag.setupCode) : '<code from the tag>';
    if (status.pairings === 0) {
      const how = status.pairingWindowOpen
        ? 'the pairing window is open for 3 minutes'
        : `hold the listen paw 3 s (${this.#tty ? 'key L' : '"hold listen 3"'}) to open the pairing window`;
      this.#io.stdout.write(`ready: ${how}; pair with: npx pawlink pair ${code}\n`);
    } else {
      this.#io.stdout.write(`ready: paired with ${status.pairings} phone(s)\n`);
    }
    this.#io.stdout.write(`${this.#tty ? HELP_KEYS : HELP_LINES}\n`);
  }

  #onEvent(event: ToySimEvent): void {
    if (this.#json) {
      this.#out(event);
      return;
    }
    if (event.event === 'led') {
      if (!this.#tty) {
        const text = `heart: ${event.description} (${event.layer})`;
        if (text !== this.#lastLed) this.#line(text);
        this.#lastLed = text;
      }
      return;
    }
    const text = describeEvent(event);
    if (text) this.#line(text);
  }

  #printStatus(): void {
    const toy = this.#toy;
    if (!toy) return;
    const status = toy.status();
    if (this.#json) {
      this.#out({ event: 'status', status });
      return;
    }
    this.#line(describeStatus(status));
  }

  #out(object: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(object)}\n`);
  }

  /** A line of text; in a terminal above the status line, which is redrawn after it. */
  #line(text: string): void {
    this.#clearStatus();
    this.#io.stdout.write(`${text}\n`);
    this.#drawStatus();
  }

  #clearStatus(): void {
    if (this.#statusShown) this.#io.stdout.write('\r\x1b[K');
    this.#statusShown = false;
  }

  #drawStatus(): void {
    const toy = this.#toy;
    if (!this.#tty || this.#json || !toy || !this.#statusTimer) return;
    const s = toy.status();
    const lit = toy.led.litAt(toy.hardwareClock.now());
    const parts = [
      `${lit ? '♥' : '♡'} heart ${s.led.description} (${s.led.layer})`,
      s.pairingWindowOpen ? 'pairing window open' : `${s.pairings} paired`,
      `${s.storage.incoming} messages (${s.storage.unplayed} new), ${s.storage.recordings} recordings`,
      ...(s.sessions.length > 0
        ? [`session: ${s.sessions.map((p) => p.name || p.phoneId.slice(0, 8)).join(', ')}`]
        : []),
      ...(s.recording ? ['● recording'] : []),
      ...(s.playing ? [`▶ message ${s.playing.messageId}`] : []),
      ...(s.gameMode ? ['game mode'] : []),
    ];
    this.#io.stdout.write(`\r\x1b[K${parts.join(' · ')}`);
    this.#statusShown = true;
  }

  #fatal(e: unknown): void {
    const code = e instanceof PawLinkError ? e.code : 'ERROR';
    if (this.#json) this.#out({ event: 'error', code, message: oneLine(e), fatal: true });
    this.#io.stderr.write(`pawlink-sim: ${oneLine(e)}\n`);
  }
}

function describeEvent(e: ToySimEvent): string | undefined {
  switch (e.event) {
    case 'pairing-window':
      return e.state === 'open'
        ? `pairing window open (${e.by}) for ${Math.round(e.closesInMs / 1000)} s`
        : `pairing window closed (${e.reason})`;
    case 'pairing-window-refused':
      return `the pairing window stays closed (${e.reason === 'TABLE_NOT_EMPTY' ? 'a phone is paired: an admin opens it from the app' : e.reason === 'LOCKED' ? 'pairing is locked after too many failures: factory reset' : 'hold longer'})`;
    case 'paired':
      return `paired with "${e.phone.name}" (${e.phone.role})`;
    case 'pairing-failed':
      return `a pairing attempt failed (${e.code})`;
    case 'pairings-wiped':
      return 'every pairing was removed';
    case 'connected':
    case 'disconnected':
      return undefined;
    case 'session-opened':
      return `session opened with "${e.phone.name}"`;
    case 'session-closed':
      return `session closed (${e.reason})`;
    case 'message-stored':
      return `message ${e.messageId} stored (${(e.durationMs / 1000).toFixed(1)} s, ${e.bytes} bytes): the heart blinks`;
    case 'upload-discarded':
      return `an upload was discarded (status ${e.status})`;
    case 'message-deleted':
      return `message ${e.messageId} deleted`;
    case 'download-finished':
      return `message ${e.messageId} sent to the phone (status ${e.status})`;
    case 'playback-started':
      return `playing message ${e.messageId}${e.source === 'lullaby' ? ' (lullaby)' : ''}`;
    case 'playback-finished':
      return `playback of message ${e.messageId} ${e.state}${e.path ? `: ${e.path}` : ''}`;
    case 'nothing-to-play':
      return 'no message to play';
    case 'recording-started':
      return 'recording (press the record paw again to stop)';
    case 'recording-stored':
      return `recording ${e.messageId} stored (${(e.durationMs / 1000).toFixed(1)} s)${e.replaced.length > 0 ? `, replacing ${e.replaced.join(', ')}` : ''}`;
    case 'recording-discarded':
      return `recording discarded (${e.reason})`;
    case 'paw':
      return e.reported ? `paw ${e.paw} ${e.action} (${e.durationMs} ms) sent to the game` : undefined;
    case 'game-mode':
      return `game mode ${e.enabled ? 'on' : 'off'}`;
    case 'volume':
      return `volume ${e.volume}`;
    case 'identify':
      return `identify: the heart blinks for ${e.seconds} s`;
    case 'lullaby':
      return `lullaby: message ${e.messageId}, ${e.loop}`;
    case 'factory-reset-pending':
      return `factory reset requested: hold both paws 2 s within ${e.confirmWithinMs / 1000} s to confirm (${'key B'})`;
    case 'factory-reset-cancelled':
      return 'factory reset not confirmed: nothing erased';
    case 'factory-reset':
      return 'factory reset: everything erased; the setup code on the tag still works';
    case 'status':
      return describeStatus(e.status);
    case 'error':
      return `error: ${e.message}`;
    case 'led':
      return undefined;
  }
}

function describeStatus(s: ToyStatusSnapshot): string {
  return [
    `heart: ${s.led.description} (${s.led.layer}); base ${describeLed(s.baseLed)}`,
    `battery ${s.batteryPercent}%, volume ${s.volume}, firmware ${s.firmware}, clock ${s.clockSeconds} s`,
    `messages: ${s.storage.incoming} incoming (${s.storage.unplayed} new), ${s.storage.recordings} recordings, ${Math.round(s.storage.freeBytes / 1024)} KiB free of ${Math.round(s.storage.totalBytes / 1024)} KiB`,
    `pairings: ${s.pairings}${s.pairingLocked ? ' (locked)' : ''}, window ${s.pairingWindowOpen ? 'open' : 'closed'}, sessions: ${s.sessions.map((p) => p.name).join(', ') || 'none'}`,
    ...(s.gameMode ? ['game mode on'] : []),
    ...(s.recording ? ['recording'] : []),
    ...(s.playing ? [`playing message ${s.playing.messageId} (${s.playing.source})`] : []),
    ...(s.factoryResetPending ? ['factory reset awaits both paws'] : []),
  ].join('\n');
}

/** The setup payload as a small QR code (qrcode-terminal, level M as PROTOCOL.md §6 says). */
function qrCode(text: string): string {
  const qr = createRequire(import.meta.url)('qrcode-terminal') as {
    setErrorLevel(level: string): void;
    generate(text: string, options: { small: boolean }, done: (out: string) => void): void;
  };
  qr.setErrorLevel('M');
  let out = '';
  qr.generate(text, { small: true }, (s) => {
    out = s;
  });
  return out;
}

/**
 * The process entry (bin/pawlink-sim.js): signals, last-resort handlers that print one line, and
 * the exit code. The BLE host stacks may hold handles open, so it exits explicitly.
 */
export async function run(argv: string[] = process.argv.slice(2)): Promise<never> {
  const die = (e: unknown) => {
    process.stderr.write(`pawlink-sim: ${oneLine(e)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // A closed pipe (`pawlink-sim --json | head`) ends the toy quietly, not with an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : die(e)));
  }
  const code = await main(argv, {
    onSignal: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  });
  process.exit(code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void run();
