/**
 * The toy's speaker: plays 16 kHz mono 16-bit PCM, at a volume of 0..255 (applied as a linear gain,
 * 255 = unchanged), one playback at a time, stoppable. Where the sound goes is chosen once:
 *
 * | spec | output | notice |
 * | --- | --- | --- |
 * | `'auto'` | a real speaker if a sound card is known to exist and the optional `speaker` package is installed, else nowhere | `playback: speaker` / `playback: none (no sound card found; …)` |
 * | `'speaker'` | a real speaker, without the sound-card check (SPEAKER_NOT_INSTALLED if the package is missing) | `playback: speaker` |
 * | `'file:DIR'` | one WAV per playback in DIR (`playback-0001.wav`, …, never overwriting) | `playback: WAV files in DIR` |
 * | `'none'` | nowhere | `playback: none` |
 *
 * The real speaker never runs in this process: `require('speaker')` aborts the whole process on a
 * machine without a sound card (an uncatchable ALSA assertion, audio.md), so each playback runs in a
 * child `node` that loads the package and is fed the PCM on stdin. A child that cannot load it, fails
 * or dies costs that playback (`error` in its result), never the toy. 'auto' does not even start a
 * child unless /proc/asound/cards lists a card (Linux) or the platform is macOS or Windows.
 *
 * Timing: the real speaker plays at its own (real) pace. The file and none outputs follow the
 * injected clock: with `pace: 'real'` a playback lasts its duration on that clock (a virtual clock in
 * tests, an accelerated one in a fast simulation), with `pace: 'instant'` it ends at once. A file
 * holds exactly what was played: the whole message, or the part before `stop()` (no file when nothing was).
 *
 * `done` never rejects: a failure is in `PlaybackResult.error`, so a forgotten promise cannot crash
 * the process with an unhandled rejection.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { MAX_VOLUME, VOICE_SAMPLE_RATE } from '../../audio/constants.js';
import { type AudioError, audioError } from '../../audio/errors.js';
import { applyGain, int16ToS16le } from '../../audio/pcm.js';
import { encodeWav } from '../../audio/wav.js';
import type { Scheduler, Timer } from '../../radio/clock.js';

export type SpeakerSpec = 'auto' | 'none' | 'speaker' | `file:${string}`;
export type SpeakerKind = 'speaker' | 'file' | 'none';

export interface SpeakerOptions {
  /** Clock for the pace of file and none playback. */
  clock: Scheduler;
  /** 'real' (default): a playback lasts its duration on `clock`; 'instant': it ends at once. */
  pace?: 'real' | 'instant';
  /** Initial volume 0..255 (default 255: samples unchanged). */
  volume?: number;
  /** Test seam: whether a sound card exists (default `detectSoundCard()`). */
  soundCardProbe?: () => boolean;
  /**
   * Test seam: the module the player child requires instead of the installed `speaker` package
   * (an absolute path), or null to act as if the package were not installed. Default: `speaker`,
   * resolved from this package without loading it.
   */
  playerModule?: string | null;
}

export interface PlayOptions {
  /** Added to the WAV file name (letters, digits, '-' and '_' kept), e.g. a message id. */
  label?: string;
}

export interface PlaybackResult {
  /** True when the whole message was played; false when stopped or failed. */
  completed: boolean;
  /** Samples played (all of them when completed; for a stopped playback, those before the stop). */
  playedSamples: number;
  /** The WAV written (file output only). */
  path?: string;
  /** Why the playback failed (SPEAKER_FAILED, WRITE_FAILED); the speaker stays usable. */
  error?: AudioError;
}

export interface Playback {
  /** Resolves when the playback ends, however it ends; never rejects. */
  readonly done: Promise<PlaybackResult>;
  /** Stops this playback (no effect once it has ended). */
  stop(): void;
}

export interface ToySpeaker {
  readonly kind: SpeakerKind;
  /** One line saying where playback goes, for the simulator to print. */
  readonly notice: string;
  /** The WAV directory (file output only). */
  readonly directory: string | undefined;
  /** 0..255; setting anything else throws BAD_VOLUME. Applies to playbacks started afterwards. */
  volume: number;
  readonly playing: boolean;
  /** Plays 16 kHz mono samples; a playback still running is stopped first. */
  play(pcm: Int16Array, options?: PlayOptions): Playback;
  /** Stops the current playback, if any. */
  stop(): void;
}

/** Reads a `--speaker` value. Throws BAD_SPEAKER_SPEC. */
export function parseSpeakerSpec(value: string): SpeakerSpec {
  if (value === 'auto' || value === 'none' || value === 'speaker') return value;
  if (value.startsWith('file:') && value.length > 'file:'.length) return value as `file:${string}`;
  throw audioError(
    'BAD_SPEAKER_SPEC',
    `--speaker ${JSON.stringify(value)}: use auto, none, speaker or file:DIR (a directory for WAV files)`,
  );
}

/**
 * Whether a sound card is known to exist: on Linux, /proc/asound/cards lists at least one card;
 * macOS and Windows always have an audio device API. Anything else: no.
 */
export function detectSoundCard(
  platform: NodeJS.Platform = process.platform,
  readCards: () => string = () => readFileSync('/proc/asound/cards', 'utf8'),
): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  if (platform !== 'linux') return false;
  try {
    // A card line starts with its index: " 0 [PCH            ]: HDA-Intel - HDA Intel PCH".
    return /^\s*\d+\s*\[/m.test(readCards());
  } catch {
    return false; // no /proc/asound: no ALSA driver, no card
  }
}

/** Where the `speaker` package is, without loading it (loading it may abort the process). */
function resolveSpeakerPackage(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('speaker');
  } catch {
    return undefined;
  }
}

/**
 * Creates the speaker for a spec. 'file:DIR' creates DIR (WRITE_FAILED if it cannot); 'speaker'
 * throws SPEAKER_NOT_INSTALLED when the package is missing; 'auto' and 'none' never throw.
 */
export async function createSpeaker(spec: SpeakerSpec, options: SpeakerOptions): Promise<ToySpeaker> {
  const parsed = parseSpeakerSpec(spec);
  const volume = checkVolume(options.volume ?? MAX_VOLUME);
  if (parsed.startsWith('file:')) {
    const dir = resolve(parsed.slice('file:'.length));
    try {
      await mkdir(dir, { recursive: true });
    } catch (cause) {
      throw audioError(
        'WRITE_FAILED',
        `cannot create the playback directory ${dir}: ${(cause as Error).message}`,
        cause,
      );
    }
    return new Speaker('file', `playback: WAV files in ${dir}`, options, volume, dir, undefined);
  }
  if (parsed === 'none') return new Speaker('none', 'playback: none', options, volume, undefined, undefined);
  const modulePath =
    options.playerModule === null ? undefined : (options.playerModule ?? resolveSpeakerPackage());
  if (parsed === 'speaker') {
    if (!modulePath) {
      throw audioError(
        'SPEAKER_NOT_INSTALLED',
        "the optional 'speaker' package is not installed (it needs libasound2-dev to build on Linux); use --speaker file:DIR",
      );
    }
    return new Speaker('speaker', 'playback: speaker', options, volume, undefined, modulePath);
  }
  // auto: the sound-card check comes first, so no child is ever started on a machine without one.
  const hasCard = (options.soundCardProbe ?? detectSoundCard)();
  if (!hasCard) {
    return new Speaker(
      'none',
      'playback: none (no sound card found; use --speaker file:DIR to keep it)',
      options,
      volume,
      undefined,
      undefined,
    );
  }
  if (!modulePath) {
    return new Speaker(
      'none',
      "playback: none (the optional 'speaker' package is not installed; use --speaker file:DIR to keep it)",
      options,
      volume,
      undefined,
      undefined,
    );
  }
  return new Speaker('speaker', 'playback: speaker', options, volume, undefined, modulePath);
}

function checkVolume(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_VOLUME) {
    throw audioError('BAD_VOLUME', `volume ${v} must be an integer in 0..${MAX_VOLUME}`);
  }
  return v;
}

/** The child's program: load the speaker module named in argv[1], play stdin, exit. */
const PLAYER_SCRIPT = `
let Speaker;
try { const m = require(process.argv[1]); Speaker = m.default || m; }
catch (e) { process.stderr.write('cannot load the speaker module: ' + (e && e.message || e) + '\\n'); process.exit(3); }
let out;
try { out = new Speaker({ channels: 1, bitDepth: 16, sampleRate: ${VOICE_SAMPLE_RATE}, signed: true }); }
catch (e) { process.stderr.write('cannot open the sound output: ' + (e && e.message || e) + '\\n'); process.exit(4); }
out.on('error', (e) => { process.stderr.write('sound output error: ' + (e && e.message || e) + '\\n'); process.exit(4); });
out.once('close', () => process.exit(0));
process.stdin.pipe(out);
`;

interface Active {
  stop(): void;
}

class Speaker implements ToySpeaker {
  readonly kind: SpeakerKind;
  readonly notice: string;
  readonly directory: string | undefined;
  readonly #clock: Scheduler;
  readonly #pace: 'real' | 'instant';
  readonly #modulePath: string | undefined;
  #volume: number;
  #active: Active | undefined;
  #nextIndex: number | undefined;

  constructor(
    kind: SpeakerKind,
    notice: string,
    options: SpeakerOptions,
    volume: number,
    directory: string | undefined,
    modulePath: string | undefined,
  ) {
    this.kind = kind;
    this.notice = notice;
    this.directory = directory;
    this.#clock = options.clock;
    this.#pace = options.pace ?? 'real';
    this.#volume = volume;
    this.#modulePath = modulePath;
  }

  get volume(): number {
    return this.#volume;
  }

  set volume(v: number) {
    this.#volume = checkVolume(v);
  }

  get playing(): boolean {
    return this.#active !== undefined;
  }

  stop(): void {
    this.#active?.stop();
  }

  play(pcm: Int16Array, options: PlayOptions = {}): Playback {
    this.stop();
    const samples = applyGain(pcm, this.#volume / MAX_VOLUME);
    let stopFn: () => void = () => {};
    const active: Active = { stop: () => stopFn() };
    this.#active = active;
    const done = new Promise<PlaybackResult>((resolveDone) => {
      const finish = (result: PlaybackResult) => {
        if (this.#active === active) this.#active = undefined;
        resolveDone(result);
      };
      if (this.kind === 'speaker') stopFn = this.#playOnSpeaker(samples, finish);
      else stopFn = this.#playOnClock(samples, options, finish);
    });
    return { done, stop: () => active.stop() };
  }

  /** File and none outputs: the playback lasts its duration on the clock (or ends at once). */
  #playOnClock(samples: Int16Array, options: PlayOptions, finish: (r: PlaybackResult) => void): () => void {
    const start = this.#clock.now();
    let ended = false;
    let timer: Timer | undefined;
    const end = (played: number, completed: boolean) => {
      if (ended) return;
      ended = true;
      timer?.cancel();
      if (this.kind !== 'file' || played === 0) {
        finish({ completed, playedSamples: played }); // nothing played: no empty WAV
        return;
      }
      this.#writeFile(samples.subarray(0, played), options.label).then(
        (path) => finish({ completed, playedSamples: played, path }),
        (error: AudioError) => finish({ completed: false, playedSamples: played, error }),
      );
    };
    const durationMs = (samples.length * 1000) / VOICE_SAMPLE_RATE;
    if (this.#pace === 'instant') queueMicrotask(() => end(samples.length, true));
    else timer = this.#clock.setTimer(() => end(samples.length, true), durationMs);
    return () => {
      const elapsed = Math.max(0, this.#clock.now() - start);
      end(Math.min(samples.length, Math.floor((elapsed * VOICE_SAMPLE_RATE) / 1000)), false);
    };
  }

  /** Real speaker: a child node process plays the PCM through the `speaker` package. */
  #playOnSpeaker(samples: Int16Array, finish: (r: PlaybackResult) => void): () => void {
    const start = this.#clock.now();
    let stopped = false;
    let ended = false;
    let stderr = '';
    const playedUntilNow = () =>
      Math.min(
        samples.length,
        Math.floor((Math.max(0, this.#clock.now() - start) * VOICE_SAMPLE_RATE) / 1000),
      );
    const end = (result: PlaybackResult) => {
      if (ended) return;
      ended = true;
      finish(result);
    };
    const child = spawn(process.execPath, ['-e', PLAYER_SCRIPT, this.#modulePath!], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.on('error', (cause) =>
      end({
        completed: false,
        playedSamples: 0,
        error: audioError(
          'SPEAKER_FAILED',
          `could not start the sound output process: ${cause.message}`,
          cause,
        ),
      }),
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.stdin?.on('error', () => {}); // EPIPE when the child dies early: reported through 'close'
    child.on('close', (code, signal) => {
      if (stopped) return end({ completed: false, playedSamples: playedUntilNow() });
      if (code === 0) return end({ completed: true, playedSamples: samples.length });
      const why = stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit code ${code}`);
      end({
        completed: false,
        playedSamples: 0,
        error: audioError('SPEAKER_FAILED', `sound output failed (${why}); use --speaker file:DIR or none`),
      });
    });
    child.stdin?.end(int16ToS16le(samples));
    return () => {
      if (ended || stopped) return;
      stopped = true;
      child.kill('SIGTERM');
    };
  }

  /** Writes `playback-NNNN[-label].wav` in the directory, never overwriting an existing file. */
  async #writeFile(samples: Int16Array, label: string | undefined): Promise<string> {
    const dir = this.directory!;
    const suffix = label ? `-${label.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64)}` : '';
    const temp = join(dir, `.playback-${randomUUID()}.tmp`);
    try {
      this.#nextIndex ??= await nextFreeIndex(dir);
      await writeFile(temp, encodeWav(samples, VOICE_SAMPLE_RATE), { flag: 'wx' });
      for (;;) {
        const path = join(dir, `playback-${String(this.#nextIndex++).padStart(4, '0')}${suffix}.wav`);
        try {
          await link(temp, path); // atomic, and fails instead of replacing an existing file
          return path;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
    } catch (cause) {
      throw audioError(
        'WRITE_FAILED',
        `cannot write a playback WAV in ${dir}: ${(cause as Error).message}`,
        cause,
      );
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }
}

/** 1 + the highest NNNN among `playback-NNNN*.wav` already in `dir` (so a restart never overwrites). */
async function nextFreeIndex(dir: string): Promise<number> {
  const names = await readdir(dir);
  let max = 0;
  for (const n of names) {
    const m = /^playback-(\d+)/.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}
