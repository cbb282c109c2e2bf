/**
 * Pure encoders and decoders for the framing layer's three packet forms (PROTOCOL.md §5.2–5.3):
 * the handshake request (9 bytes), the handshake response (6 bytes) and the data-phase packet
 * (a message segment or a stand-alone ack). The layout is Matter BTP v4's (Matter Core §4.19.2–4.19.3).
 *
 * These functions check layout only: field presence, flag combinations, reserved bits, lengths.
 * Whether a packet is acceptable *now* (sequence number, ack range, window, reassembly state, the
 * negotiated segment size) is the endpoint's job (`endpoint.ts`). Every failure is a
 * `FramingError` with a stable code; nothing else escapes.
 */
import { Reader, Writer } from '../bytes.js';
import { FramingError } from '../errors.js';
import {
  BtpFlag,
  HANDSHAKE_FLAGS,
  HANDSHAKE_OPCODE,
  MAX_OFFERED_VERSIONS,
  RESERVED_FLAG_BITS,
} from './constants.js';

/** The central's handshake request (Matter "BTP Handshake Request"). */
export interface HandshakeRequest {
  /** Framing versions the central speaks, 1–15 each, 1 to 8 of them, highest first. */
  versions: number[];
  /** The central's ATT_MTU for this connection, bytes (23 if it cannot tell). */
  attMtu: number;
  /** The largest receive window the central offers, packets. */
  window: number;
}

/** The toy's handshake response (Matter "BTP Handshake Response"). */
export interface HandshakeResponse {
  /** The version chosen for this connection (0–15 on the wire; 0 means none). */
  version: number;
  /** The segment size both sides use: the largest ATT value either side may write, bytes. */
  segmentSize: number;
  /** The window both sides use, packets. */
  window: number;
}

/** A packet that acknowledges and carries no message data (flags `0x08`). */
export interface StandaloneAck {
  kind: 'ack';
  /** Sequence number of the newest packet being acknowledged (cumulative). */
  ack: number;
  /** This packet's own sequence number (stand-alone acks are numbered and acknowledged too). */
  seq: number;
}

/** The first segment of a message (flag B, with E when the whole message fits). */
export interface BeginningSegment {
  kind: 'beginning';
  /** Piggy-backed ack (flag A), if any. */
  ack?: number;
  seq: number;
  /** Length of the whole message, bytes (u16 on the wire). */
  messageLength: number;
  /** Flag E: this segment also ends the message. */
  ending: boolean;
  payload: Uint8Array;
}

/** A later segment of a message (flag C, with E on the last one). */
export interface ContinuingSegment {
  kind: 'continuing';
  /** Piggy-backed ack (flag A), if any. */
  ack?: number;
  seq: number;
  /** Flag E: this segment ends the message. */
  ending: boolean;
  payload: Uint8Array;
}

/** Any packet of the data phase (after the handshake). */
export type BtpPacket = StandaloneAck | BeginningSegment | ContinuingSegment;

function fail(code: string, message: string): never {
  throw new FramingError(code, message);
}

function checkVersionNibble(v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 15) {
    fail('OUT_OF_RANGE', `framing version ${v} is outside 1..15`);
  }
}

/**
 * Encodes a handshake request. Version slot i goes in byte 2 + i/2, low nibble for even i, high
 * nibble for odd i (as connectedhomeip's reference implementation does); unused slots are 0.
 */
export function encodeHandshakeRequest(request: HandshakeRequest): Uint8Array {
  const { versions } = request;
  if (versions.length < 1 || versions.length > MAX_OFFERED_VERSIONS) {
    fail(
      'OUT_OF_RANGE',
      `a handshake request lists 1..${MAX_OFFERED_VERSIONS} versions, not ${versions.length}`,
    );
  }
  for (const v of versions) checkVersionNibble(v);
  const slots = new Uint8Array(4);
  versions.forEach((v, i) => {
    slots[i >> 1]! |= i % 2 === 0 ? v : v << 4;
  });
  return new Writer(FramingError)
    .u8(HANDSHAKE_FLAGS)
    .u8(HANDSHAKE_OPCODE)
    .bytes(slots)
    .u16(request.attMtu)
    .u8(request.window)
    .finish();
}

function readHandshakeHeader(r: Reader): void {
  const flags = r.u8();
  if (flags !== HANDSHAKE_FLAGS) {
    fail('NOT_HANDSHAKE', `handshake packet flags are 0x${flags.toString(16)}, expected 0x65`);
  }
  const opcode = r.u8();
  if (opcode !== HANDSHAKE_OPCODE) {
    fail('BAD_OPCODE', `handshake management opcode is 0x${opcode.toString(16)}, expected 0x6c`);
  }
}

/**
 * Decodes a handshake request. Rejects: wrong flags (`NOT_HANDSHAKE`), wrong opcode (`BAD_OPCODE`),
 * no version or a used slot after an unused one (`BAD_VERSIONS`), truncation, trailing bytes.
 */
export function decodeHandshakeRequest(bytes: Uint8Array): HandshakeRequest {
  const r = new Reader(bytes, FramingError, 'framing handshake request');
  readHandshakeHeader(r);
  const slots = r.bytes(4);
  const attMtu = r.u16();
  const window = r.u8();
  r.end();
  const versions: number[] = [];
  let unusedSeen = false;
  for (let i = 0; i < MAX_OFFERED_VERSIONS; i++) {
    const byte = slots[i >> 1]!;
    const v = i % 2 === 0 ? byte & 0x0f : byte >> 4;
    if (v === 0) {
      unusedSeen = true;
    } else if (unusedSeen) {
      fail('BAD_VERSIONS', `version slot ${i} is used after an unused slot`);
    } else {
      versions.push(v);
    }
  }
  if (versions.length === 0) fail('BAD_VERSIONS', 'the handshake request offers no version');
  return { versions, attMtu, window };
}

/** Encodes a handshake response (the version's high nibble is reserved and written as 0). */
export function encodeHandshakeResponse(response: HandshakeResponse): Uint8Array {
  const { version } = response;
  if (!Number.isInteger(version) || version < 0 || version > 15) {
    fail('OUT_OF_RANGE', `framing version ${version} is outside 0..15`);
  }
  return new Writer(FramingError)
    .u8(HANDSHAKE_FLAGS)
    .u8(HANDSHAKE_OPCODE)
    .u8(version)
    .u16(response.segmentSize)
    .u8(response.window)
    .finish();
}

/**
 * Decodes a handshake response. Rejects wrong flags or opcode, a set reserved nibble
 * (`BAD_RESERVED`), truncation and trailing bytes. Range checks belong to `checkHandshakeResponse`.
 */
export function decodeHandshakeResponse(bytes: Uint8Array): HandshakeResponse {
  const r = new Reader(bytes, FramingError, 'framing handshake response');
  readHandshakeHeader(r);
  const versionByte = r.u8();
  const segmentSize = r.u16();
  const window = r.u8();
  r.end();
  if (versionByte & 0xf0) {
    fail(
      'BAD_RESERVED',
      `handshake response version byte 0x${versionByte.toString(16)} has reserved bits set`,
    );
  }
  return { version: versionByte, segmentSize, window };
}

/** Encodes a data-phase packet. Throws `FramingError` for a shape the decoder would reject. */
export function encodePacket(packet: BtpPacket): Uint8Array {
  const w = new Writer(FramingError);
  if (packet.kind === 'ack') {
    return w.u8(BtpFlag.Ack).u8(packet.ack).u8(packet.seq).finish();
  }
  const hasAck = packet.ack !== undefined;
  let flags = hasAck ? BtpFlag.Ack : 0;
  if (packet.ending) flags |= BtpFlag.Ending;
  if (packet.kind === 'beginning') {
    flags |= BtpFlag.Beginning;
    if (!packet.ending && packet.payload.length === 0) {
      fail('EMPTY_SEGMENT', 'a beginning segment that does not end the message carries no payload');
    }
  } else if (packet.kind === 'continuing') {
    flags |= BtpFlag.Continuing;
    if (packet.payload.length === 0) fail('EMPTY_SEGMENT', 'a continuing segment carries no payload');
  } else {
    fail('BAD_FLAGS', 'unknown packet kind');
  }
  w.u8(flags);
  if (hasAck) w.u8(packet.ack!);
  w.u8(packet.seq);
  if (packet.kind === 'beginning') w.u16(packet.messageLength);
  return w.bytes(packet.payload).finish();
}

/**
 * Decodes a data-phase packet (anything after the handshake). Rejects (`BAD_FLAGS`): reserved bits,
 * the H or M bit, B with C, E without B or C, a packet with neither data nor ack; a segment that
 * carries no payload when it must (`EMPTY_SEGMENT`); a stand-alone ack with bytes after its
 * sequence number (`TRAILING_BYTES`); truncation (`TRUNCATED`).
 */
export function decodePacket(bytes: Uint8Array): BtpPacket {
  const r = new Reader(bytes, FramingError, 'framing packet');
  const flags = r.u8();
  if (flags & RESERVED_FLAG_BITS) fail('BAD_FLAGS', `packet flags 0x${flags.toString(16)} set reserved bits`);
  if (flags & (BtpFlag.Handshake | BtpFlag.Management)) {
    fail('BAD_FLAGS', `packet flags 0x${flags.toString(16)} mark a handshake or management packet`);
  }
  const beginning = (flags & BtpFlag.Beginning) !== 0;
  const continuing = (flags & BtpFlag.Continuing) !== 0;
  const ending = (flags & BtpFlag.Ending) !== 0;
  const hasAck = (flags & BtpFlag.Ack) !== 0;
  if (beginning && continuing) fail('BAD_FLAGS', 'a packet cannot both begin and continue a message');
  if (ending && !beginning && !continuing) {
    fail('BAD_FLAGS', 'an ending segment must also be a beginning or continuing segment');
  }
  if (!beginning && !continuing && !hasAck) fail('BAD_FLAGS', 'a packet carries neither data nor an ack');
  const ack = hasAck ? r.u8() : undefined;
  const seq = r.u8();
  if (!beginning && !continuing) {
    r.end();
    return { kind: 'ack', ack: ack!, seq };
  }
  if (beginning) {
    const messageLength = r.u16();
    const payload = r.rest();
    if (!ending && payload.length === 0) {
      fail('EMPTY_SEGMENT', 'a beginning segment that does not end the message carries no payload');
    }
    return ack === undefined
      ? { kind: 'beginning', seq, messageLength, ending, payload }
      : { kind: 'beginning', ack, seq, messageLength, ending, payload };
  }
  const payload = r.rest();
  if (payload.length === 0) fail('EMPTY_SEGMENT', 'a continuing segment carries no payload');
  return ack === undefined
    ? { kind: 'continuing', seq, ending, payload }
    : { kind: 'continuing', ack, seq, ending, payload };
}
