/**
 * The toy's advertisement service data and its rotating resolvable tag (PROTOCOL.md, "Advertising").
 *
 * A stranger scanning sees the service UUID, a version, a flag byte and 8 bytes that change every
 * 15 minutes: no stable identifier, no name, no owner. A paired phone holds the toy's tag key and
 * recognises its toy by recomputing the MAC over the random part, as BLE resolvable private
 * addresses do (Bluetooth Core 5.4, Vol 3 Part C, 10.8.2), with a 32-bit rather than 24-bit MAC.
 */
import { bytesEqual, concat, Reader, utf8, Writer } from '../bytes.js';
import { hmacSha256 } from '../crypto.js';
import { LinkError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  ADV_FORMAT,
  AdvFlag,
  DISCRIMINATOR_MAX,
  TAG_KEY_LEN,
  TAG_LABEL,
  TAG_MAC_LEN,
  TAG_RANDOM_LEN,
  TAG_ROTATION_MS,
} from './constants.js';

export interface Advertisement {
  version: number;
  pairingWindowOpen: boolean;
  /** random part ‖ truncated MAC; absent while the toy has no pairing (no tag key yet). */
  tag?: Uint8Array;
  /** The 12-bit discriminator printed on the toy: present only while the pairing window is open. */
  discriminator?: number;
}

const TAG_LABEL_BYTES = utf8.encode(TAG_LABEL);

/** Truncated MAC binding a tag's random part to the toy's tag key. */
function tagMac(tagKey: Uint8Array, random: Uint8Array): Uint8Array {
  return hmacSha256(tagKey, TAG_LABEL_BYTES, random).subarray(0, TAG_MAC_LEN);
}

/** A fresh resolvable tag (8 bytes) under `tagKey`. Call once per rotation period. */
export function makeTag(tagKey: Uint8Array, random: RandomSource): Uint8Array {
  if (tagKey.length !== TAG_KEY_LEN) throw new LinkError('BAD_KEY', `tag key must be ${TAG_KEY_LEN} bytes`);
  const rand = random(TAG_RANDOM_LEN);
  return concat(rand, tagMac(tagKey, rand));
}

/** True when `tag` was made under `tagKey` (the phone's test for "is this my toy?"). */
export function resolveTag(tag: Uint8Array, tagKey: Uint8Array): boolean {
  if (tag.length !== TAG_RANDOM_LEN + TAG_MAC_LEN || tagKey.length !== TAG_KEY_LEN) return false;
  return bytesEqual(tagMac(tagKey, tag.subarray(0, TAG_RANDOM_LEN)), tag.subarray(TAG_RANDOM_LEN));
}

/** The rotation period index for a time: the toy makes a new tag whenever it changes. */
export function tagEpoch(now: number): number {
  return Math.floor(now / TAG_ROTATION_MS);
}

export function encodeAdvertisement(adv: Advertisement): Uint8Array {
  const w = new Writer(LinkError).u8(ADV_FORMAT).u8(adv.version);
  let flags = 0;
  if (adv.pairingWindowOpen) flags |= AdvFlag.PairingWindow;
  if (adv.tag) flags |= AdvFlag.Tag;
  w.u8(flags);
  if (adv.tag) {
    if (adv.tag.length !== TAG_RANDOM_LEN + TAG_MAC_LEN)
      throw new LinkError('OUT_OF_RANGE', 'tag must be 8 bytes');
    w.bytes(adv.tag);
  }
  if (adv.discriminator !== undefined) {
    if (!adv.pairingWindowOpen) {
      throw new LinkError(
        'OUT_OF_RANGE',
        'the discriminator is advertised only while the pairing window is open',
      );
    }
    if (
      !Number.isInteger(adv.discriminator) ||
      adv.discriminator < 0 ||
      adv.discriminator > DISCRIMINATOR_MAX
    ) {
      throw new LinkError(
        'OUT_OF_RANGE',
        `discriminator ${adv.discriminator} is outside 0..${DISCRIMINATOR_MAX}`,
      );
    }
    w.u16(adv.discriminator);
  }
  return w.finish();
}

export function decodeAdvertisement(bytes: Uint8Array): Advertisement {
  const r = new Reader(bytes, LinkError, 'advertisement');
  const format = r.u8();
  if (format !== ADV_FORMAT)
    throw new LinkError('UNSUPPORTED_FORMAT', `advertisement format ${format} is not supported`);
  const version = r.u8();
  const flags = r.u8();
  if (flags & ~(AdvFlag.PairingWindow | AdvFlag.Tag)) {
    throw new LinkError('BAD_VALUE', `advertisement flags 0x${flags.toString(16)} has reserved bits set`);
  }
  const pairingWindowOpen = (flags & AdvFlag.PairingWindow) !== 0;
  const adv: Advertisement = { version, pairingWindowOpen };
  if (flags & AdvFlag.Tag) adv.tag = r.bytes(TAG_RANDOM_LEN + TAG_MAC_LEN);
  if (pairingWindowOpen && r.remaining > 0) {
    const d = r.u16();
    if (d > DISCRIMINATOR_MAX)
      throw new LinkError('BAD_VALUE', `discriminator ${d} is outside 0..${DISCRIMINATOR_MAX}`);
    adv.discriminator = d;
  }
  r.end();
  return adv;
}
