/**
 * PCM -> PawLink voice container (PROTOCOL.md §10): downmix, resample to 16 kHz, encode 20 ms Opus
 * frames at 16 kbps VBR (application VOIP) with @evan/opus, and wrap them with the encoder's pre-skip
 * and the exact sample count.
 *
 * @evan/opus is imported lazily (first call), so importing the audio layer costs nothing until a
 * message is encoded. Its native build is used where it loads, else its WASM build; the two produce
 * different bytes (audio.md), so nothing may depend on the exact packets.
 */
import { encodeContainer } from '../protocol/container/container.js';
import {
  FRAME_SAMPLES,
  MAX_INPUT_MS,
  maxVoiceSamples,
  OPUS_APPLICATION,
  OPUS_BITRATE_BPS,
  OPUS_COMPLEXITY,
  OPUS_SIGNAL,
  VOICE_SAMPLE_RATE,
} from './constants.js';
import { audioError } from './errors.js';
import { deinterleave, downmix, floatToInt16, type PcmSamples, toFloat } from './pcm.js';
import { checkSampleRate, resample } from './resample.js';

/**
 * What to do with an input longer than 120 s: `'error'` (the default) throws TOO_LONG; `'truncate'`
 * keeps the first 120 s and sets `truncated` in the result.
 */
export type OnTooLong = 'error' | 'truncate';

export interface EncodeOptions {
  /** Interleaved channels in `pcm` (default 1); more than one is downmixed to mono (their mean). */
  channels?: number;
  /** Default 'error'. */
  onTooLong?: OnTooLong;
  /** Target bitrate in bit/s (default 16000; above ~24000 a long message may not fit the container's size budget). */
  bitrate?: number;
}

/** An encoded voice message. */
export interface EncodedVoice {
  /** The container bytes: what the toy stores and a transfer moves. */
  container: Uint8Array;
  /** Samples at 16 kHz the decoder drops first (the encoder's look-ahead; 104 with libopus). */
  preSkip: number;
  /** Samples at 16 kHz the message plays. */
  sampleCount: number;
  /** sampleCount / 16. */
  durationMs: number;
  /** Opus packets in the container. */
  packetCount: number;
  /**
   * True when samples were dropped: input over 120 s with onTooLong 'truncate', or the last
   * <= 6.5 ms of an input of 119.9935..120 s that the container cannot hold after its pre-skip.
   */
  truncated: boolean;
}

type EvanOpus = typeof import('@evan/opus');
let evanOpus: Promise<EvanOpus> | undefined;

/** Loads @evan/opus once. Throws OPUS_UNAVAILABLE (with the cause) when neither build loads. */
export function loadOpusEncoderModule(): Promise<EvanOpus> {
  evanOpus ??= import('@evan/opus').catch((cause: unknown) => {
    evanOpus = undefined;
    throw audioError(
      'OPUS_UNAVAILABLE',
      `the Opus encoder (@evan/opus) could not be loaded: ${String(cause)}`,
      cause,
    );
  });
  return evanOpus;
}

/**
 * Encodes mono (or interleaved multi-channel) PCM at any accepted sample rate into a voice container.
 * Float samples are in [-1, 1]; 16-bit samples as they are.
 * Throws AudioError: EMPTY_AUDIO, TOO_LONG, BAD_SAMPLE_RATE, BAD_CHANNELS, OPUS_UNAVAILABLE.
 */
export async function encodeVoice(
  pcm: PcmSamples,
  sampleRate: number,
  options: EncodeOptions = {},
): Promise<EncodedVoice> {
  checkSampleRate(sampleRate);
  const channels = options.channels ?? 1;
  // Integers are scaled to floats before a downmix, which returns floats in [-1, 1].
  let mono: PcmSamples = channels === 1 ? pcm : downmix(deinterleave(toFloat(pcm), channels));
  if (mono.length === 0) throw audioError('EMPTY_AUDIO', 'there is no audio to encode (0 samples)');
  let truncated = false;
  const maxInput = Math.floor((MAX_INPUT_MS * sampleRate) / 1000);
  if (mono.length > maxInput) {
    if ((options.onTooLong ?? 'error') === 'error') {
      throw audioError(
        'TOO_LONG',
        `the audio lasts ${formatSeconds(mono.length / sampleRate)}; a voice message is at most ${MAX_INPUT_MS / 1000} s`,
      );
    }
    mono = mono.subarray(0, maxInput);
    truncated = true;
  }
  const at16k =
    sampleRate === VOICE_SAMPLE_RATE && mono instanceof Int16Array
      ? mono
      : floatToInt16(resample(toFloat(mono), sampleRate, VOICE_SAMPLE_RATE));
  if (at16k.length === 0) {
    throw audioError('EMPTY_AUDIO', `the audio is too short: ${mono.length} samples at ${sampleRate} Hz`);
  }
  const { packets, preSkip, sampleCount, cut } = await encodeOpusFrames(at16k, options.bitrate);
  // A ContainerError (TOO_LARGE) is only reachable with a bitrate far above 16 kbps: the budget is 24 kbps.
  const container = encodeContainer({ preSkip, sampleCount, packets });
  return {
    container,
    preSkip,
    sampleCount,
    durationMs: sampleCount / (VOICE_SAMPLE_RATE / 1000),
    packetCount: packets.length,
    truncated: truncated || cut,
  };
}

/**
 * Encodes 16 kHz mono 16-bit samples into 20 ms Opus packets. The input is padded with zeros to
 * cover the encoder's look-ahead, so the decoder (which drops `preSkip` samples) gets every input
 * sample back: packets = ceil((samples + preSkip) / 320). Input beyond what 6000 packets can hold
 * after the pre-skip is dropped (`cut`).
 */
export async function encodeOpusFrames(
  pcm16k: Int16Array,
  bitrate = OPUS_BITRATE_BPS,
): Promise<{ packets: Uint8Array[]; preSkip: number; sampleCount: number; cut: boolean }> {
  const { Encoder } = await loadOpusEncoderModule();
  let encoder: InstanceType<EvanOpus['Encoder']>;
  try {
    encoder = new Encoder({ channels: 1, sample_rate: VOICE_SAMPLE_RATE, application: OPUS_APPLICATION });
    encoder.bitrate = bitrate;
    encoder.vbr = true;
    encoder.complexity = OPUS_COMPLEXITY;
    encoder.signal = OPUS_SIGNAL;
  } catch (cause) {
    throw audioError('OPUS_UNAVAILABLE', `the Opus encoder could not be set up: ${String(cause)}`, cause);
  }
  // The .d.ts of @evan/opus 1.0.3 names this getter `lookhead`; the implementation is `lookahead`.
  const preSkip = (encoder as unknown as { lookahead: number }).lookahead;
  const max = maxVoiceSamples(preSkip);
  const cut = pcm16k.length > max;
  const sampleCount = cut ? max : pcm16k.length;
  const packetCount = Math.ceil((sampleCount + preSkip) / FRAME_SAMPLES);
  const frame = new Int16Array(FRAME_SAMPLES);
  const packets: Uint8Array[] = [];
  for (let k = 0; k < packetCount; k++) {
    const from = k * FRAME_SAMPLES;
    const to = Math.min(from + FRAME_SAMPLES, sampleCount);
    frame.fill(0);
    if (to > from) frame.set(pcm16k.subarray(from, to));
    packets.push(encoder.encode(frame).slice());
  }
  return { packets, preSkip, sampleCount, cut };
}

function formatSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}
