/**
 * Everything the SDK's `send` accepts, turned into a voice container:
 *
 * | input | how |
 * | --- | --- |
 * | WAV, any common rate / bit depth / channels | decoded, downmixed, resampled to 16 kHz, encoded |
 * | Ogg Opus, mono, 20 ms packets | passed through WITHOUT re-encoding (packets copied) |
 * | Ogg Opus, anything else (stereo, other packet durations, gain, over-budget bitrate) | decoded at 16 kHz, downmixed, re-encoded |
 * | raw PCM s16le at a given rate | as WAV |
 * | a list of 20 ms Opus packets | checked (RFC 6716 §3.4, 20 ms each) and wrapped |
 *
 * `readAudioFile(path)` recognises the format by content ("RIFF"/"RIFX"/"RF64" + "WAVE", "OggS"),
 * never by extension. Longer than 120 s: TOO_LONG, or the first 120 s with `onTooLong: 'truncate'`.
 */
import { readFile, stat } from 'node:fs/promises';
import {
  CONTAINER_HEADER_LEN,
  LIBOPUS_PRE_SKIP_16K,
  MAX_CONTAINER_BYTES,
  MAX_PACKET_BYTES,
  MAX_PACKETS,
  MAX_PRE_SKIP,
  PACKET_PREFIX_LEN,
} from '../protocol/container/constants.js';
import { encodeContainer } from '../protocol/container/container.js';
import {
  FRAME_SAMPLES,
  MAX_INPUT_FILE_BYTES,
  MAX_INPUT_MS,
  maxVoiceSamples,
  OGG_OPUS_GRANULE_RATE,
  VOICE_SAMPLE_RATE,
} from './constants.js';
import { type EncodedVoice, encodeVoice, type OnTooLong } from './encode.js';
import { AudioError, audioError } from './errors.js';
import { isOgg, type OggOpusStream, readOggOpus } from './ogg.js';
import { voicePacketProblem } from './opus-packet.js';
import { downmix, s16leToInt16 } from './pcm.js';
import { isRiffWave, readWav, type WavAudio } from './wav.js';

/** A file read by `readAudioFile`, before any encoding. */
export type AudioFile =
  | { format: 'wav'; path: string; wav: WavAudio }
  | { format: 'ogg-opus'; path: string; ogg: OggOpusStream };

export interface VoiceInputOptions {
  /** Default 'error'. */
  onTooLong?: OnTooLong;
}

/** A voice container made from some input, with how it was made. */
export interface VoiceFromInput extends EncodedVoice {
  source: 'wav' | 'ogg-opus' | 'pcm' | 'opus-packets';
  /** False only when Opus packets were passed through unchanged. */
  reencoded: boolean;
}

/**
 * Reads and recognises an audio file. Throws AudioError: FILE_UNREADABLE, FILE_EMPTY, FILE_TOO_LARGE,
 * NOT_AUDIO, UNSUPPORTED_FORMAT, TRUNCATED, CORRUPT, EMPTY_AUDIO, BAD_SAMPLE_RATE.
 */
export async function readAudioFile(path: string): Promise<AudioFile> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw unreadable(path, cause);
  }
  if (info.isDirectory()) throw audioError('FILE_UNREADABLE', `cannot read ${path}: it is a directory`);
  const size = info.size;
  if (size === 0) throw audioError('FILE_EMPTY', `${path} is empty (0 bytes)`);
  if (size > MAX_INPUT_FILE_BYTES) {
    throw audioError(
      'FILE_TOO_LARGE',
      `${path} is ${(size / 2 ** 20).toFixed(0)} MiB; no 120 s voice message is larger than ${MAX_INPUT_FILE_BYTES / 2 ** 20} MiB`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    throw unreadable(path, cause);
  }
  return parseAudioBytes(bytes, path);
}

/** `readAudioFile` for bytes already in memory (`name` is used in messages). */
export function parseAudioBytes(bytes: Uint8Array, name = 'the input'): AudioFile {
  if (bytes.length === 0) throw audioError('FILE_EMPTY', `${name} is empty (0 bytes)`);
  try {
    if (isRiffWave(bytes)) return { format: 'wav', path: name, wav: readWav(bytes, { maxMs: MAX_INPUT_MS }) };
    if (isOgg(bytes)) return { format: 'ogg-opus', path: name, ogg: readOggOpus(bytes) };
  } catch (e) {
    if (e instanceof AudioError) e.message = `${name}: ${e.message}`;
    throw e;
  }
  const other = recogniseOther(bytes);
  if (other) {
    throw audioError('UNSUPPORTED_FORMAT', `${name} is ${other}; send WAV or Ogg Opus (convert it first)`);
  }
  throw audioError(
    'NOT_AUDIO',
    `${name} is not an audio file PawLink reads${looksLikeText(bytes) ? ' (it looks like text)' : ''}: send WAV or Ogg Opus`,
  );
}

/** Reads a file and turns it into a voice container (`readAudioFile` + `voiceFromAudioFile`). */
export async function voiceFromFile(path: string, options: VoiceInputOptions = {}): Promise<VoiceFromInput> {
  const file = await readAudioFile(path);
  try {
    return await voiceFromAudioFile(file, options);
  } catch (e) {
    if (e instanceof AudioError) e.message = `${path}: ${e.message}`;
    throw e;
  }
}

/** Turns a recognised audio file into a voice container. */
export async function voiceFromAudioFile(
  file: AudioFile,
  options: VoiceInputOptions = {},
): Promise<VoiceFromInput> {
  if (file.format === 'wav') {
    const { wav } = file;
    if (wav.longerThanLimit && (options.onTooLong ?? 'error') === 'error') throw tooLong(wav.durationMs);
    const mono = downmix(wav.channels);
    const encoded = await encodeVoice(mono, wav.sampleRate, { onTooLong: 'truncate' });
    return {
      ...encoded,
      truncated: encoded.truncated || wav.longerThanLimit,
      source: 'wav',
      reencoded: true,
    };
  }
  return voiceFromOggOpus(file.ogg, options);
}

/**
 * Ogg Opus -> container. Mono 20 ms packets within the size budget pass through unchanged; anything
 * else is decoded at 16 kHz (downmixing, applying the header's output gain) and re-encoded.
 */
export async function voiceFromOggOpus(
  ogg: OggOpusStream,
  options: VoiceInputOptions = {},
): Promise<VoiceFromInput> {
  const onTooLong = options.onTooLong ?? 'error';
  const ratio = OGG_OPUS_GRANULE_RATE / VOICE_SAMPLE_RATE;
  const totalMs = ((ogg.finalGranule - ogg.preSkip48k) * 1000) / OGG_OPUS_GRANULE_RATE;
  if (totalMs <= 0)
    throw audioError('EMPTY_AUDIO', 'the Ogg Opus file plays no samples (granule position <= pre-skip)');
  if (totalMs > MAX_INPUT_MS && onTooLong === 'error') throw tooLong(totalMs);
  const preSkip = Math.round(ogg.preSkip48k / ratio);
  const passthrough =
    ogg.channels === 1 &&
    ogg.mappingFamily === 0 &&
    ogg.outputGainQ8 === 0 &&
    preSkip <= MAX_PRE_SKIP &&
    ogg.packets.every((p) => p.length <= MAX_PACKET_BYTES && voicePacketProblem(p) === undefined);
  if (passthrough) {
    // Playable samples at 16 kHz from the final granule (end trimming), capped at 120 s.
    let sampleCount = Math.min(
      Math.floor((ogg.finalGranule - ogg.preSkip48k) / ratio),
      maxVoiceSamples(preSkip),
    );
    const truncated = sampleCount < Math.floor((ogg.finalGranule - ogg.preSkip48k) / ratio);
    // Whole packets those samples need; a granule claiming more than the packets hold is capped.
    sampleCount = Math.min(sampleCount, ogg.packets.length * FRAME_SAMPLES - preSkip);
    if (sampleCount >= 1) {
      const packets = ogg.packets.slice(0, Math.ceil((sampleCount + preSkip) / FRAME_SAMPLES));
      const size = CONTAINER_HEADER_LEN + packets.reduce((a, p) => a + PACKET_PREFIX_LEN + p.length, 0);
      if (size <= MAX_CONTAINER_BYTES && packets.length <= MAX_PACKETS) {
        return {
          container: encodeContainer({ preSkip, sampleCount, packets }),
          preSkip,
          sampleCount,
          durationMs: sampleCount / (VOICE_SAMPLE_RATE / 1000),
          packetCount: packets.length,
          truncated,
          source: 'ogg-opus',
          reencoded: false,
        };
      }
    }
  }
  const pcm = await decodeOggOpusTo16k(ogg);
  const encoded = await encodeVoice(pcm, VOICE_SAMPLE_RATE, { onTooLong });
  return { ...encoded, source: 'ogg-opus', reencoded: true };
}

/**
 * Decodes an Ogg Opus stream to 16 kHz mono floats (any channel layout, any packet duration), drops
 * the pre-skip, trims to the final granule, applies the output gain. A packet libopus rejects: CORRUPT.
 */
export async function decodeOggOpusTo16k(ogg: OggOpusStream): Promise<Float32Array> {
  let mod: typeof import('opus-decoder');
  try {
    mod = await import('opus-decoder');
  } catch (cause) {
    throw audioError(
      'OPUS_UNAVAILABLE',
      `the Opus decoder (opus-decoder) could not be loaded: ${String(cause)}`,
      cause,
    );
  }
  const decoder = new mod.OpusDecoder({
    sampleRate: VOICE_SAMPLE_RATE,
    channels: ogg.channels,
    streamCount: ogg.streamCount,
    coupledStreamCount: ogg.coupledStreamCount,
    channelMappingTable: ogg.channelMapping,
    preSkip: 0,
  });
  await decoder.ready;
  try {
    const chunks: Float32Array[] = [];
    for (const [k, packet] of ogg.packets.entries()) {
      const original = console.error;
      console.error = () => {};
      let r: ReturnType<typeof decoder.decodeFrame>;
      try {
        r = decoder.decodeFrame(packet);
      } catch (cause) {
        throw audioError('CORRUPT', `Opus packet ${k + 1} could not be decoded: ${String(cause)}`, cause);
      } finally {
        console.error = original;
      }
      if (r.errors.length > 0) {
        throw audioError('CORRUPT', `Opus packet ${k + 1} could not be decoded: ${r.errors[0]!.message}`);
      }
      chunks.push(downmix(r.channelData.map((c) => c.subarray(0, r.samplesDecoded))));
    }
    const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    const ratio = OGG_OPUS_GRANULE_RATE / VOICE_SAMPLE_RATE;
    const start = Math.min(all.length, Math.round(ogg.preSkip48k / ratio));
    const end = Math.min(
      all.length,
      start + Math.max(0, Math.floor((ogg.finalGranule - ogg.preSkip48k) / ratio)),
    );
    const out = all.slice(start, end);
    if (ogg.outputGainQ8 !== 0) {
      const gain = 10 ** (ogg.outputGainQ8 / 256 / 20);
      for (let i = 0; i < out.length; i++) out[i]! *= gain;
    }
    return out;
  } finally {
    decoder.free();
  }
}

/**
 * Raw PCM -> container. `pcm` is 16-bit samples, or raw signed 16-bit little-endian bytes
 * (a Uint8Array); `channels` interleaved channels are downmixed.
 */
export async function voiceFromPcm(
  pcm: Int16Array | Uint8Array,
  sampleRate: number,
  options: VoiceInputOptions & { channels?: number } = {},
): Promise<VoiceFromInput> {
  const samples = pcm instanceof Int16Array ? pcm : s16leToInt16(pcm);
  const encoded = await encodeVoice(samples, sampleRate, {
    channels: options.channels ?? 1,
    onTooLong: options.onTooLong ?? 'error',
  });
  return { ...encoded, source: 'pcm', reencoded: true };
}

/**
 * Opus packets (20 ms each, from a 16 kHz-decodable mono or stereo encoder) -> container, without
 * re-encoding. `preSkip` defaults to libopus's 104; `sampleCount` to packets x 320 - preSkip.
 * Throws AudioError BAD_OPUS_PACKET (which packet and why), EMPTY_AUDIO, TOO_LONG; ContainerError
 * for a sample count that does not match the packets.
 */
export function voiceFromOpusPackets(
  packets: readonly Uint8Array[],
  options: VoiceInputOptions & { preSkip?: number; sampleCount?: number } = {},
): VoiceFromInput {
  if (packets.length === 0) throw audioError('EMPTY_AUDIO', 'no Opus packets given');
  packets.forEach((p, i) => {
    const problem =
      p.length > MAX_PACKET_BYTES
        ? `${p.length} bytes, more than ${MAX_PACKET_BYTES}`
        : voicePacketProblem(p);
    if (problem) throw audioError('BAD_OPUS_PACKET', `Opus packet ${i + 1} of ${packets.length}: ${problem}`);
  });
  const preSkip = options.preSkip ?? LIBOPUS_PRE_SKIP_16K;
  let list = packets;
  let sampleCount = options.sampleCount ?? packets.length * FRAME_SAMPLES - preSkip;
  let truncated = false;
  if (packets.length > MAX_PACKETS) {
    if ((options.onTooLong ?? 'error') === 'error') throw tooLong(packets.length * 20);
    list = packets.slice(0, MAX_PACKETS);
    sampleCount = Math.min(sampleCount, maxVoiceSamples(preSkip));
    truncated = true;
  }
  const container = encodeContainer({ preSkip, sampleCount, packets: list });
  return {
    container,
    preSkip,
    sampleCount,
    durationMs: sampleCount / (VOICE_SAMPLE_RATE / 1000),
    packetCount: list.length,
    truncated,
    source: 'opus-packets',
    reencoded: false,
  };
}

function tooLong(ms: number): Error {
  return audioError(
    'TOO_LONG',
    `the audio lasts ${(ms / 1000).toFixed(1)} s; a voice message is at most ${MAX_INPUT_MS / 1000} s (or allow truncation)`,
  );
}

function unreadable(path: string, cause: unknown): Error {
  const code = (cause as { code?: string })?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : ((cause as Error)?.message ?? String(cause));
  return audioError('FILE_UNREADABLE', `cannot read ${path}: ${why}`, cause);
}

/** Names a few common audio formats PawLink does not read, so the message can say what the file is. */
function recogniseOther(b: Uint8Array): string | undefined {
  const s = String.fromCharCode(...b.subarray(0, 12));
  if (s.startsWith('ID3') || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0))
    return 'an MP3 (or MPEG audio) file';
  if (s.startsWith('fLaC')) return 'a FLAC file';
  if (s.slice(4, 8) === 'ftyp') return 'an MP4/M4A file';
  if (s.startsWith('FORM') && (s.slice(8, 12) === 'AIFF' || s.slice(8, 12) === 'AIFC')) return 'an AIFF file';
  if (s.startsWith('#!AMR')) return 'an AMR file';
  if (s.startsWith('\x1aE\xdf\xa3')) return 'a WebM/Matroska file';
  if ((s.startsWith('RIFF') || s.startsWith('RIFX') || s.startsWith('RF64')) && b.length >= 12)
    return `a RIFF "${s.slice(8, 12)}" file, not WAVE`;
  return undefined;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 9 || (c > 13 && c < 32) || c === 127) return false;
  }
  return true;
}
