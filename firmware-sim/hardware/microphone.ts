/**
 * The toy's microphone: records 16 kHz mono 16-bit PCM from a start until `stop()`, the end of its
 * source, or a limit (120 s: one voice message). The source is chosen once:
 *
 * | spec | source | notice |
 * | --- | --- | --- |
 * | `'auto'` | `sox` or `arecord` through node-record-lpcm16, if the package is installed, one of the programs is on PATH and a sound card is known to exist; else none | `microphone: sox` / `microphone: none (…)` |
 * | `'sox'`, `'arecord'` | that program, without the checks (its failures are typed errors) | `microphone: sox` |
 * | `'file:WAV'` | the file (WAV or Ogg Opus, any rate, downmixed and resampled), replayed from its start by every recording | `microphone: WAV file PATH` |
 * | `'none'` | silence | `microphone: none` |
 *
 * Timing: a recorder program delivers audio at the hardware's pace. A file or silence follows the
 * injected clock: with `pace: 'real'` a recording holds as much audio as time passed on that clock
 * (a virtual clock in tests, an accelerated one in a fast simulation); with `pace: 'instant'` a file
 * is delivered whole at once. A file shorter than the recording ends it ('end-of-input').
 *
 * node-record-lpcm16 traps handled here (audio.md): it is loaded lazily (optional dependency); a
 * missing program makes its child process emit 'error', which would crash the process if unheard, so
 * a listener is attached straight after `record()`; its stream's 'error' carries a string, and it also
 * fires when we stop the program ourselves (exit code null), which is not a failure; no sound card
 * makes the program exit with code 1. `audioType: 'raw'` avoids a WAV header with a fake length.
 *
 * `done` never rejects: a failure is in `RecordingResult.error`, with whatever was recorded before it.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { MAX_RECORDING_MS, MIC_CHUNK_MS, VOICE_SAMPLE_RATE } from '../../audio/constants.js';
import { type AudioError, audioError } from '../../audio/errors.js';
import { decodeOggOpusTo16k, readAudioFile } from '../../audio/input.js';
import { downmix, floatToInt16, s16leToInt16 } from '../../audio/pcm.js';
import { resample } from '../../audio/resample.js';
import type { Scheduler, Timer } from '../../radio/clock.js';
import { detectSoundCard } from './speaker.js';

export type RecorderProgram = 'sox' | 'arecord';
export type MicrophoneSpec = 'auto' | 'none' | RecorderProgram | `file:${string}`;
export type MicrophoneKind = 'recorder' | 'file' | 'none';

export interface MicrophoneOptions {
  /** Clock for the pace of file and silence sources. */
  clock: Scheduler;
  /** 'real' (default) or 'instant' (a file source delivers its audio at once). */
  pace?: 'real' | 'instant';
  /** ALSA / sox device name for the recorder program (default: the system default). */
  device?: string;
  /** Test seam: whether a sound card exists (default `detectSoundCard()`). */
  soundCardProbe?: () => boolean;
  /** Test seam: whether a program is on PATH (default: a search of PATH). */
  findProgram?: (name: RecorderProgram) => Promise<boolean>;
}

export interface RecordOptions {
  /** Longest recording in ms (default and maximum 120 000). */
  maxMs?: number;
  /** Called with each piece of audio as it arrives (16 kHz mono). */
  onChunk?: (pcm: Int16Array) => void;
}

export type RecordingEnd = 'stop' | 'limit' | 'end-of-input' | 'error';

export interface RecordingResult {
  /** Everything recorded, 16 kHz mono. */
  pcm: Int16Array;
  sampleRate: typeof VOICE_SAMPLE_RATE;
  durationMs: number;
  endedBy: RecordingEnd;
  /** RECORDER_NOT_FOUND, RECORDER_FAILED, RECORDER_NOT_INSTALLED when `endedBy` is 'error'. */
  error?: AudioError;
}

export interface MicRecording {
  /** Resolves when the recording ends, however it ends; never rejects. */
  readonly done: Promise<RecordingResult>;
  /** Ends the recording (keeping what was recorded). No effect once it has ended. */
  stop(): void;
}

export interface ToyMicrophone {
  readonly kind: MicrophoneKind;
  /** One line saying where recordings come from, for the simulator to print. */
  readonly notice: string;
  readonly recording: boolean;
  /** Starts recording. Throws ALREADY_RECORDING while another recording runs. */
  start(options?: RecordOptions): MicRecording;
}

/** Reads a `--mic` / `--mic-file` value. Throws BAD_MIC_SPEC. */
export function parseMicrophoneSpec(value: string): MicrophoneSpec {
  if (value === 'auto' || value === 'none' || value === 'sox' || value === 'arecord') return value;
  if (value.startsWith('file:') && value.length > 'file:'.length) return value as `file:${string}`;
  throw audioError(
    'BAD_MIC_SPEC',
    `microphone ${JSON.stringify(value)}: use auto, none, sox, arecord or file:FILE.wav`,
  );
}

/** Whether `name` is an executable file in one of PATH's directories. */
export async function programOnPath(name: string, path = process.env.PATH ?? ''): Promise<boolean> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * Creates the microphone for a spec. A file source is read and converted now, so a bad file is
 * reported at start-up (FILE_UNREADABLE, NOT_AUDIO, …); 'auto', 'none', 'sox' and 'arecord' never throw.
 */
export async function createMicrophone(
  spec: MicrophoneSpec,
  options: MicrophoneOptions,
): Promise<ToyMicrophone> {
  const parsed = parseMicrophoneSpec(spec);
  if (parsed.startsWith('file:')) {
    const path = resolve(parsed.slice('file:'.length));
    const pcm = await loadFileSource(path);
    return new Microphone('file', `microphone: WAV file ${path}`, options, { kind: 'file', pcm });
  }
  if (parsed === 'none') return new Microphone('none', 'microphone: none', options, { kind: 'none' });
  if (parsed === 'sox' || parsed === 'arecord') {
    return new Microphone('recorder', `microphone: ${parsed}`, options, {
      kind: 'recorder',
      program: parsed,
    });
  }
  const fallback = (why: string) =>
    new Microphone('none', `microphone: none (${why}; use --mic-file FILE.wav)`, options, { kind: 'none' });
  if (!(options.soundCardProbe ?? detectSoundCard)()) return fallback('no sound card found');
  const find = options.findProgram ?? ((name: RecorderProgram) => programOnPath(name));
  const program = (await find('sox')) ? 'sox' : (await find('arecord')) ? 'arecord' : undefined;
  if (!program) return fallback('neither sox nor arecord is installed');
  if (
    !(await loadRecorderLib().then(
      () => true,
      () => false,
    ))
  ) {
    return fallback("the optional 'node-record-lpcm16' package is not installed");
  }
  return new Microphone('recorder', `microphone: ${program}`, options, { kind: 'recorder', program });
}

/** A file source: any file `readAudioFile` reads, as 16 kHz mono, at most 120 s. */
async function loadFileSource(path: string): Promise<Int16Array> {
  const file = await readAudioFile(path);
  if (file.format === 'ogg-opus') return floatToInt16(await decodeOggOpusTo16k(file.ogg));
  const mono = downmix(file.wav.channels);
  return floatToInt16(resample(mono, file.wav.sampleRate, VOICE_SAMPLE_RATE));
}

interface RecordLib {
  record(options: Record<string, unknown>): {
    process: import('node:child_process').ChildProcess;
    stream(): NodeJS.ReadableStream;
    stop(): void;
  };
}

let recorderLib: Promise<RecordLib> | undefined;

function loadRecorderLib(): Promise<RecordLib> {
  const name = 'node-record-lpcm16'; // a variable: the package is optional and has no types
  recorderLib ??= import(name).then(
    (m: { default?: RecordLib } & RecordLib) => m.default ?? m,
    (cause: unknown) => {
      recorderLib = undefined;
      throw audioError(
        'RECORDER_NOT_INSTALLED',
        "the optional 'node-record-lpcm16' package is not installed; use --mic-file FILE.wav",
        cause,
      );
    },
  );
  return recorderLib;
}

type Source =
  | { kind: 'file'; pcm: Int16Array }
  | { kind: 'none' }
  | { kind: 'recorder'; program: RecorderProgram };

/** Collects chunks up to a sample limit. */
class Take {
  readonly #chunks: Int16Array[] = [];
  #length = 0;
  readonly limit: number;
  readonly #onChunk: ((pcm: Int16Array) => void) | undefined;

  constructor(limit: number, onChunk: ((pcm: Int16Array) => void) | undefined) {
    this.limit = limit;
    this.#onChunk = onChunk;
  }

  get length(): number {
    return this.#length;
  }

  get full(): boolean {
    return this.#length >= this.limit;
  }

  /** Appends what fits under the limit. */
  add(pcm: Int16Array): void {
    const part = pcm.subarray(0, Math.max(0, this.limit - this.#length));
    if (part.length === 0) return;
    this.#chunks.push(part);
    this.#length += part.length;
    this.#onChunk?.(part);
  }

  result(endedBy: RecordingEnd, error?: AudioError): RecordingResult {
    const pcm = new Int16Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      pcm.set(c, at);
      at += c.length;
    }
    const r: RecordingResult = {
      pcm,
      sampleRate: VOICE_SAMPLE_RATE,
      durationMs: (pcm.length * 1000) / VOICE_SAMPLE_RATE,
      endedBy,
    };
    if (error) r.error = error;
    return r;
  }
}

class Microphone implements ToyMicrophone {
  readonly kind: MicrophoneKind;
  readonly notice: string;
  readonly #options: MicrophoneOptions;
  readonly #source: Source;
  #busy = false;

  constructor(kind: MicrophoneKind, notice: string, options: MicrophoneOptions, source: Source) {
    this.kind = kind;
    this.notice = notice;
    this.#options = options;
    this.#source = source;
  }

  get recording(): boolean {
    return this.#busy;
  }

  start(options: RecordOptions = {}): MicRecording {
    if (this.#busy) throw audioError('ALREADY_RECORDING', 'the microphone is already recording');
    const maxMs = Math.min(MAX_RECORDING_MS, Math.max(0, options.maxMs ?? MAX_RECORDING_MS));
    const take = new Take(Math.floor((maxMs * VOICE_SAMPLE_RATE) / 1000), options.onChunk);
    this.#busy = true;
    let stopFn: () => void = () => {};
    const done = new Promise<RecordingResult>((resolveDone) => {
      const finish = (endedBy: RecordingEnd, error?: AudioError) => {
        this.#busy = false;
        resolveDone(take.result(endedBy, error));
      };
      const source = this.#source;
      if (source.kind === 'recorder') stopFn = this.#recordProgram(source.program, take, finish);
      else stopFn = this.#recordPaced(source.kind === 'file' ? source.pcm : undefined, take, finish);
    });
    return { done, stop: () => stopFn() };
  }

  /**
   * A file (or silence, when `pcm` is undefined) paced by the clock: every MIC_CHUNK_MS the audio
   * "heard" since the start is delivered; stop() delivers up to the current instant.
   */
  #recordPaced(pcm: Int16Array | undefined, take: Take, finish: (endedBy: RecordingEnd) => void): () => void {
    const clock = this.#options.clock;
    const start = clock.now();
    const available = pcm ? Math.min(pcm.length, take.limit) : take.limit;
    const endReason: RecordingEnd = pcm && pcm.length < take.limit ? 'end-of-input' : 'limit';
    let ended = false;
    let timer: Timer | undefined;
    const deliverUntil = (samples: number) => {
      const target = Math.min(available, samples);
      if (target > take.length) {
        take.add(pcm ? pcm.subarray(take.length, target) : new Int16Array(target - take.length));
      }
    };
    const end = (reason: RecordingEnd) => {
      if (ended) return;
      ended = true;
      timer?.cancel();
      finish(reason);
    };
    const elapsedSamples = () => Math.floor((Math.max(0, clock.now() - start) * VOICE_SAMPLE_RATE) / 1000);
    if (pcm && this.#options.pace === 'instant') {
      queueMicrotask(() => {
        if (ended) return;
        deliverUntil(available);
        end(endReason);
      });
    } else {
      const tick = () => {
        deliverUntil(elapsedSamples());
        if (take.length >= available) end(endReason);
        else timer = clock.setTimer(tick, MIC_CHUNK_MS);
      };
      timer = clock.setTimer(tick, MIC_CHUNK_MS);
    }
    return () => {
      if (ended) return;
      if (!(pcm && this.#options.pace === 'instant')) deliverUntil(elapsedSamples());
      end(take.length >= available ? endReason : 'stop');
    };
  }

  /** sox / arecord through node-record-lpcm16. */
  #recordProgram(
    program: RecorderProgram,
    take: Take,
    finish: (endedBy: RecordingEnd, error?: AudioError) => void,
  ): () => void {
    let ended = false;
    let stopping: RecordingEnd | undefined;
    let recording: ReturnType<RecordLib['record']> | undefined;
    let odd: number | undefined; // a byte left over when a chunk splits a sample
    let stderr = '';
    const end = (reason: RecordingEnd, error?: AudioError) => {
      if (ended) return;
      ended = true;
      finish(reason, error);
    };
    const halt = (reason: RecordingEnd) => {
      if (ended || stopping) return;
      stopping = reason;
      if (!recording) return end(reason);
      try {
        recording.stop();
      } catch {
        end(reason);
      }
    };
    const toSamples = (chunk: Buffer): Int16Array => {
      let bytes: Uint8Array = chunk;
      if (odd !== undefined) {
        bytes = new Uint8Array(chunk.length + 1);
        bytes[0] = odd;
        bytes.set(chunk, 1);
        odd = undefined;
      }
      if (bytes.length % 2 === 1) {
        odd = bytes[bytes.length - 1];
        bytes = bytes.subarray(0, bytes.length - 1);
      }
      return s16leToInt16(bytes);
    };
    loadRecorderLib().then(
      (lib) => {
        if (ended || stopping) return end(stopping ?? 'stop');
        const recordOptions: Record<string, unknown> = {
          sampleRate: VOICE_SAMPLE_RATE,
          channels: 1,
          recorder: program,
          audioType: 'raw',
        };
        if (this.#options.device) recordOptions.device = this.#options.device;
        try {
          recording = lib.record(recordOptions);
        } catch (cause) {
          return end(
            'error',
            audioError('RECORDER_FAILED', `could not start ${program}: ${String(cause)}`, cause),
          );
        }
        const child = recording.process;
        // Straight after record(): a missing program emits 'error' on the child, fatal if unheard.
        child.on('error', (cause: NodeJS.ErrnoException) => {
          if (cause.code === 'ENOENT') {
            end(
              'error',
              audioError(
                'RECORDER_NOT_FOUND',
                `${program} is not installed (install ${program === 'sox' ? 'sox with libsox-fmt-alsa' : 'alsa-utils'}, or use --mic-file FILE.wav)`,
                cause,
              ),
            );
          } else {
            end('error', audioError('RECORDER_FAILED', `${program} could not run: ${cause.message}`, cause));
          }
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString('utf8')).slice(-2000);
        });
        const stream = recording.stream();
        // The library reports a non-zero exit as a *string* 'error' on the stream; 'close' below
        // carries the same fact with the exit code, so this listener only keeps it from throwing.
        stream.on('error', () => {});
        stream.on('data', (chunk: Buffer) => {
          if (ended) return;
          take.add(toSamples(chunk));
          if (take.full) halt('limit');
        });
        child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
          if (stopping) return end(stopping);
          if (code === 0) return end('end-of-input');
          const last = stderr.trim().split('\n').pop();
          const why = last || (signal ? `killed by ${signal}` : `exit code ${code}`);
          end(
            'error',
            audioError(
              'RECORDER_FAILED',
              `${program} stopped with ${signal ?? `exit code ${code}`} (${why}): no sound card or microphone? Use --mic-file FILE.wav`,
            ),
          );
        });
      },
      (error: AudioError) => end('error', error),
    );
    return () => halt('stop');
  }
}
