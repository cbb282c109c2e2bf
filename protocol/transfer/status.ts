/**
 * Status codes on the wire and the TransferError codes they come from. A refusal is a typed
 * TransferError in code and a TransferAbort (or Done) status on the wire; this is the one mapping.
 */
import { PawLinkError, TransferError } from '../errors.js';
import type { TransferAbort } from './codec.js';
import { TransferStatus } from './constants.js';

/** UPPER_SNAKE name of every known status: the TransferError code with the same meaning. */
const NAMES = new Map<number, string>(
  Object.entries(TransferStatus).map(([k, v]) => [v, k.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()]),
);
const BY_CODE = new Map<string, number>([...NAMES].map(([v, n]) => [n, v]));

/** Stable name of a status code (`HASH_MISMATCH`...), or `UNKNOWN_0x..` for a value we do not know. */
export function transferStatusName(status: number): string {
  return NAMES.get(status) ?? `UNKNOWN_0x${status.toString(16).padStart(2, '0')}`;
}

/**
 * The wire status for an error thrown while handling a transfer. A TransferError whose code names a
 * status maps to it (e.g. UNEXPECTED_OFFSET -> 0x20); decoding errors (TRUNCATED, UNKNOWN_TYPE...)
 * map to MALFORMED; anything else (a bug) maps to UNEXPECTED_MESSAGE.
 */
export function transferStatusFor(error: unknown): number {
  if (error instanceof TransferError) {
    return BY_CODE.get(error.code) ?? TransferStatus.Malformed;
  }
  if (error instanceof PawLinkError) return TransferStatus.Malformed;
  return TransferStatus.UnexpectedMessage;
}

/** The TransferAbort a driver sends after `error` ended transfer `transferId`. */
export function abortFor(transferId: number, error: unknown): TransferAbort {
  return { type: 'TransferAbort', transferId, status: transferStatusFor(error) };
}
