/**
 * PawLink voice container -> 16 kHz mono PCM, with opus-decoder (libopus in WASM).
 *
 * - The decoder runs with pre-skip 0 and this module drops the container's `preSkip` samples itself
 *   (measured identical to opus-decoder's own pre-skip), so one decoder instance serves every
 *   message: it is reset between messages (about 1 ms) instead of re-created (import about 27 ms,
 *   first `ready` about 26 ms, audio.md). `decodeVoice` shares one instance per process.
 * - Output is trimmed to exactly `sampleCount` samples (end trimming, PROTOCOL.md §10).
 * - Corrupt packets: every packet is checked against RFC 6716 §3.4 and the 20 ms rule before libopus
 *   sees it (audio/opus-packet.ts). A packet that fails, or that libopus still rejects, becomes
 *   20 ms of silence and is counted in `corruptPackets` (the default, `onCorruptPacket: 'conceal'`:
 *   the message keeps its length and timing), or throws CORRUPT_PACKET with `'error'`. opus-decoder
 *   prints every libopus error with console.error; that output is swallowed while a packet decodes,
 *   because the error is reported here, typed.
 */
import { decodeContainer, type VoiceContainer } from '../protocol/container/container.js';
import { FRAME_SAMPLES, VOICE_SAMPLE_RATE } from './constants.js';
import { audioError } from './errors.js';
import { voicePacketProblem } from './opus-packet.js';
import { floatToInt16 } from './pcm.js';

export interface DecodeOptions {
  /** 'conceal' (default): a bad packet plays as 20 ms of silence; 'error': throw CORRUPT_PACKET. */
  onCorruptPacket?: 'conceal' | 'error';
}

export interface DecodedVoice {
  /** Exactly `sampleCount` samples, 16-bit, mono. */
  pcm: Int16Array;
  sampleRate: typeof VOICE_SAMPLE_RATE;
  /** Packets replaced by silence (0 for a healthy message). */
  corruptPackets: number;
}

type OpusDecoderModule = typeof import('opus-decoder');
type WasmDecoder = InstanceType<OpusDecoderModule['OpusDecoder']>;

let decoderModule: Promise<OpusDecoderModule> | undefined;

function loadDecoderModule(): Promise<OpusDecoderModule> {
  decoderModule ??= import('opus-decoder').catch((cause: unknown) => {
    decoderModule = undefined;
    throw audioError(
      'OPUS_UNAVAILABLE',
      `the Opus decoder (opus-decoder) could not be loaded: ${String(cause)}`,
      cause,
    );
  });
  return decoderModule;
}

/**
 * One reusable Opus decoder at 16 kHz mono. Decodes whole messages, one at a time (calls queue up).
 * `free()` releases its WASM memory; it cannot be used afterwards.
 */
export class VoiceDecoder {
  readonly #wasm: WasmDecoder;
  #queue: Promise<unknown> = Promise.resolve();
  #dirty = false;
  #freed = false;

  private constructor(wasm: WasmDecoder) {
    this.#wasm = wasm;
  }

  /** Loads opus-decoder (once per process) and waits for a decoder instance to be ready. */
  static async create(): Promise<VoiceDecoder> {
    const { OpusDecoder } = await loadDecoderModule();
    try {
      const wasm = new OpusDecoder({ channels: 1, sampleRate: VOICE_SAMPLE_RATE, preSkip: 0 });
      await wasm.ready;
      return new VoiceDecoder(wasm);
    } catch (cause) {
      throw audioError('OPUS_UNAVAILABLE', `the Opus decoder could not start: ${String(cause)}`, cause);
    }
  }

  /**
   * Decodes a container (bytes, validated with `decodeContainer`, or an already decoded one).
   * Throws ContainerError for invalid container bytes; AudioError CORRUPT_PACKET only with 'error'.
   */
  decode(container: Uint8Array | VoiceContainer, options: DecodeOptions = {}): Promise<DecodedVoice> {
    const run = this.#queue.then(() => this.#decodeNow(container, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#wasm.free();
  }

  async #decodeNow(input: Uint8Array | VoiceContainer, options: DecodeOptions): Promise<DecodedVoice> {
    if (this.#freed) throw new Error('VoiceDecoder used after free()');
    const voice = input instanceof Uint8Array ? decodeContainer(input) : input;
    const strict = options.onCorruptPacket === 'error';
    if (this.#dirty) await this.#wasm.reset();
    this.#dirty = true;
    const out = new Float32Array(voice.packets.length * FRAME_SAMPLES);
    let corrupt = 0;
    voice.packets.forEach((packet, k) => {
      const problem = voicePacketProblem(packet) ?? this.#decodeInto(packet, out, k * FRAME_SAMPLES);
      if (problem === undefined) return;
      if (strict)
        throw audioError('CORRUPT_PACKET', `packet ${k + 1} of ${voice.packets.length}: ${problem}`);
      corrupt++; // `out` keeps zeros there: 20 ms of silence
    });
    const end = Math.min(out.length, voice.preSkip + voice.sampleCount);
    return {
      pcm: floatToInt16(out.subarray(voice.preSkip, end)),
      sampleRate: VOICE_SAMPLE_RATE,
      corruptPackets: corrupt,
    };
  }

  /** Decodes one well-formed 20 ms packet into `out` at `offset`; returns a reason on failure. */
  #decodeInto(packet: Uint8Array, out: Float32Array, offset: number): string | undefined {
    const result = withoutConsoleError(() => this.#wasm.decodeFrame(packet));
    const samples = result.channelData[0];
    if (result.errors.length > 0 || result.samplesDecoded !== FRAME_SAMPLES || !samples) {
      return (
        result.errors[0]?.message ?? `decoded ${result.samplesDecoded} samples instead of ${FRAME_SAMPLES}`
      );
    }
    out.set(samples.subarray(0, FRAME_SAMPLES), offset);
    return undefined;
  }
}

let shared: Promise<VoiceDecoder> | undefined;

/**
 * Decodes a voice container to 16 kHz mono 16-bit PCM with a decoder shared by the whole process.
 * Throws ContainerError for invalid container bytes; AudioError OPUS_UNAVAILABLE, CORRUPT_PACKET.
 */
export async function decodeVoice(
  container: Uint8Array | VoiceContainer,
  options: DecodeOptions = {},
): Promise<DecodedVoice> {
  shared ??= VoiceDecoder.create().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return (await shared).decode(container, options);
}

/** Runs `fn` with console.error silenced (opus-decoder prints libopus errors that we report typed). */
function withoutConsoleError<T>(fn: () => T): T {
  const original = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = original;
  }
}
