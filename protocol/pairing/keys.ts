/**
 * What the pairing layer builds around SPAKE2+: the Context that binds the negotiation, the fixed
 * role identities, and the two single-use keys that protect the identity exchange.
 * PROTOCOL.md, Pairing: "Identities and context", "Identity exchange".
 */
import { utf8 } from '../bytes.js';
import { AEAD_NONCE_LEN, aeadOpen, aeadSeal, hkdfSha256, sha256 } from '../crypto.js';
import { PairingError } from '../errors.js';
import { CONTEXT_LABEL, ID_PROVER, ID_VERIFIER, INFO_IDENTITY_KEYS, KEY_LEN } from './constants.js';
import {
  decodePhoneIdentityPayload,
  decodeToyIdentityPayload,
  encodePhoneIdentityPayload,
  encodeToyIdentityPayload,
  PairingMessageType,
  type PhoneIdentityPayload,
  type ToyIdentityPayload,
} from './messages.js';
import { deriveScalars, type Spake2PlusParties } from './spake2plus.js';

/** idProver as bytes: the ASCII role label `ID_PROVER`. */
export const ID_PROVER_BYTES: Uint8Array = utf8.encode(ID_PROVER);
/** idVerifier as bytes: the ASCII role label `ID_VERIFIER`. */
export const ID_VERIFIER_BYTES: Uint8Array = utf8.encode(ID_VERIFIER);

/**
 * SPAKE2+ Context = SHA-256(CONTEXT_LABEL ‖ PbkdfParamRequest body ‖ PbkdfParamResponse body), the
 * bodies exactly as sent (type byte included, link envelope byte excluded). Binds both randoms, the
 * version and the PBKDF2 parameters into TT, as Matter's PASE does with its own label.
 */
export function pairingContext(requestBody: Uint8Array, responseBody: Uint8Array): Uint8Array {
  return sha256(utf8.encode(CONTEXT_LABEL), requestBody, responseBody);
}

/** The SPAKE2+ parties for a PawLink attempt: the Context above and the fixed role identities. */
export function pairingParties(context: Uint8Array): Spake2PlusParties {
  return { context, idProver: ID_PROVER_BYTES, idVerifier: ID_VERIFIER_BYTES };
}

/**
 * w0 and w1 for a canonical setup code (8 ASCII digits, as returned by parseSetupCode): the
 * password is the digits' ASCII bytes, the identities the role labels (RFC 9383 §3.2 input layout).
 * @throws PairingError `BAD_PBKDF_PARAMS`.
 */
export function deriveSetupScalars(
  canonicalCode: string,
  salt: Uint8Array,
  iterations: number,
): { w0: bigint; w1: bigint } {
  return deriveScalars(utf8.encode(canonicalCode), salt, iterations, ID_PROVER_BYTES, ID_VERIFIER_BYTES);
}

/** One key per direction for the identity exchange. */
export interface IdentityKeys {
  /** Seals PhoneIdentity. */
  readonly phoneToToy: Uint8Array;
  /** Seals ToyIdentity. */
  readonly toyToPhone: Uint8Array;
}

/**
 * phoneToToy ‖ toyToPhone = HKDF-SHA256(ikm = K_shared, salt = empty, info = INFO_IDENTITY_KEYS, 64).
 * K_shared is fresh per attempt (x and y are), each key seals exactly one message, so the all-zero
 * nonce is never used twice under one key.
 */
export function deriveIdentityKeys(kShared: Uint8Array): IdentityKeys {
  const okm = hkdfSha256(kShared, new Uint8Array(0), utf8.encode(INFO_IDENTITY_KEYS), 2 * KEY_LEN);
  return { phoneToToy: okm.slice(0, KEY_LEN), toyToPhone: okm.slice(KEY_LEN) };
}

const ZERO_NONCE = new Uint8Array(AEAD_NONCE_LEN);
const AD_PHONE = Uint8Array.of(PairingMessageType.PhoneIdentity);
const AD_TOY = Uint8Array.of(PairingMessageType.ToyIdentity);

/** ChaCha20-Poly1305(phoneToToy, nonce 0, ad = type byte 0x25) over the PhoneIdentity plaintext. */
export function sealPhoneIdentity(keys: IdentityKeys, payload: PhoneIdentityPayload): Uint8Array {
  return aeadSeal(keys.phoneToToy, ZERO_NONCE, encodePhoneIdentityPayload(payload), AD_PHONE);
}

/** Opens and decodes a sealed PhoneIdentity. @throws PairingError `DECRYPT_FAILED` or a decode error. */
export function openPhoneIdentity(keys: IdentityKeys, sealed: Uint8Array): PhoneIdentityPayload {
  const plain = aeadOpen(keys.phoneToToy, ZERO_NONCE, sealed, AD_PHONE);
  if (!plain) throw new PairingError('DECRYPT_FAILED', 'PhoneIdentity does not authenticate');
  return decodePhoneIdentityPayload(plain);
}

/** ChaCha20-Poly1305(toyToPhone, nonce 0, ad = type byte 0x26) over the ToyIdentity plaintext. */
export function sealToyIdentity(keys: IdentityKeys, payload: ToyIdentityPayload): Uint8Array {
  return aeadSeal(keys.toyToPhone, ZERO_NONCE, encodeToyIdentityPayload(payload), AD_TOY);
}

/** Opens and decodes a sealed ToyIdentity. @throws PairingError `DECRYPT_FAILED` or a decode error. */
export function openToyIdentity(keys: IdentityKeys, sealed: Uint8Array): ToyIdentityPayload {
  const plain = aeadOpen(keys.toyToPhone, ZERO_NONCE, sealed, AD_TOY);
  if (!plain) throw new PairingError('DECRYPT_FAILED', 'ToyIdentity does not authenticate');
  return decodeToyIdentityPayload(plain);
}

/** Secrets of one attempt, handed to an optional key log (test vectors, debugging; never in production). */
export interface PairingSecrets {
  readonly side: 'phone' | 'toy';
  readonly context: Uint8Array;
  readonly w0: Uint8Array;
  /** The phone's w1 (absent on the toy, which never knows it). */
  readonly w1?: Uint8Array;
  /** x on the phone, y on the toy, 32 bytes big-endian. */
  readonly ephemeral: Uint8Array;
  readonly shareP: Uint8Array;
  readonly shareV: Uint8Array;
  readonly Z: Uint8Array;
  readonly V: Uint8Array;
  readonly TT: Uint8Array;
  readonly kMain: Uint8Array;
  readonly kConfirmP: Uint8Array;
  readonly kConfirmV: Uint8Array;
  readonly kShared: Uint8Array;
  readonly confirmP: Uint8Array;
  readonly confirmV: Uint8Array;
  readonly phoneToToy: Uint8Array;
  readonly toyToPhone: Uint8Array;
}

/** Receives an attempt's secrets once the key schedule ran. */
export type KeyLog = (secrets: PairingSecrets) => void;
