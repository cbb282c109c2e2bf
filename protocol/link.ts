/**
 * The link envelope: every message carried by the framing layer (one BTP SDU) starts with one
 * byte saying which layer it belongs to. The rest is that layer's own encoding. See PROTOCOL.md,
 * "Link envelope".
 */
import { LinkError } from './errors.js';

export const LinkType = {
  /** Pairing messages (SPAKE2+ exchange and the identity exchange). Plaintext envelope. */
  Pairing: 0x01,
  /** Noise IK handshake messages 1 and 2. */
  Handshake: 0x02,
  /** Encrypted session records (application messages and transfers). */
  Record: 0x03,
  /** Plaintext refusal sent before a session exists (Busy, window closed, unknown phone...). */
  Alert: 0x7f,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

const KNOWN = new Set<number>(Object.values(LinkType));

export interface LinkMessage {
  type: LinkType;
  body: Uint8Array;
}

export function encodeLink(type: LinkType, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

export function decodeLink(sdu: Uint8Array): LinkMessage {
  if (sdu.length === 0) throw new LinkError('TRUNCATED', 'empty link message');
  const type = sdu[0]!;
  if (!KNOWN.has(type)) throw new LinkError('UNKNOWN_TYPE', `unknown link type 0x${type.toString(16)}`);
  return { type: type as LinkType, body: sdu.slice(1) };
}

/**
 * Alert codes: the toy's plaintext reason, sent once before it disconnects a central that has no
 * session (there is no key to authenticate anything better). After a session exists, failures
 * close the session and the link without an alert: an unauthenticated alert could be forged.
 */
export const AlertCode = {
  /** Malformed or unexpected message for the connection's state. */
  ProtocolError: 1,
  /** Session refused: the phone's static key is not in the pairing table. */
  UnknownPhone: 2,
  /** No pairing attempt or session within the unauthenticated-connection limit (10 s). */
  AuthTimeout: 3,
} as const;
export type AlertCode = (typeof AlertCode)[keyof typeof AlertCode];
const ALERT_CODES = new Set<number>(Object.values(AlertCode));

export function encodeAlert(code: AlertCode): Uint8Array {
  return encodeLink(LinkType.Alert, Uint8Array.of(code));
}

/** Decodes an Alert body (the envelope byte already removed). */
export function decodeAlert(body: Uint8Array): AlertCode {
  if (body.length !== 1) throw new LinkError('BAD_LENGTH', `alert body must be 1 byte, got ${body.length}`);
  const code = body[0]!;
  if (!ALERT_CODES.has(code)) throw new LinkError('BAD_VALUE', `unknown alert code ${code}`);
  return code as AlertCode;
}
