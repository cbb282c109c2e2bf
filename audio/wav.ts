/**
 * WAV files: reading any common WAV into float channels, and writing 16-bit mono WAVs.
 *
 * Reading: wavefile parses the RIFF/RIFX/RF64 chunk structure (fmt, data) and decodes the companded
 * formats (A-law, mu-law, IMA ADPCM); linear PCM of 8/16/24/32 bits and 32/64-bit float (plain or
 * WAVE_FORMAT_EXTENSIBLE) are converted here straight from the data bytes. A data chunk shorter than
 * its declared size is TRUNCATED, except for the streaming placeholder sizes 0xFFFFFFFF and
 * 0x7FFFFFFF that recorders write before they know the length: those read to the end of the file.
 */
import { randomUUID } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import wavefile from 'wavefile';
import { VOICE_SAMPLE_RATE } from './constants.js';
import { audioError } from './errors.js';
import { checkSampleRate } from './resample.js';

/** A decoded WAV: one float array per channel, samples in [-1, 1]. */
export interface WavAudio {
  sampleRate: number;
  /** Channel data, all the same length. */
  channels: Float32Array[];
  /** e.g. 'pcm-16', 'pcm-24', 'float-32', 'alaw', 'mulaw', 'ima-adpcm'. */
  encoding: string;
  /** True when more than 120 s were in the file and only the first 120 s (+ one frame) were read. */
  longerThanLimit: boolean;
  /** Duration of the whole file's audio in ms. */
  durationMs: number;
}

export interface ReadWavOptions {
  /** Read at most this many ms (the rest is not converted). Default: everything. */
  maxMs?: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_IMA_ADPCM = 0x11;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const STREAMING_SIZES = new Set([0xffffffff, 0x7fffffff]);

interface WavefileFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  subformat: number[];
}

/**
 * Decodes WAV bytes. Throws AudioError: NOT_AUDIO (no RIFF/RIFX/RF64 WAVE header), UNSUPPORTED_FORMAT,
 * TRUNCATED, CORRUPT (impossible header values), BAD_SAMPLE_RATE, EMPTY_AUDIO.
 */
export function readWav(bytes: Uint8Array, options: ReadWavOptions = {}): WavAudio {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes, true);
  } catch (cause) {
    const msg = String((cause as Error)?.message ?? cause);
    if (/data|fmt/i.test(msg) && isRiffWave(bytes)) {
      throw audioError('TRUNCATED', `the WAV file is cut short or incomplete (${msg})`, cause);
    }
    throw audioError('NOT_AUDIO', `not a WAV file (${msg})`, cause);
  }
  const fmt = wav.fmt as WavefileFmt;
  const data = (wav as unknown as { data: { chunkSize: number; samples: Uint8Array } }).data;
  const format = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE ? (fmt.subformat[0] ?? 0) : fmt.audioFormat;
  const channelCount = fmt.numChannels;
  if (channelCount < 1) throw audioError('CORRUPT', 'the WAV header declares 0 channels');
  try {
    checkSampleRate(fmt.sampleRate);
  } catch (e) {
    throw audioError(
      'BAD_SAMPLE_RATE',
      `the WAV file's sample rate ${fmt.sampleRate} Hz is not supported`,
      e,
    );
  }
  if (data.samples.length < data.chunkSize && !STREAMING_SIZES.has(data.chunkSize)) {
    throw audioError(
      'TRUNCATED',
      `the WAV file is cut short: its data chunk declares ${data.chunkSize} bytes but holds ${data.samples.length}`,
    );
  }
  const maxMs = options.maxMs ?? Number.POSITIVE_INFINITY;
  switch (format) {
    case WAVE_FORMAT_PCM:
    case WAVE_FORMAT_IEEE_FLOAT: {
      const bytesPerSample = fmt.blockAlign / channelCount;
      const isFloat = format === WAVE_FORMAT_IEEE_FLOAT;
      const ok = isFloat
        ? bytesPerSample === 4 || bytesPerSample === 8
        : bytesPerSample >= 1 && bytesPerSample <= 4;
      if (!Number.isInteger(bytesPerSample) || !ok) {
        throw audioError(
          'UNSUPPORTED_FORMAT',
          `WAV ${isFloat ? 'float' : 'PCM'} with ${fmt.bitsPerSample}-bit samples in ${fmt.blockAlign}-byte frames of ${channelCount} channels is not supported`,
        );
      }
      const totalFrames = Math.floor(data.samples.length / fmt.blockAlign);
      const framesToRead = Math.min(totalFrames, framesFor(maxMs, fmt.sampleRate));
      const channels = decodeLinear(
        data.samples,
        channelCount,
        bytesPerSample,
        isFloat,
        wav.container === 'RIFX',
        framesToRead,
      );
      return finish(
        channels,
        fmt.sampleRate,
        `${isFloat ? 'float' : 'pcm'}-${bytesPerSample * 8}`,
        totalFrames,
      );
    }
    case WAVE_FORMAT_ALAW:
    case WAVE_FORMAT_MULAW:
    case WAVE_FORMAT_IMA_ADPCM: {
      try {
        if (format === WAVE_FORMAT_ALAW) wav.fromALaw('16');
        else if (format === WAVE_FORMAT_MULAW) wav.fromMuLaw('16');
        else wav.fromIMAADPCM('16');
      } catch (cause) {
        throw audioError(
          'CORRUPT',
          `the WAV file's compressed audio could not be decoded (${String(cause)})`,
          cause,
        );
      }
      const pcm = (wav as unknown as { data: { samples: Uint8Array } }).data.samples;
      const totalFrames = Math.floor(pcm.length / (2 * channelCount));
      const framesToRead = Math.min(totalFrames, framesFor(maxMs, fmt.sampleRate));
      const channels = decodeLinear(pcm, channelCount, 2, false, wav.container === 'RIFX', framesToRead);
      const name =
        format === WAVE_FORMAT_ALAW ? 'alaw' : format === WAVE_FORMAT_MULAW ? 'mulaw' : 'ima-adpcm';
      return finish(channels, fmt.sampleRate, name, totalFrames);
    }
    default:
      throw audioError(
        'UNSUPPORTED_FORMAT',
        `WAV audio format 0x${format.toString(16)} is not supported (use PCM, float, A-law, mu-law or IMA ADPCM)`,
      );
  }
}

/** Frames that `ms` covers, plus one so a caller can tell "longer than the limit" from "exactly". */
function framesFor(ms: number, rate: number): number {
  return Number.isFinite(ms) ? Math.floor((ms * rate) / 1000) + 1 : Number.MAX_SAFE_INTEGER;
}

function finish(
  channels: Float32Array[],
  sampleRate: number,
  encoding: string,
  totalFrames: number,
): WavAudio {
  if (totalFrames === 0) throw audioError('EMPTY_AUDIO', 'the WAV file holds no audio (0 samples)');
  const durationMs = (totalFrames * 1000) / sampleRate;
  return {
    sampleRate,
    channels,
    encoding,
    longerThanLimit: totalFrames > (channels[0]?.length ?? 0),
    durationMs,
  };
}

/** Linear PCM (unsigned 8-bit, signed 16/24/32-bit, left-justified) or IEEE float -> float channels. */
function decodeLinear(
  bytes: Uint8Array,
  channelCount: number,
  bytesPerSample: number,
  isFloat: boolean,
  bigEndian: boolean,
  frames: number,
): Float32Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = !bigEndian;
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const frameBytes = bytesPerSample * channelCount;
  const intScale = 1 / 2 ** (bytesPerSample * 8 - 1);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channelCount; c++) {
      const at = f * frameBytes + c * bytesPerSample;
      let v: number;
      if (isFloat) {
        v = bytesPerSample === 4 ? view.getFloat32(at, le) : view.getFloat64(at, le);
        v = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
      } else if (bytesPerSample === 1) {
        v = (bytes[at]! - 128) / 128; // 8-bit WAV is unsigned
      } else if (bytesPerSample === 2) {
        v = view.getInt16(at, le) * intScale;
      } else if (bytesPerSample === 3) {
        const b0 = bytes[at]!;
        const b1 = bytes[at + 1]!;
        const b2 = bytes[at + 2]!;
        const u = le ? b0 | (b1 << 8) | (b2 << 16) : b2 | (b1 << 8) | (b0 << 16);
        v = (u >= 0x800000 ? u - 0x1000000 : u) * intScale;
      } else {
        v = view.getInt32(at, le) * intScale;
      }
      channels[c]![f] = v;
    }
  }
  return channels;
}

/** True when the bytes start like a RIFF/RIFX/RF64 WAVE file. */
export function isRiffWave(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const tag = String.fromCharCode(...bytes.subarray(0, 4));
  const wave = String.fromCharCode(...bytes.subarray(8, 12));
  return (tag === 'RIFF' || tag === 'RIFX' || tag === 'RF64') && wave === 'WAVE';
}

/** A canonical 44-byte-header, 16-bit mono little-endian WAV of `pcm` at `sampleRate` (default 16 kHz). */
export function encodeWav(pcm: Int16Array, sampleRate: number = VOICE_SAMPLE_RATE): Uint8Array {
  checkSampleRate(sampleRate);
  const dataBytes = pcm.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < pcm.length; i++) view.setInt16(44 + 2 * i, pcm[i]!, true);
  return out;
}

/**
 * Writes a 16-bit mono WAV atomically: into a temporary file beside `path`, then renamed over it, so
 * a reader never sees half a file. Throws AudioError WRITE_FAILED (with the cause).
 */
export async function writeWav(
  path: string,
  pcm: Int16Array,
  sampleRate: number = VOICE_SAMPLE_RATE,
): Promise<void> {
  const bytes = encodeWav(pcm, sampleRate);
  const temp = join(dirname(path), `.${randomUUID()}.wav.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw audioError(
      'WRITE_FAILED',
      `could not write ${path}: ${(cause as Error).message ?? String(cause)}`,
      cause,
    );
  }
}
