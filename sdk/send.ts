/**
 * What `ToySession.send` accepts, turned into the voice container a transfer moves (PROTOCOL.md
 * §10), before anything goes on the air:
 *
 * | input | how |
 * | --- | --- |
 * | a file path (string, or `{ path }`) | WAV of any common rate, depth and channel count: downmixed, resampled to 16 kHz, Opus-encoded; Ogg Opus mono 20 ms: sent as it is (no re-encoding); other Ogg Opus: re-encoded (audio/voiceFromFile) |
 * | `{ pcm, sampleRate, channels? }` | 16-bit or float samples (interleaved if several channels), any accepted rate: encoded |
 * | `{ opusPackets, preSkip?, sampleCount? }` | 20 ms Opus packets: checked and wrapped, not re-encoded |
 * | a `Uint8Array`, or `{ container }` | a ready voice container: checked, sent as it is |
 *
 * Errors are SdkErrors with the audio layer's codes (FILE_UNREADABLE, NOT_AUDIO, TOO_LONG,
 * EMPTY_AUDIO, BAD_OPUS_PACKET...) or BAD_INPUT (a container that does not decode, an input of
 * the wrong shape).
 */

import { encodeVoice } from '../audio/encode.js';
import { voiceFromFile, voiceFromOpusPackets } from '../audio/input.js';
import { decodeContainer } from '../protocol/container/index.js';
import { PawLinkError } from '../protocol/errors.js';
import { SdkError } from './errors.js';
import { asSdkError } from './internal.js';

/** Voice for `ToySession.send` (see the module comment). */
export type VoiceInput =
  | string
  | { path: string }
  | { pcm: Int16Array | Float32Array; sampleRate: number; channels?: number }
  | { opusPackets: readonly Uint8Array[]; preSkip?: number; sampleCount?: number }
  | Uint8Array
  | { container: Uint8Array };

/** A voice message ready to send. */
export interface PreparedVoice {
  /** The voice container: what the toy stores. */
  container: Uint8Array;
  /** How long it plays, ms. */
  durationMs: number;
  source: 'wav' | 'ogg-opus' | 'pcm' | 'opus-packets' | 'container';
  /** False when Opus packets were sent as given (Ogg Opus mono, packets, a container). */
  reencoded: boolean;
  /** True when the input was longer than 120 s and `onTooLong: 'truncate'` cut it. */
  truncated: boolean;
}

export interface PrepareOptions {
  /** Input over 120 s: 'error' (default, TOO_LONG) or 'truncate' (keep the first 120 s). */
  onTooLong?: 'error' | 'truncate';
}

/** Turns any accepted input into a voice container. @throws SdkError (nothing is sent). */
export async function prepareVoice(input: VoiceInput, options: PrepareOptions = {}): Promise<PreparedVoice> {
  const onTooLong = options.onTooLong ?? 'error';
  if (onTooLong !== 'error' && onTooLong !== 'truncate') {
    throw new SdkError('BAD_INPUT', `onTooLong must be 'error' or 'truncate'`);
  }
  try {
    if (typeof input === 'string' || (isObject(input) && 'path' in input)) {
      const path = typeof input === 'string' ? input : input.path;
      if (typeof path !== 'string' || path.length === 0)
        throw new SdkError('BAD_INPUT', 'the file path is empty');
      const v = await voiceFromFile(path, { onTooLong });
      return {
        container: v.container,
        durationMs: v.durationMs,
        source: v.source,
        reencoded: v.reencoded,
        truncated: v.truncated,
      };
    }
    if (input instanceof Uint8Array || (isObject(input) && 'container' in input)) {
      const container = input instanceof Uint8Array ? input : input.container;
      if (!(container instanceof Uint8Array))
        throw new SdkError('BAD_INPUT', 'container must be a Uint8Array');
      let decoded: ReturnType<typeof decodeContainer>;
      try {
        decoded = decodeContainer(container);
      } catch (e) {
        const why = e instanceof PawLinkError ? e.message : String(e);
        throw new SdkError('BAD_INPUT', `not a PawLink voice container: ${why}`, { cause: e });
      }
      return {
        container: container.slice(),
        durationMs: decoded.sampleCount / 16,
        source: 'container',
        reencoded: false,
        truncated: false,
      };
    }
    if (isObject(input) && 'pcm' in input) {
      const { pcm, sampleRate } = input;
      if (!(pcm instanceof Int16Array || pcm instanceof Float32Array)) {
        throw new SdkError('BAD_INPUT', 'pcm must be an Int16Array or a Float32Array');
      }
      if (typeof sampleRate !== 'number') throw new SdkError('BAD_INPUT', 'sampleRate must be a number (Hz)');
      const v = await encodeVoice(pcm, sampleRate, { channels: input.channels ?? 1, onTooLong });
      return {
        container: v.container,
        durationMs: v.durationMs,
        source: 'pcm',
        reencoded: true,
        truncated: v.truncated,
      };
    }
    if (isObject(input) && 'opusPackets' in input) {
      const { opusPackets } = input;
      if (!Array.isArray(opusPackets) || !opusPackets.every((p) => p instanceof Uint8Array)) {
        throw new SdkError('BAD_INPUT', 'opusPackets must be an array of Uint8Array');
      }
      const v = voiceFromOpusPackets(opusPackets, {
        onTooLong,
        ...(input.preSkip !== undefined ? { preSkip: input.preSkip } : {}),
        ...(input.sampleCount !== undefined ? { sampleCount: input.sampleCount } : {}),
      });
      return {
        container: v.container,
        durationMs: v.durationMs,
        source: 'opus-packets',
        reencoded: false,
        truncated: v.truncated,
      };
    }
  } catch (e) {
    throw asSdkError(e);
  }
  throw new SdkError(
    'BAD_INPUT',
    'send() takes a file path, { pcm, sampleRate }, { opusPackets }, or a voice container',
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
