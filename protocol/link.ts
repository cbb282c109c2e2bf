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
