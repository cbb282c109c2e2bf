/**
 * Constants of the audio layer, each with its unit and where the number comes from. The container's
 * own numbers (16 kHz, mono, 20 ms, 120 s, pre-skip 104) live in `protocol/container/constants.ts`
 * and are re-used, never restated.
 */
import {
  FRAME_DURATION_MS,
  MAX_DURATION_MS,
  MAX_PACKETS,
  SAMPLE_RATE_HZ,
  SAMPLES_PER_PACKET,
} from '../protocol/container/constants.js';

/** Sample rate of every PCM signal the toy plays or records, in Hz (PROTOCOL.md §10, "Audio format"). */
export const VOICE_SAMPLE_RATE = SAMPLE_RATE_HZ;

/** Samples in one 20 ms Opus frame at 16 kHz: what @evan/opus's `encode` must be given, exactly (audio.md). */
export const FRAME_SAMPLES = SAMPLES_PER_PACKET;

/** Frame duration in ms (PROTOCOL.md §10). */
export const FRAME_MS = FRAME_DURATION_MS;

/**
 * Opus target bitrate in bit/s: 16 kbps VBR. audio.md measured 1790 B/s and a round-trip correlation
 * of 0.955 on speech (12 kbps: 0.940; 24 kbps: 0.963); PROTOCOL.md §10 recommends it.
 */
export const OPUS_BITRATE_BPS = 16_000;

/** Opus application: VOIP (audio.md; it favours speech intelligibility; look-ahead 104 samples at 16 kHz). */
export const OPUS_APPLICATION = 'voip';

/** Opus signal hint: voice (libopus OPUS_SET_SIGNAL; biases mode decisions towards SILK). */
export const OPUS_SIGNAL = 'voice';

/**
 * Opus encoder complexity, 0..10. 10 is libopus's best quality; measured on this 2-core machine
 * (`tsx bench` style script in the audio report): still well over 100x real time at 16 kHz.
 */
export const OPUS_COMPLEXITY = 10;

/** Opus's granule-position clock in Hz: Ogg Opus counts every position and pre-skip at 48 kHz (RFC 7845 §4). */
export const OGG_OPUS_GRANULE_RATE = 48_000;

/** Longest input accepted, in ms: a voice message is at most 120 s (PROTOCOL.md §10, `MAX_DURATION_MS`). */
export const MAX_INPUT_MS = MAX_DURATION_MS;

/**
 * Most samples a container can carry after its pre-skip: 6000 packets x 320 - pre-skip. With libopus's
 * 104-sample pre-skip that is 1 919 896 samples = 119.9935 s: an input of exactly 120 s loses its last
 * 6.5 ms (reported as `truncated`), anything longer is refused or cut (see `OnTooLong`).
 */
export function maxVoiceSamples(preSkip: number): number {
  return MAX_PACKETS * SAMPLES_PER_PACKET - preSkip;
}

/**
 * Largest input file read, in bytes: 256 MiB. A 120 s WAV of 8 channels of 32-bit samples at 48 kHz
 * is 184 MB; anything bigger cannot be a voice message, and reading it would only waste memory.
 */
export const MAX_INPUT_FILE_BYTES = 256 * 1024 * 1024;

/** Sample rates accepted on input, in Hz (inclusive): from telephone-grade 8 kHz and below up to 384 kHz studio files. */
export const MIN_INPUT_SAMPLE_RATE = 1_000;
export const MAX_INPUT_SAMPLE_RATE = 384_000;

/**
 * Resampler (audio/resample.ts): a windowed-sinc low-pass, cut off at this fraction of the lower
 * Nyquist frequency (0.92 x 8 kHz = 7.36 kHz when going to 16 kHz: Opus wideband codes up to 8 kHz,
 * the last 8% is the filter's transition band).
 */
export const RESAMPLE_CUTOFF = 0.92;
/** Zero crossings of the sinc on each side of the centre: the kernel's half-length. */
export const RESAMPLE_ZERO_CROSSINGS = 16;
/** Kaiser window beta: about 80 dB stop-band attenuation (Kaiser's formula, A = 80 dB -> beta 7.86). */
export const RESAMPLE_KAISER_BETA = 8;
/** Kernel table entries per zero crossing; the kernel between entries is linearly interpolated. */
export const RESAMPLE_TABLE_RESOLUTION = 512;

/** Speaker volume range (the original toy's 0..255, product.md); 255 plays the samples unchanged. */
export const MAX_VOLUME = 255;

/** Longest recording in ms: one voice message (120 s). The microphone stops by itself there. */
export const MAX_RECORDING_MS = MAX_DURATION_MS;

/** How often a paced source (a WAV file standing in for the microphone) delivers audio, in ms. */
export const MIC_CHUNK_MS = 100;
