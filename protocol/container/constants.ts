/**
 * Constants of the PawLink voice container (PROTOCOL.md, "Voice container"): the stored and
 * transferred form of one voice message. Every number has its unit and where it comes from.
 */

/** Magic at offset 0: ASCII "PAWV" (PawLink Voice). Lets a reader refuse a non-container at once. */
export const CONTAINER_MAGIC = Uint8Array.of(0x50, 0x41, 0x57, 0x56);

/** Format version (u8). A reader refuses any other value: there is no silent forward compatibility. */
export const CONTAINER_VERSION = 1;

/** Header length in bytes: magic 4 + version 1 + sample rate 4 + channels 1 + frame ms 1 + pre-skip 2 + sample count 4. */
export const CONTAINER_HEADER_LEN = 17;

/**
 * Decoder output sample rate in Hz. The only value allowed (audio.md: Opus at 16 kHz mono; the toy
 * decodes at 16 kHz whatever the encoder's input rate was). Stored as u32 like the "input sample
 * rate" field of the Ogg Opus ID header (RFC 7845 section 5.1), so a later version can name 48000.
 */
export const SAMPLE_RATE_HZ = 16_000;

/** Channel count. Mono only (audio.md; protocol brief "Audio format"). */
export const CHANNELS = 1;

/** Duration of every packet in milliseconds: one 20 ms Opus frame per packet (RFC 6716 section 2.1.4). */
export const FRAME_DURATION_MS = 20;

/** Samples per packet at SAMPLE_RATE_HZ: 16000 Hz x 0.020 s = 320 (audio.md). */
export const SAMPLES_PER_PACKET = (SAMPLE_RATE_HZ * FRAME_DURATION_MS) / 1000;

/** Length prefix of each packet in bytes (u16 little-endian). */
export const PACKET_PREFIX_LEN = 2;

/**
 * Smallest packet in bytes. RFC 6716 section 3.4 rule [R1]: an Opus packet is at least one byte
 * (its TOC byte). A zero-length "packet" is how Opus APIs signal a LOST packet: the decoder runs loss
 * concealment instead of decoding (audio.md measured 120 ms of concealment from opus-decoder). A
 * stored message never contains a lost packet, so a zero length is refused as corruption.
 */
export const MIN_PACKET_BYTES = 1;

/**
 * Largest packet in bytes. RFC 6716 section 3.2.1 / section 3.4 rule [R2] caps one Opus frame at
 * 1275 bytes; PawLink carries exactly one 20 ms frame per packet and caps the WHOLE packet at 1275
 * bytes (one byte stricter than a code-0 packet's TOC + 1275-byte frame). At 16 kbps a packet is
 * about 36-40 bytes; 1275 bytes per 20 ms would be 510 kbps, Opus's maximum, so nothing real is
 * lost, and the bound keeps every packet far below opus-decoder's 3840-byte RangeError (audio.md).
 */
export const MAX_PACKET_BYTES = 1275;

/** Largest packet plus its prefix, in bytes: the largest unit a block must be able to carry whole. */
export const MAX_PACKET_UNIT_BYTES = PACKET_PREFIX_LEN + MAX_PACKET_BYTES;

/** Maximum message duration in milliseconds (protocol brief, "Audio format": 120 s). */
export const MAX_DURATION_MS = 120_000;

/** Maximum packets per container: 120 000 ms / 20 ms = 6000. */
export const MAX_PACKETS = MAX_DURATION_MS / FRAME_DURATION_MS;

/**
 * Maximum pre-skip in samples at 16 kHz: 960 = 3 packets (60 ms). libopus's look-ahead at 16 kHz is
 * 104 samples (6.5 ms, audio.md; pre-skip is defined in RFC 7845 section 4.2). The cap leaves room for
 * encoders with extra delay while stopping a header from declaring most of a short message "skipped".
 */
export const MAX_PRE_SKIP = 3 * SAMPLES_PER_PACKET;

/** Pre-skip that libopus needs at 16 kHz (audio.md): what the toy's recorder and the SDK write. */
export const LIBOPUS_PRE_SKIP_16K = 104;

/**
 * Average packet payload, in bytes, that the size limit allows: 60 bytes = 1.5 x the nominal
 * 40 bytes of a 16 kbps, 20 ms frame (16000 / 8 x 0.020). Measured voice averages 1790 B/s = 35.8
 * bytes per packet (audio.md, 16 kbps VBR); VBR raises single frames well above that, but the
 * average over a message stays near the target. 60 bytes also admits a 24 kbps VBR recording
 * (measured 2521 B/s = 50.4 bytes per packet).
 */
export const BUDGET_PACKET_BYTES = 60;

/**
 * Largest container in bytes: header + 6000 x (2-byte prefix + 60-byte budget)
 * = 17 + 6000 x 62 = 372 017 bytes (about 363 KiB). A 120 s message at the measured 16 kbps rate
 * needs 17 + 6000 x 2 + 120 x 1790 = 226 817 bytes, so the limit leaves 64% headroom; a transfer
 * receiver refuses a larger totalBytes at TransferInit, before storing anything.
 */
export const MAX_CONTAINER_BYTES =
  CONTAINER_HEADER_LEN + MAX_PACKETS * (PACKET_PREFIX_LEN + BUDGET_PACKET_BYTES);

/** Smallest container in bytes: header + one 1-byte packet with its prefix = 20. */
export const MIN_CONTAINER_BYTES = CONTAINER_HEADER_LEN + PACKET_PREFIX_LEN + MIN_PACKET_BYTES;
