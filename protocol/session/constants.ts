/**
 * Session layer constants: Noise_IK_25519_ChaChaPoly_SHA256 (Noise Protocol Framework, revision 34,
 * 2018-07-11) and PawLink's encrypted records. Each number carries its unit and its source.
 * PROTOCOL.md, "Session layer", is the normative description.
 */
import { MAX_MESSAGE_LENGTH } from '../framing/constants.js';

// --- Noise (revision 34) ---------------------------------------------------------------------------

/** Full Noise protocol name (Noise §8). Exactly 32 ASCII bytes = HASHLEN, so `h` starts as the name itself (§5.2). */
export const NOISE_PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_SHA256';

/** Bytes in an X25519 public key and DH output (Noise §12.1, RFC 7748 §5). */
export const DHLEN = 32;
/** Bytes in a SHA-256 output (Noise §12.5). */
export const HASHLEN = 32;
/** Bytes in a cipher key (Noise §4.2, §5.1). */
export const CIPHER_KEY_LEN = 32;
/** Bytes of authentication data that ENCRYPT appends: the Poly1305 tag (Noise §4.2, RFC 8439 §2.8). */
export const TAG_LEN = 16;
/** Bytes in the ChaCha20-Poly1305 nonce: 4 zero bytes then the 64-bit counter, little-endian (Noise §12.3). */
export const AEAD_NONCE_LEN = 12;
/** The reserved nonce value 2^64-1: never used to encrypt data, only by REKEY (Noise §5.1, §11.3). */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn;
/** Largest Noise message in bytes (Noise §3). PawLink messages are far smaller (see MAX_SDU_LEN). */
export const MAX_NOISE_MESSAGE_LEN = 65_535;

/** IK message 1 without payload: e (32) ‖ encrypted s (32 + 16) ‖ payload tag (16), in bytes. */
export const IK_MESSAGE1_OVERHEAD = DHLEN + DHLEN + TAG_LEN + TAG_LEN; // 96
/** IK message 2 without payload: e (32) ‖ payload tag (16), in bytes. */
export const IK_MESSAGE2_OVERHEAD = DHLEN + TAG_LEN; // 48

// --- PawLink handshake ------------------------------------------------------------------------------

/** First byte of a LinkType.Handshake body: which IK message follows (PawLink; Noise §13 "type fields"). */
export const HandshakeMessageType = {
  /** Phone → toy: `-> e, es, s, ss` plus payload. */
  Message1: 0x01,
  /** Toy → phone: `<- e, ee, se` plus payload. */
  Message2: 0x02,
} as const;
export type HandshakeMessageType = (typeof HandshakeMessageType)[keyof typeof HandshakeMessageType];

/** Bytes of the handshake type byte in front of each Noise handshake message. */
export const HANDSHAKE_TYPE_LEN = 1;

/**
 * Largest handshake payload (plaintext, bytes) in either message. PawLink's own handshake payloads
 * are empty; the cap bounds the toy's work and RAM for unauthenticated input (brief: minimal
 * unauthenticated surface, ETSI EN 303 645 §5.6) and keeps both messages well inside one framed
 * message (MAX_SDU_LEN).
 */
export const MAX_HANDSHAKE_PAYLOAD_LEN = 256;

/** ASCII label opening the prologue: "PawLink session" (15 bytes, no terminator). */
export const PROLOGUE_LABEL = 'PawLink session';
/** Toy ids in the prologue: 1..255 bytes (u8 length prefix). */
export const MAX_TOY_ID_LEN = 255;
/** Framing transcripts in the prologue: up to 65535 bytes (u16 length prefix); BTP's is 9 + 6 = 15. */
export const MAX_FRAMING_TRANSCRIPT_LEN = 0xffff;

// --- Records ------------------------------------------------------------------------------------------

/** Record format version carried in the low 7 bits of header byte 0. */
export const RECORD_VERSION = 1;
/** Header byte 0, bit 7: set on records sent by the responder (toy), clear from the initiator (phone). */
export const RECORD_DIRECTION_RESPONDER = 0x80;
/** Mask of the version bits in header byte 0. */
export const RECORD_VERSION_MASK = 0x7f;

/** Logical channel of a record (header byte 1). Both share one counter per direction. */
export const RecordChannel = {
  /** Application messages (status, volume, pairings, transfer control...). */
  Control: 0,
  /** Voice transfer blocks. */
  Audio: 1,
} as const;
export type RecordChannel = (typeof RecordChannel)[keyof typeof RecordChannel];

/** Record header in bytes: version/direction u8 ‖ channel u8 ‖ counter u64 LE. Used as AEAD associated data. */
export const RECORD_HEADER_LEN = 10;
/** Bytes a record adds to its plaintext: header + Poly1305 tag. */
export const RECORD_OVERHEAD = RECORD_HEADER_LEN + TAG_LEN; // 26

/** Largest framed message (one BTP SDU) in bytes: the framing layer's maximum message length. */
export const MAX_SDU_LEN = MAX_MESSAGE_LENGTH;
/** The link envelope's type byte in front of every framed message (protocol/link.ts). */
export const LINK_ENVELOPE_LEN = 1;
/** Largest record body in bytes: a whole record fits in one framed message with its link envelope. */
export const MAX_RECORD_LEN = MAX_SDU_LEN - LINK_ENVELOPE_LEN; // 2047
/** Largest plaintext one record carries, in bytes. Larger application messages are split above this layer. */
export const MAX_RECORD_PLAINTEXT_LEN = MAX_RECORD_LEN - RECORD_OVERHEAD; // 2021

/**
 * Records per direction between two REKEYs of that direction's key (protocol brief: "re-key before
 * 2^32 records"; Noise §11.3 leaves the schedule to the application). After the record with counter
 * c is sealed (sender) or opened (receiver), if (c + 1) mod interval = 0 the key is replaced by REKEY(k).
 */
export const DEFAULT_REKEY_INTERVAL = 0x1_0000_0000n; // 2^32 records
/** Largest record counter ever used: 2^64-1 is Noise's reserved nonce (Noise §5.1). */
export const MAX_RECORD_COUNTER = MAX_NONCE - 1n;
