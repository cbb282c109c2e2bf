/**
 * Pairing messages: the body of a link message of type `LinkType.Pairing`. The first byte is the
 * pairing message type; names follow Matter's PASE (PbkdfParamRequest, PbkdfParamResponse, Pake1,
 * Pake2, Pake3) plus PawLink's encrypted identity exchange and a status message. All integers are
 * little-endian. PROTOCOL.md, Pairing: "Pairing messages" has the byte tables.
 *
 * Decoders check structure and ranges only and throw `PairingError` (codes `TRUNCATED`,
 * `TRAILING_BYTES`, `UNKNOWN_MESSAGE_TYPE`, `BAD_VALUE`, `BAD_UTF8`); whether a share is a valid
 * curve point is checked by spake2plus.ts when it is used.
 */
import { Reader, utf8, Writer } from '../bytes.js';
import { AEAD_TAG_LEN } from '../crypto.js';
import { PairingError } from '../errors.js';
import {
  CONFIRM_LEN,
  DEVICE_ID_LEN,
  NAME_MAX_BYTES,
  NONCE_LEN,
  PBKDF_ITERATIONS_MAX,
  PBKDF_ITERATIONS_MIN,
  PBKDF_SALT_MAX,
  PBKDF_SALT_MIN,
  POINT_LEN,
  POINT_UNCOMPRESSED_PREFIX,
  STATIC_KEY_LEN,
  TAG_KEY_LEN,
} from './constants.js';
import { type Role, RoleCode, roleFromCode } from './table.js';

/** Pairing message types (first byte of the Pairing body). Numbered like Matter's PASE opcodes. */
export const PairingMessageType = {
  PbkdfParamRequest: 0x20,
  PbkdfParamResponse: 0x21,
  Pake1: 0x22,
  Pake2: 0x23,
  Pake3: 0x24,
  PhoneIdentity: 0x25,
  ToyIdentity: 0x26,
  PairingStatus: 0x40,
} as const;
export type PairingMessageType = (typeof PairingMessageType)[keyof typeof PairingMessageType];

/**
 * Numeric status codes carried by PairingStatus. 0 is reserved and never valid, so that a zeroed
 * buffer can never read as anything. Each maps to the `PairingError` code of the same name.
 */
export const PairingStatusCode = {
  /** Another pairing attempt is in progress on another connection. */
  Busy: 0x01,
  /** The pairing window is closed (no paw hold, no admin invitation, or it expired). */
  WindowClosed: 0x02,
  /** 100 failed attempts in the toy's lifetime: pairing is locked until factory reset. */
  Locked: 0x03,
  /** A key confirmation (confirmP or confirmV) did not verify: wrong code or a man in the middle. */
  BadConfirmation: 0x04,
  /** The pairing table already holds 16 phones. */
  TableFull: 0x05,
  /** The attempt took longer than 30 s. */
  Timeout: 0x06,
  /** The PbkdfParamRequest asked for a pairing version the toy does not speak. */
  UnsupportedVersion: 0x07,
  /** A message of the attempt could not be used (invalid share, identity that does not decrypt). */
  InvalidMessage: 0x08,
  /** The sender gave up the attempt (user cancelled, local error). */
  Aborted: 0x09,
} as const;
export type PairingStatusCode = (typeof PairingStatusCode)[keyof typeof PairingStatusCode];

/** The `PairingError` code for each wire status code. */
export const STATUS_ERROR_CODES: Readonly<Record<PairingStatusCode, string>> = Object.freeze({
  [PairingStatusCode.Busy]: 'BUSY',
  [PairingStatusCode.WindowClosed]: 'WINDOW_CLOSED',
  [PairingStatusCode.Locked]: 'LOCKED',
  [PairingStatusCode.BadConfirmation]: 'BAD_CONFIRMATION',
  [PairingStatusCode.TableFull]: 'TABLE_FULL',
  [PairingStatusCode.Timeout]: 'TIMEOUT',
  [PairingStatusCode.UnsupportedVersion]: 'UNSUPPORTED_VERSION',
  [PairingStatusCode.InvalidMessage]: 'INVALID_MESSAGE',
  [PairingStatusCode.Aborted]: 'ABORTED',
});
const STATUS_CODES = new Set<number>(Object.values(PairingStatusCode));

/** Phone → toy. Starts an attempt. */
export interface PbkdfParamRequest {
  readonly type: typeof PairingMessageType.PbkdfParamRequest;
  /** Pairing protocol version the phone speaks (1). */
  readonly version: number;
  /** 32 fresh random bytes: makes the SPAKE2+ Context unique to this attempt. */
  readonly phoneRandom: Uint8Array;
}

/** Toy → phone. The PBKDF2 parameters the toy's verifier was made with. */
export interface PbkdfParamResponse {
  readonly type: typeof PairingMessageType.PbkdfParamResponse;
  /** Echo of the request's phoneRandom. */
  readonly phoneRandom: Uint8Array;
  readonly toyRandom: Uint8Array;
  /** PBKDF2 iterations, 1000..100000. */
  readonly iterations: number;
  /** PBKDF2 salt, 16..32 bytes. */
  readonly salt: Uint8Array;
}

/** Phone → toy. shareP = X. */
export interface Pake1 {
  readonly type: typeof PairingMessageType.Pake1;
  readonly shareP: Uint8Array;
}

/** Toy → phone. shareV = Y and confirmV = HMAC(K_confirmV, shareP). */
export interface Pake2 {
  readonly type: typeof PairingMessageType.Pake2;
  readonly shareV: Uint8Array;
  readonly confirmV: Uint8Array;
}

/** Phone → toy. confirmP = HMAC(K_confirmP, shareV). */
export interface Pake3 {
  readonly type: typeof PairingMessageType.Pake3;
  readonly confirmP: Uint8Array;
}

/** Phone → toy. The phone's identity, sealed under the phone-to-toy identity key. */
export interface PhoneIdentity {
  readonly type: typeof PairingMessageType.PhoneIdentity;
  /** ChaCha20-Poly1305 ciphertext ‖ 16-byte tag of a PhoneIdentityPayload. */
  readonly sealed: Uint8Array;
}

/** Toy → phone. The toy's identity, sealed under the toy-to-phone identity key. */
export interface ToyIdentity {
  readonly type: typeof PairingMessageType.ToyIdentity;
  /** ChaCha20-Poly1305 ciphertext ‖ 16-byte tag of a ToyIdentityPayload. */
  readonly sealed: Uint8Array;
}

/** Either direction. Ends the attempt with a reason. */
export interface PairingStatus {
  readonly type: typeof PairingMessageType.PairingStatus;
  readonly code: PairingStatusCode;
}

export type PairingMessage =
  | PbkdfParamRequest
  | PbkdfParamResponse
  | Pake1
  | Pake2
  | Pake3
  | PhoneIdentity
  | ToyIdentity
  | PairingStatus;

/** PhoneIdentity plaintext. */
export interface PhoneIdentityPayload {
  readonly phoneId: Uint8Array;
  readonly phoneStaticPublicKey: Uint8Array;
  /** At most 32 UTF-8 bytes; may be empty. */
  readonly name: string;
}

/** ToyIdentity plaintext. */
export interface ToyIdentityPayload {
  readonly toyId: Uint8Array;
  readonly toyStaticPublicKey: Uint8Array;
  /** The advertising tag key (PROTOCOL.md, "Advertising"). */
  readonly tagKey: Uint8Array;
  /** The role the toy granted this phone. */
  readonly role: Role;
}

const PHONE_IDENTITY_MIN = DEVICE_ID_LEN + STATIC_KEY_LEN + 1;
const PHONE_IDENTITY_MAX = PHONE_IDENTITY_MIN + NAME_MAX_BYTES;
const TOY_IDENTITY_LEN = DEVICE_ID_LEN + STATIC_KEY_LEN + TAG_KEY_LEN + 1;
/** Sealed PhoneIdentity size range, bytes (65..97). */
export const PHONE_IDENTITY_SEALED_MIN = PHONE_IDENTITY_MIN + AEAD_TAG_LEN;
export const PHONE_IDENTITY_SEALED_MAX = PHONE_IDENTITY_MAX + AEAD_TAG_LEN;
/** Sealed ToyIdentity size, bytes (81). */
export const TOY_IDENTITY_SEALED_LEN = TOY_IDENTITY_LEN + AEAD_TAG_LEN;

function bad(message: string): PairingError {
  return new PairingError('BAD_VALUE', message);
}

function expectLength(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw bad(`${what} must be ${n} bytes, got ${b.length}`);
}

function checkPoint(b: Uint8Array, what: string): void {
  expectLength(b, POINT_LEN, what);
  if (b[0] !== POINT_UNCOMPRESSED_PREFIX) throw bad(`${what} must be a SEC1 uncompressed point`);
}

function checkIterations(iterations: number): void {
  if (
    !Number.isInteger(iterations) ||
    iterations < PBKDF_ITERATIONS_MIN ||
    iterations > PBKDF_ITERATIONS_MAX
  ) {
    throw bad(`iterations must be ${PBKDF_ITERATIONS_MIN}..${PBKDF_ITERATIONS_MAX}`);
  }
}

function checkSalt(salt: Uint8Array): void {
  if (salt.length < PBKDF_SALT_MIN || salt.length > PBKDF_SALT_MAX) {
    throw bad(`salt must be ${PBKDF_SALT_MIN}..${PBKDF_SALT_MAX} bytes`);
  }
}

function checkSealedPhone(sealed: Uint8Array): void {
  if (sealed.length < PHONE_IDENTITY_SEALED_MIN || sealed.length > PHONE_IDENTITY_SEALED_MAX) {
    throw bad(
      `sealed PhoneIdentity must be ${PHONE_IDENTITY_SEALED_MIN}..${PHONE_IDENTITY_SEALED_MAX} bytes`,
    );
  }
}

/** Encodes a pairing message (validating every field as the decoder would). @throws PairingError. */
export function encodePairingMessage(m: PairingMessage): Uint8Array {
  const w = new Writer(PairingError).u8(m.type);
  switch (m.type) {
    case PairingMessageType.PbkdfParamRequest:
      if (!Number.isInteger(m.version) || m.version < 1 || m.version > 0xff)
        throw bad('version must be 1..255');
      expectLength(m.phoneRandom, NONCE_LEN, 'phoneRandom');
      return w.u8(m.version).bytes(m.phoneRandom).finish();
    case PairingMessageType.PbkdfParamResponse:
      expectLength(m.phoneRandom, NONCE_LEN, 'phoneRandom');
      expectLength(m.toyRandom, NONCE_LEN, 'toyRandom');
      checkIterations(m.iterations);
      checkSalt(m.salt);
      return w.bytes(m.phoneRandom).bytes(m.toyRandom).u32(m.iterations).bytes8(m.salt).finish();
    case PairingMessageType.Pake1:
      checkPoint(m.shareP, 'shareP');
      return w.bytes(m.shareP).finish();
    case PairingMessageType.Pake2:
      checkPoint(m.shareV, 'shareV');
      expectLength(m.confirmV, CONFIRM_LEN, 'confirmV');
      return w.bytes(m.shareV).bytes(m.confirmV).finish();
    case PairingMessageType.Pake3:
      expectLength(m.confirmP, CONFIRM_LEN, 'confirmP');
      return w.bytes(m.confirmP).finish();
    case PairingMessageType.PhoneIdentity:
      checkSealedPhone(m.sealed);
      return w.bytes(m.sealed).finish();
    case PairingMessageType.ToyIdentity:
      expectLength(m.sealed, TOY_IDENTITY_SEALED_LEN, 'sealed ToyIdentity');
      return w.bytes(m.sealed).finish();
    case PairingMessageType.PairingStatus:
      if (!STATUS_CODES.has(m.code)) throw bad(`unknown status code ${m.code}`);
      return w.u8(m.code).finish();
    default:
      throw new PairingError('UNKNOWN_MESSAGE_TYPE', 'unknown pairing message type');
  }
}

/**
 * Decodes a Pairing body. Everything is copied out of `body`.
 * @throws PairingError `TRUNCATED`, `TRAILING_BYTES`, `UNKNOWN_MESSAGE_TYPE` or `BAD_VALUE`.
 */
export function decodePairingMessage(body: Uint8Array): PairingMessage {
  const r = new Reader(body, PairingError, 'pairing message');
  const type = r.u8();
  let m: PairingMessage;
  switch (type) {
    case PairingMessageType.PbkdfParamRequest: {
      const version = r.u8();
      if (version === 0) throw bad('version 0 is reserved');
      m = { type, version, phoneRandom: r.bytes(NONCE_LEN) };
      break;
    }
    case PairingMessageType.PbkdfParamResponse: {
      const phoneRandom = r.bytes(NONCE_LEN);
      const toyRandom = r.bytes(NONCE_LEN);
      const iterations = r.u32();
      checkIterations(iterations);
      const salt = r.bytes(r.u8());
      checkSalt(salt);
      m = { type, phoneRandom, toyRandom, iterations, salt };
      break;
    }
    case PairingMessageType.Pake1: {
      const shareP = r.bytes(POINT_LEN);
      checkPoint(shareP, 'shareP');
      m = { type, shareP };
      break;
    }
    case PairingMessageType.Pake2: {
      const shareV = r.bytes(POINT_LEN);
      checkPoint(shareV, 'shareV');
      m = { type, shareV, confirmV: r.bytes(CONFIRM_LEN) };
      break;
    }
    case PairingMessageType.Pake3:
      m = { type, confirmP: r.bytes(CONFIRM_LEN) };
      break;
    case PairingMessageType.PhoneIdentity: {
      const sealed = r.rest();
      checkSealedPhone(sealed);
      m = { type, sealed };
      break;
    }
    case PairingMessageType.ToyIdentity: {
      const sealed = r.rest();
      expectLength(sealed, TOY_IDENTITY_SEALED_LEN, 'sealed ToyIdentity');
      m = { type, sealed };
      break;
    }
    case PairingMessageType.PairingStatus: {
      const code = r.u8();
      if (!STATUS_CODES.has(code)) throw bad(`unknown status code ${code}`);
      m = { type, code: code as PairingStatusCode };
      break;
    }
    default:
      throw new PairingError('UNKNOWN_MESSAGE_TYPE', `unknown pairing message type 0x${type.toString(16)}`);
  }
  r.end();
  return m;
}

/** Encodes the PhoneIdentity plaintext. @throws PairingError `BAD_VALUE`. */
export function encodePhoneIdentityPayload(p: PhoneIdentityPayload): Uint8Array {
  expectLength(p.phoneId, DEVICE_ID_LEN, 'phoneId');
  expectLength(p.phoneStaticPublicKey, STATIC_KEY_LEN, 'phone static key');
  const name = utf8.encode(p.name);
  if (name.length > NAME_MAX_BYTES) throw bad(`name longer than ${NAME_MAX_BYTES} UTF-8 bytes`);
  return new Writer(PairingError).bytes(p.phoneId).bytes(p.phoneStaticPublicKey).bytes8(name).finish();
}

/** Decodes the PhoneIdentity plaintext. @throws PairingError. */
export function decodePhoneIdentityPayload(b: Uint8Array): PhoneIdentityPayload {
  const r = new Reader(b, PairingError, 'PhoneIdentity');
  const phoneId = r.bytes(DEVICE_ID_LEN);
  const phoneStaticPublicKey = r.bytes(STATIC_KEY_LEN);
  const nameLen = r.u8();
  if (nameLen > NAME_MAX_BYTES) throw bad(`name longer than ${NAME_MAX_BYTES} bytes`);
  const name = utf8.decode(r.bytes(nameLen), PairingError);
  r.end();
  return { phoneId, phoneStaticPublicKey, name };
}

/** Encodes the ToyIdentity plaintext. @throws PairingError `BAD_VALUE`. */
export function encodeToyIdentityPayload(p: ToyIdentityPayload): Uint8Array {
  expectLength(p.toyId, DEVICE_ID_LEN, 'toyId');
  expectLength(p.toyStaticPublicKey, STATIC_KEY_LEN, 'toy static key');
  expectLength(p.tagKey, TAG_KEY_LEN, 'tagKey');
  return new Writer(PairingError)
    .bytes(p.toyId)
    .bytes(p.toyStaticPublicKey)
    .bytes(p.tagKey)
    .u8(RoleCode[p.role])
    .finish();
}

/** Decodes the ToyIdentity plaintext. @throws PairingError (`BAD_ROLE` for an unknown role). */
export function decodeToyIdentityPayload(b: Uint8Array): ToyIdentityPayload {
  const r = new Reader(b, PairingError, 'ToyIdentity');
  const toyId = r.bytes(DEVICE_ID_LEN);
  const toyStaticPublicKey = r.bytes(STATIC_KEY_LEN);
  const tagKey = r.bytes(TAG_KEY_LEN);
  const role = roleFromCode(r.u8());
  r.end();
  return { toyId, toyStaticPublicKey, tagKey, role };
}
