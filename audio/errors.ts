import { PawLinkError } from '../protocol/errors.js';

/**
 * The audio layer's error: encoding, decoding, reading and writing audio files, the toy's speaker and
 * microphone. Codes are stable UPPER_SNAKE strings (listed in `AUDIO_ERROR_CODES`); tests assert them.
 * Messages are one line for a person and say what to do; they never carry a stack trace to the user.
 */
export class AudioError extends PawLinkError {}

/** Every code an `AudioError` can carry, with what it means. */
export const AUDIO_ERROR_CODES = {
  // Input checks (encodeVoice, voiceFrom*, readAudioFile).
  EMPTY_AUDIO: 'the input holds no samples',
  TOO_LONG: 'the input is longer than a voice message may be (120 s)',
  BAD_SAMPLE_RATE: 'a sample rate outside 1000..384000 Hz or not an integer',
  BAD_CHANNELS: 'a channel count outside 1..255, or samples not a multiple of it',
  BAD_PCM: 'raw PCM bytes of odd length (s16le needs 2 bytes per sample)',
  BAD_OPUS_PACKET: 'an Opus packet breaks RFC 6716 section 3.4 or does not last 20 ms',
  // Files.
  FILE_UNREADABLE: 'the file does not exist, is a directory, or cannot be read',
  FILE_EMPTY: 'the file has 0 bytes',
  FILE_TOO_LARGE: 'the file is larger than any 120 s recording could be',
  NOT_AUDIO: 'the file is neither WAV (RIFF/RIFX/RF64) nor Ogg',
  UNSUPPORTED_FORMAT: 'a WAV or Ogg file in a codec or layout PawLink does not read',
  TRUNCATED: 'the file ends before its own headers say it does',
  CORRUPT: 'a checksum or header field of the file is wrong',
  WRITE_FAILED: 'an audio file could not be written',
  // Codec.
  OPUS_UNAVAILABLE: 'the Opus encoder or decoder could not be loaded',
  CORRUPT_PACKET: 'a stored packet could not be decoded (only with onCorruptPacket: "error")',
  // Speaker.
  BAD_SPEAKER_SPEC: "a speaker spec other than 'auto', 'none' or 'file:DIR'",
  BAD_VOLUME: 'a volume outside the integers 0..255',
  SPEAKER_NOT_INSTALLED: "the optional 'speaker' package is not installed (or not built)",
  SPEAKER_FAILED: 'the sound output process failed or was killed',
  // Microphone.
  BAD_MIC_SPEC: "a microphone spec other than 'auto', 'none', 'sox', 'arecord' or 'file:WAV'",
  RECORDER_NOT_INSTALLED: "the optional 'node-record-lpcm16' package is not installed",
  RECORDER_NOT_FOUND: 'the recording program (sox or arecord) is not on PATH',
  RECORDER_FAILED: 'the recording program exited with an error (no sound card or microphone?)',
  ALREADY_RECORDING: 'a recording was started while another one is running',
} as const;

export type AudioErrorCode = keyof typeof AUDIO_ERROR_CODES;

/** Builds an `AudioError` with a code from `AUDIO_ERROR_CODES` (typed, so a misspelt code is a compile error). */
export function audioError(code: AudioErrorCode, message: string, cause?: unknown): AudioError {
  return new AudioError(code, message, cause === undefined ? undefined : { cause });
}
