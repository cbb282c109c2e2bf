/**
 * The INFO characteristic: the only value a central can read before authenticating. It says which
 * protocol versions the toy speaks, whether its pairing window is open, and its largest framing
 * window, and nothing else: no name, no owner, no volume, no state (ETSI EN 303 645 provision 5.6).
 */
import { Reader, Writer } from '../bytes.js';
import { LinkError } from '../errors.js';
import { INFO_FORMAT } from './constants.js';

export interface ToyInfo {
  minVersion: number;
  maxVersion: number;
  pairingWindowOpen: boolean;
  /** Largest framing window the toy offers (3–32). */
  maxWindow: number;
}

export function encodeInfo(info: ToyInfo): Uint8Array {
  if (info.minVersion > info.maxVersion) {
    throw new LinkError('OUT_OF_RANGE', 'INFO minVersion is above maxVersion');
  }
  if (info.maxWindow < 3 || info.maxWindow > 32) {
    throw new LinkError('OUT_OF_RANGE', `INFO maxWindow ${info.maxWindow} is outside 3..32`);
  }
  return new Writer(LinkError)
    .u8(INFO_FORMAT)
    .u8(info.minVersion)
    .u8(info.maxVersion)
    .u8(info.pairingWindowOpen ? 1 : 0)
    .u8(info.maxWindow)
    .finish();
}

export function decodeInfo(bytes: Uint8Array): ToyInfo {
  const r = new Reader(bytes, LinkError, 'INFO');
  const format = r.u8();
  if (format !== INFO_FORMAT)
    throw new LinkError('UNSUPPORTED_FORMAT', `INFO format ${format} is not supported`);
  const minVersion = r.u8();
  const maxVersion = r.u8();
  const flags = r.u8();
  const maxWindow = r.u8();
  r.end();
  if (minVersion > maxVersion) throw new LinkError('BAD_VALUE', 'INFO minVersion is above maxVersion');
  if (flags & ~1)
    throw new LinkError('BAD_VALUE', `INFO flags 0x${flags.toString(16)} has reserved bits set`);
  if (maxWindow < 3 || maxWindow > 32)
    throw new LinkError('BAD_VALUE', `INFO maxWindow ${maxWindow} is outside 3..32`);
  return { minVersion, maxVersion, pairingWindowOpen: flags === 1, maxWindow };
}
