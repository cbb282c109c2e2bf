/**
 * Framing layer constants (PROTOCOL.md §5, "Framing").
 *
 * PawLink frames messages with the packet layout of Matter's Bluetooth Transport Protocol, version
 * 4 (Matter Core Specification §4.19 "Bluetooth Transport Protocol (BTP)", numbering of versions
 * 1.2–1.4), so Matter's
 * published BTP examples decode with our codec bit for bit. The numbers below say where they come
 * from: "Matter §4.19.x" for the Matter Core spec, "brief" for PawLink's protocol brief
 * (docs: shared/design/protocol.md, "Framing"), "PawLink" for a choice made here and explained in
 * PROTOCOL.md §5.
 */

/** Header flag bits of every BTP packet (Matter §4.19.2, BTP packet PDU format). */
export const BtpFlag = {
  /** B: first segment of a message; the 2-byte Message Length field is present. */
  Beginning: 0x01,
  /** C: any later segment of the same message. */
  Continuing: 0x02,
  /** E: last segment of a message (with B for a message that fits in one segment). */
  Ending: 0x04,
  /** A: the 1-byte Ack Number field is present. */
  Ack: 0x08,
  /** M: the 1-byte Management Opcode field is present (handshake packets only). */
  Management: 0x20,
  /** H: handshake packet (request or response). */
  Handshake: 0x40,
} as const;

/** Bits 4 and 7 are reserved: a sender sets them to 0 and a receiver rejects them (Matter §4.19.2). */
export const RESERVED_FLAG_BITS = 0x90;

/** Header flags of both handshake packets: H | M | E | B (Matter §4.19.3.1, §4.19.3.2). */
export const HANDSHAKE_FLAGS = 0x65;

/** Management opcode of the handshake request and response (Matter §4.19.2, Table "BTP Control Codes"). */
export const HANDSHAKE_OPCODE = 0x6c;

/** Handshake request length, bytes: flags, opcode, 4 bytes of version nibbles, ATT_MTU u16, window u8. */
export const HANDSHAKE_REQUEST_LENGTH = 9;

/** Handshake response length, bytes: flags, opcode, version, segment size u16, window u8. */
export const HANDSHAKE_RESPONSE_LENGTH = 6;

/** Version slots in a handshake request: 8 nibbles in 4 bytes, 0 = unused (Matter §4.19.3.1). */
export const MAX_OFFERED_VERSIONS = 8;

/**
 * The framing version PawLink speaks: 4, Matter BTP v4's packet layout and state machine. The value
 * is negotiated inside PawLink's own GATT service (the central lists the versions it speaks, the toy
 * picks the highest both speak, Matter §4.19.4.3), so a future incompatible PawLink framing takes the
 * next free number. PawLink.
 */
export const BTP_VERSION = 4;

/** Versions this implementation speaks, highest first (a request lists them in descending order, Matter §4.19.4.3). */
export const SUPPORTED_VERSIONS: readonly number[] = [BTP_VERSION];

/** Smallest (and default) ATT_MTU on LE, bytes (Bluetooth Core 5.4 Vol 3 Part G §5.2.1). */
export const ATT_MTU_MIN = 23;

/**
 * Largest ATT_MTU a local side may declare, bytes: a 512-byte attribute value (Bluetooth Core 5.4
 * Vol 3 Part F §3.2.9) plus the 5-byte Prepare Write header; Android's maximum. Larger values in a
 * peer's request are accepted (the segment size is capped at 244 anyway).
 */
export const ATT_MTU_MAX = 517;

/** ATT header of a Write / Write Without Response / Notification: opcode (1) + handle (2), bytes. */
export const ATT_HEADER_LENGTH = 3;

/** Smallest segment size, bytes: ATT_MTU_MIN − 3 (Matter §4.19.4.3; brief: "at least 20"). */
export const SEGMENT_SIZE_MIN = 20;

/**
 * Largest segment size, bytes: 251-byte LE data-length-extension payload − 4 (L2CAP) − 3 (ATT), so
 * one segment is one link-layer packet (Matter §4.19.4.3 caps the segment at 244 for the same reason;
 * brief).
 */
export const SEGMENT_SIZE_MAX = 244;

/** Smallest negotiated window, packets (brief: 3–32; why 3: PROTOCOL.md §5.5). */
export const WINDOW_MIN = 3;

/** Largest window PawLink offers or accepts, packets (brief: 3–32). */
export const WINDOW_MAX = 32;

/** Window the toy (peripheral) offers by default, packets (brief). Also INFO's maxWindow. */
export const WINDOW_DEFAULT_PERIPHERAL = 16;

/** Window the phone (central) offers by default: the maximum, so the toy's offer decides. PawLink. */
export const WINDOW_DEFAULT_CENTRAL = WINDOW_MAX;

/** Largest message (BTP SDU), bytes (brief). */
export const MAX_MESSAGE_LENGTH = 2048;

/** Header bytes of a Beginning segment without ack: flags, seq, message length u16. */
export const BEGINNING_HEADER_LENGTH = 4;

/** Header bytes of a Continuing segment without ack: flags, seq. */
export const CONTINUING_HEADER_LENGTH = 2;

/** Extra header byte when an ack number is piggy-backed. */
export const ACK_FIELD_LENGTH = 1;

/** A stand-alone ack packet: flags (0x08), ack number, sequence number. */
export const STANDALONE_ACK_LENGTH = 3;

/** 8-bit wrapping sequence and ack numbers (Matter §4.19.4.6). */
export const SEQUENCE_MODULUS = 256;

/**
 * Handshake timer, ms: the central closes if no response arrives this long after its request; the
 * toy closes if no request arrives this long after the link came up. Matter BTP_CONN_RSP_TIMEOUT
 * (§4.19.4.3); brief.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * Ack-received timer, ms: started when a packet is sent and none is outstanding, restarted by each
 * ack that leaves packets outstanding; expiry closes the connection. Matter BTP_ACK_TIMEOUT
 * (§4.19.4.8); brief.
 */
export const ACK_RECEIVED_TIMEOUT_MS = 15_000;

/**
 * Idle timer, ms: the connection closes when no message segment has been sent or received for this
 * long (keep-alive acks do not count). Matter BTP_CONN_IDLE_TIMEOUT ("no unique data", §4.19.4);
 * brief. PawLink enforces it on both sides (PROTOCOL.md §5.7).
 */
export const IDLE_TIMEOUT_MS = 30_000;

/**
 * Send-ack delay after receiving a segment that carries message data (or the handshake response),
 * ms: a stand-alone ack goes out this long after the oldest unacknowledged one unless a data
 * segment carried it first. Brief: 50 ms (Matter allows any value below BTP_ACK_TIMEOUT / 2).
 */
export const SEND_ACK_DELAY_MS = 50;

/**
 * Send-ack delay when every unacknowledged received packet is itself a stand-alone ack, ms. Acks of
 * acks are what keeps an idle link's liveness check running (the keep-alive, PROTOCOL.md §5.7), so
 * they are sent lazily: below BTP_ACK_TIMEOUT / 2 = 7.5 s as Matter §4.19.4.8 requires. PawLink.
 */
export const KEEPALIVE_ACK_DELAY_MS = 5_000;

/**
 * Default bound on bytes queued by `send()` and not yet segmented (a local resource limit, not a
 * wire parameter): eight messages of the maximum size. PawLink.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * MAX_MESSAGE_LENGTH;
