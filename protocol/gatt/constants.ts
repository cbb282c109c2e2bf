/**
 * GATT layout and advertising constants (PROTOCOL.md, "GATT layout" and "Advertising").
 *
 * The 128-bit UUIDs are PawLink's own (randomly generated, version 4), numbered like the Nordic
 * UART service: the service ends in ...0001 in its first group, the characteristics follow.
 */
export const SERVICE_UUID = 'a4990001-4bfd-4bef-add0-a8b26841a1b5';
/** Central → toy. Write (framing handshake) and Write Without Response (data segments). */
export const RX_CHAR_UUID = 'a4990002-4bfd-4bef-add0-a8b26841a1b5';
/** Toy → central. Notify. */
export const TX_CHAR_UUID = 'a4990003-4bfd-4bef-add0-a8b26841a1b5';
/** Read, unauthenticated: protocol versions, pairing-window flag, max framing window. */
export const INFO_CHAR_UUID = 'a4990004-4bfd-4bef-add0-a8b26841a1b5';

/** INFO value format version (byte 0 of INFO). */
export const INFO_FORMAT = 1;
/** INFO value length in bytes. */
export const INFO_LENGTH = 5;

/** Advertisement service-data format version (byte 0 of the service data). */
export const ADV_FORMAT = 1;
/** Service-data flag bits. */
export const AdvFlag = {
  /** The pairing window is open (a paw hold or an admin opened it). */
  PairingWindow: 0x01,
  /** A resolvable tag follows (the toy has at least one pairing, so it has a tag key). */
  Tag: 0x02,
} as const;

/** Random part of the resolvable tag, bytes. */
export const TAG_RANDOM_LEN = 4;
/** Truncated HMAC-SHA256 of the random part under the tag key, bytes (32 bits: a stranger's
 * chance of forging a match is 2^-32 per try; BLE resolvable private addresses use 24). */
export const TAG_MAC_LEN = 4;
/** Tag key length, bytes (given to each phone at pairing). */
export const TAG_KEY_LEN = 16;
/** A new random tag every 15 minutes (protocol brief; the BLE Core spec's default RPA timeout). */
export const TAG_ROTATION_MS = 15 * 60 * 1000;
/** The discriminator printed on the toy's tag: 12 bits, advertised only while the window is open. */
export const DISCRIMINATOR_MAX = 0xfff;
/** Domain-separation label for the tag MAC. */
export const TAG_LABEL = 'PawLink tag v1';

/**
 * The longest service data this format produces: format (1), version (1), flags (1), tag (8),
 * discriminator (2) = 13. A legacy scan response holds 31 bytes; AD type 0x21 (128-bit service
 * data) spends 2 on length and type and 16 on the UUID, leaving exactly 13.
 */
export const ADV_SERVICE_DATA_MAX = 13;
