/**
 * Constants of the transfer layer (PROTOCOL.md, "Transfers"): message types, directions, codecs,
 * status codes, block and window limits. Transfers are PawLink's take on Matter's Bulk Data Exchange
 * (BDX, Matter Core Specification 1.4 section 11.22): an init/accept exchange, offset-addressed
 * blocks, acknowledgements and an explicit end, restricted to the single in-order, already
 * authenticated channel of a PawLink session.
 */
import { MAX_CONTAINER_BYTES, MAX_PACKET_UNIT_BYTES, MIN_CONTAINER_BYTES } from '../container/constants.js';

/**
 * Record plaintext type bytes 0x40..0x4F belong to transfers; the application-message codec owns
 * every other value and routes this range here (protocol/messages refuses it as NOT_AN_APP_MESSAGE).
 */
export const TRANSFER_TYPE_FIRST = 0x40;
export const TRANSFER_TYPE_LAST = 0x4f;

/** Type byte of each transfer message (first byte of the record plaintext). 0x48..0x4F are reserved. */
export const TransferMessageType = {
  TransferInit: 0x40,
  TransferAccept: 0x41,
  Block: 0x42,
  BlockAck: 0x43,
  End: 0x44,
  Done: 0x45,
  TransferAbort: 0x46,
  DownloadRequest: 0x47,
} as const;
export type TransferMessageType = (typeof TransferMessageType)[keyof typeof TransferMessageType];

/** Direction byte of TransferInit. */
export const TransferDirection = {
  /** Phone -> toy: a family member's message for the child. The toy is the receiver. */
  Upload: 0,
  /** Toy -> phone: the child's recording, after the phone's DownloadRequest. The phone is the receiver. */
  Download: 1,
} as const;
export type TransferDirection = (typeof TransferDirection)[keyof typeof TransferDirection];

/** Codec byte of TransferInit: what the content is, which fixes its validator and size limit. */
export const TransferCodec = {
  /** A PawLink voice container (protocol/container). */
  VoiceContainer: 1,
  /** Reserved for firmware images (a later step, with its own size limit). Refused for now. */
  FirmwareImage: 2,
} as const;
export type TransferCodec = (typeof TransferCodec)[keyof typeof TransferCodec];

/** Size limits per supported codec, in bytes: totalBytes outside [min, max] is refused at Init. */
export const CODEC_LIMITS: Readonly<Record<number, { minBytes: number; maxBytes: number }>> = {
  [TransferCodec.VoiceContainer]: { minBytes: MIN_CONTAINER_BYTES, maxBytes: MAX_CONTAINER_BYTES },
};

/**
 * Numeric status codes (u8) carried by Done and TransferAbort. A peer treats any value it does not
 * know as a failure. The ranges group the stage that fails: 0x0_ end of transfer, 0x1_ Init, 0x2_
 * blocks, 0x3_ protocol state, 0x4_ application/driver. Modelled on BDX's status codes (Matter Core
 * 1.4 section 11.22, e.g. LENGTH_TOO_LARGE), renumbered for PawLink.
 */
export const TransferStatus = {
  /** Done: the content matched its sha256, is a valid container and is stored as message `messageId`. */
  Ok: 0x00,
  /** Done: the content's SHA-256 differs from TransferInit.sha256; everything received was discarded. */
  HashMismatch: 0x01,
  /** Done: the hash matched but the content is not a valid container; discarded. */
  InvalidContent: 0x02,

  /** Init: codec unknown or not supported by this receiver. */
  UnsupportedCodec: 0x10,
  /** Init: direction is not 0/1 or not the one this receiver accepts. */
  BadDirection: 0x11,
  /** Init: totalBytes is 0. */
  EmptyTransfer: 0x12,
  /** Init: totalBytes is below the codec's smallest valid content (20 bytes for a container). */
  TooSmall: 0x13,
  /** Init: totalBytes is above the codec's limit (372 017 bytes for a container). */
  TooLarge: 0x14,
  /** Init: startOffset > totalBytes. Accept (sender side): startOffset not a boundary or past the end. */
  BadStartOffset: 0x15,
  /** Init: the receiver's storage cannot hold the rest of the content. */
  NoSpace: 0x16,

  /** Block: offset is not the next expected byte (duplicate, reordered, gap or overlap). */
  UnexpectedOffset: 0x20,
  /** Block: longer than the accepted maxBlock. */
  BlockTooLarge: 0x21,
  /** Block: ends inside the header or a packet. */
  SplitsPacket: 0x22,
  /** Block: ends past totalBytes. */
  BlockPastEnd: 0x23,
  /** Block: ends beyond the last BlockAck + window (checked by a receiver driver that queues blocks during a slow commit). */
  WindowExceeded: 0x24,
  /** Block: its bytes make the content an invalid container (bad header, packet length...). */
  BadContent: 0x25,
  /** End: received before all totalBytes arrived. */
  EndEarly: 0x26,

  /** Sender: TransferAccept with maxBlock/window outside the rules. */
  BadAccept: 0x30,
  /** Sender: BlockAck that goes backwards or beyond what was sent. */
  BadAck: 0x31,
  /** A message that is not valid in the current state. */
  UnexpectedMessage: 0x32,
  /** A message for another transferId than the one in progress. */
  UnknownTransfer: 0x33,
  /** A transfer message that failed to decode. */
  Malformed: 0x34,

  /** DownloadRequest: no such message. */
  NotFound: 0x40,
  /** The peer is busy with another transfer (one at a time per direction). */
  Busy: 0x41,
  /** Cancelled by the user or the app. The receiver drops what it stored. */
  Cancelled: 0x42,
  /** The receiver's storage failed while writing. */
  StorageFailed: 0x43,
} as const;
export type TransferStatus = number;

/**
 * Largest record plaintext in bytes, ASSUMED from the session brief: framing SDU 2048 (protocol
 * brief, "Framing": max message 2048 bytes) - 1 link envelope byte - 10-byte record header
 * (version u8, channel u8, counter u64) - 16-byte Poly1305 tag (RFC 8439 section 2.8) = 2021.
 * The composed engine must check this against the session layer's exported maximum.
 */
export const ASSUMED_MAX_RECORD_PLAINTEXT = 2048 - 1 - 10 - 16;

/** Bytes of a Block message before its data: type 1 + transferId 4 + offset 4. */
export const BLOCK_HEADER_LEN = 9;

/** Largest Block data in bytes: 2021 - 9 = 2012, so one Block is one record. */
export const MAX_BLOCK_BYTES = ASSUMED_MAX_RECORD_PLAINTEXT - BLOCK_HEADER_LEN;

/**
 * Smallest maxBlock a receiver may offer: 1277 bytes = the largest packet (1275) + its 2-byte prefix,
 * so every valid container can be cut into blocks that end on packet boundaries.
 */
export const MIN_BLOCK_BYTES = MAX_PACKET_UNIT_BYTES;

/**
 * Commit interval in bytes: a receiver MUST commit (persist) and acknowledge as soon as its
 * uncommitted bytes reach this (it MAY commit more often). 4096 = one flash sector on common NOR
 * parts, and about 2.3 s of voice at 1790 B/s (audio.md), so a broken link loses little.
 */
export const COMMIT_INTERVAL = 4096;

/**
 * Smallest window a receiver may offer for a given maxBlock: COMMIT_INTERVAL + maxBlock. With that,
 * a sender can never be blocked while the receiver holds less than COMMIT_INTERVAL uncommitted
 * (and so has no ack to send): no deadlock (proof in PROTOCOL.md, "Flow control").
 */
export function minWindow(maxBlock: number): number {
  return COMMIT_INTERVAL + maxBlock;
}

/**
 * Receiver's default window in bytes: 16 KiB = 4 commit intervals. At the best link in the brief's
 * budget (163 kB/s, 2M PHY) an ack round trip of 2 connection events (30 ms) needs about 4.9 kB in
 * flight, so 16 KiB keeps the link busy while bounding what a reconnect re-sends.
 */
export const DEFAULT_WINDOW = 16 * 1024;

/** Receiver's default maxBlock: the largest Block that fits in one record. */
export const DEFAULT_MAX_BLOCK = MAX_BLOCK_BYTES;

/** SHA-256 digest length in bytes (FIPS 180-4). */
export const TRANSFER_HASH_LEN = 32;
