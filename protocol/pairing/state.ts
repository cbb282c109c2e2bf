/**
 * The toy's persisted pairing state: manufacturing data (discriminator, SPAKE2+ verifier), the toy's
 * public identity, the lifetime failure counter, the pairing table and the advertising tag key.
 * Plus its versioned binary encoding (PROTOCOL.md, "Persisted pairing state") and the helpers that
 * make one.
 *
 * The toy never stores the setup code: only w0 and L (RFC 9383 §3.2), with the salt and iteration
 * count the phone needs to derive the same w0 and w1.
 */
import { bytesEqual, Reader, utf8, Writer } from '../bytes.js';
import { sha256 } from '../crypto.js';
import { PairingError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  DEVICE_ID_LEN,
  DISCRIMINATOR_MAX,
  LIFETIME_MAX_FAILURES,
  MAX_PAIRINGS,
  NAME_MAX_BYTES,
  PBKDF_ITERATIONS_DEFAULT,
  PBKDF_SALT_MAX,
  POINT_LEN,
  SCALAR_LEN,
  STATE_CHECKSUM_LEN,
  STATE_MAGIC,
  STATE_VERSION,
  STATIC_KEY_LEN,
  TAG_KEY_LEN,
} from './constants.js';
import { deriveSetupScalars } from './keys.js';
import { generateDiscriminator, generateSetupCode, parseSetupCode } from './setup-code.js';
import { checkPbkdfParams, computeL, decodePoint, scalarFromBytes, scalarToBytes } from './spake2plus.js';
import {
  checkEntry,
  type PairingEntry,
  type PairingTable,
  ROLE_PROVISIONAL_BIT,
  RoleCode,
  roleFromCode,
} from './table.js';

/** What the toy keeps instead of the setup code. */
export interface PairingVerifier {
  /** w0 as 32 big-endian bytes. */
  readonly w0: Uint8Array;
  /** L = w1·P, SEC1 uncompressed (65 bytes). */
  readonly L: Uint8Array;
  /** PBKDF2 salt, 16..32 bytes. */
  readonly salt: Uint8Array;
  /** PBKDF2 iterations, 1000..100000. */
  readonly iterations: number;
}

export interface ToyPairingState {
  /** 12-bit discriminator printed on the tag next to the setup code. Survives factory reset. */
  readonly discriminator: number;
  /** SPAKE2+ verifier for the printed setup code. Survives factory reset. */
  readonly verifier: PairingVerifier;
  /** 16 random bytes; new at every factory reset. */
  readonly toyId: Uint8Array;
  /** The toy's static X25519 public key (its private key belongs to the session layer's storage). */
  readonly toyStaticPublicKey: Uint8Array;
  /** Pake1 messages answered without a valid Pake3 following, 0..100. 100 = locked. */
  readonly lifetimeFailures: number;
  readonly pairings: PairingTable;
  /** Advertising tag key: present exactly when the table is not empty (created at the first pairing). */
  readonly tagKey?: Uint8Array;
}

/**
 * Manufacture / first start: the verifier for `setupCode`. The code is normalised and checked
 * (forbidden codes refused); then w0, w1 per RFC 9383 §3.2 with PBKDF2-SHA256 and L = w1·P.
 * @throws PairingError `BAD_SETUP_CODE`, `FORBIDDEN_SETUP_CODE` or `BAD_PBKDF_PARAMS`.
 */
export function makeVerifier(setupCode: string, salt: Uint8Array, iterations: number): PairingVerifier {
  const code = parseSetupCode(setupCode);
  checkPbkdfParams(salt, iterations);
  const { w0, w1 } = deriveSetupScalars(code, salt, iterations);
  return { w0: scalarToBytes(w0), L: computeL(w1), salt: salt.slice(), iterations };
}

/**
 * Everything a factory line makes for one toy: a fresh random setup code and discriminator to print
 * on the tag, and the verifier to store (salt of `saltLength` random bytes, default 32).
 */
export function provisionToy(
  random: RandomSource,
  options: { iterations?: number; saltLength?: number } = {},
): { setupCode: string; discriminator: number; verifier: PairingVerifier } {
  const setupCode = generateSetupCode(random);
  const discriminator = generateDiscriminator(random);
  const salt = random(options.saltLength ?? PBKDF_SALT_MAX);
  return {
    setupCode,
    discriminator,
    verifier: makeVerifier(setupCode, salt, options.iterations ?? PBKDF_ITERATIONS_DEFAULT),
  };
}

/** A fresh state with no pairings, a new random toy id and no tag key. @throws PairingError `BAD_STATE`. */
export function createToyPairingState(
  init: { discriminator: number; verifier: PairingVerifier; toyStaticPublicKey: Uint8Array },
  random: RandomSource,
): ToyPairingState {
  const state: ToyPairingState = {
    discriminator: init.discriminator,
    verifier: init.verifier,
    toyId: random(DEVICE_ID_LEN),
    toyStaticPublicKey: init.toyStaticPublicKey.slice(),
    lifetimeFailures: 0,
    pairings: [],
  };
  checkToyPairingState(state);
  return state;
}

/**
 * Factory reset: keeps only what is printed on the toy (discriminator, verifier of the setup code);
 * a new toy id, the new static key the caller generated, no pairings, no tag key, counter at 0.
 */
export function factoryResetState(
  state: ToyPairingState,
  toyStaticPublicKey: Uint8Array,
  random: RandomSource,
): ToyPairingState {
  return createToyPairingState(
    { discriminator: state.discriminator, verifier: state.verifier, toyStaticPublicKey },
    random,
  );
}

function invalid(message: string): PairingError {
  return new PairingError('BAD_STATE', message);
}

/** Checks every invariant of a state. @throws PairingError `BAD_STATE`. */
export function checkToyPairingState(s: ToyPairingState): void {
  if (!Number.isInteger(s.discriminator) || s.discriminator < 0 || s.discriminator > DISCRIMINATOR_MAX) {
    throw invalid('discriminator outside 0..4095');
  }
  try {
    checkPbkdfParams(s.verifier.salt, s.verifier.iterations);
    scalarFromBytes(s.verifier.w0);
    decodePoint(s.verifier.L);
  } catch (e) {
    throw invalid(`bad verifier: ${(e as Error).message}`);
  }
  if (s.toyId.length !== DEVICE_ID_LEN) throw invalid(`toy id must be ${DEVICE_ID_LEN} bytes`);
  if (s.toyStaticPublicKey.length !== STATIC_KEY_LEN)
    throw invalid(`toy static key must be ${STATIC_KEY_LEN} bytes`);
  if (
    !Number.isInteger(s.lifetimeFailures) ||
    s.lifetimeFailures < 0 ||
    s.lifetimeFailures > LIFETIME_MAX_FAILURES
  ) {
    throw invalid(`lifetime failures outside 0..${LIFETIME_MAX_FAILURES}`);
  }
  if (s.pairings.length > MAX_PAIRINGS) throw invalid(`more than ${MAX_PAIRINGS} pairings`);
  for (const [i, e] of s.pairings.entries()) {
    try {
      checkEntry(e);
    } catch (err) {
      throw invalid(`pairing ${i}: ${(err as Error).message}`);
    }
    for (const other of s.pairings.slice(0, i)) {
      if (
        bytesEqual(other.phoneId, e.phoneId) ||
        bytesEqual(other.phoneStaticPublicKey, e.phoneStaticPublicKey)
      ) {
        throw invalid(`pairing ${i} duplicates another phone id or static key`);
      }
    }
  }
  if (s.pairings.length > 0 && !s.pairings.some((e) => e.role === 'admin')) {
    throw invalid('a non-empty pairing table needs an admin');
  }
  if (s.pairings.length > 0) {
    if (s.tagKey?.length !== TAG_KEY_LEN) throw invalid(`tag key must be ${TAG_KEY_LEN} bytes when paired`);
  } else if (s.tagKey !== undefined) {
    throw invalid('no tag key without pairings');
  }
}

const HEADER_LEN = STATE_MAGIC.length + 1;

/** The persisted binary form (PROTOCOL.md, "Persisted pairing state"). @throws PairingError `BAD_STATE`. */
export function encodeToyPairingState(s: ToyPairingState): Uint8Array {
  checkToyPairingState(s);
  const w = new Writer(PairingError)
    .bytes(STATE_MAGIC)
    .u8(STATE_VERSION)
    .u16(s.discriminator)
    .u32(s.verifier.iterations)
    .bytes8(s.verifier.salt)
    .bytes(s.verifier.w0)
    .bytes(s.verifier.L)
    .bytes(s.toyId)
    .bytes(s.toyStaticPublicKey)
    .u8(s.lifetimeFailures)
    .u8(s.pairings.length);
  if (s.tagKey) w.bytes(s.tagKey);
  for (const e of s.pairings) {
    const roleByte = RoleCode[e.role] | (e.provisional ? ROLE_PROVISIONAL_BIT : 0);
    w.bytes(e.phoneId).bytes(e.phoneStaticPublicKey).u8(roleByte).bytes8(utf8.encode(e.name));
  }
  const body = w.finish();
  return new Writer(PairingError).bytes(body).bytes(sha256(body).subarray(0, STATE_CHECKSUM_LEN)).finish();
}

/**
 * Reads a persisted state. Any damage (truncation, wrong magic, checksum mismatch, a field out of
 * range, a broken invariant) is `PairingError('CORRUPT_STATE')`; a state written by a newer format
 * is `UNSUPPORTED_STATE_VERSION`. Never returns a partly valid state.
 */
export function decodeToyPairingState(bytes: Uint8Array): ToyPairingState {
  if (bytes.length < HEADER_LEN + STATE_CHECKSUM_LEN) {
    throw new PairingError('CORRUPT_STATE', 'pairing state truncated');
  }
  if (!bytesEqual(bytes.subarray(0, STATE_MAGIC.length), STATE_MAGIC)) {
    throw new PairingError('CORRUPT_STATE', 'not a pairing state (bad magic)');
  }
  if (bytes[STATE_MAGIC.length] !== STATE_VERSION) {
    throw new PairingError(
      'UNSUPPORTED_STATE_VERSION',
      `pairing state format ${bytes[STATE_MAGIC.length]} is not supported`,
    );
  }
  const body = bytes.subarray(0, bytes.length - STATE_CHECKSUM_LEN);
  const checksum = bytes.subarray(bytes.length - STATE_CHECKSUM_LEN);
  if (!bytesEqual(sha256(body).subarray(0, STATE_CHECKSUM_LEN), checksum)) {
    throw new PairingError('CORRUPT_STATE', 'pairing state checksum mismatch');
  }
  try {
    const r = new Reader(body, PairingError, 'pairing state');
    r.bytes(HEADER_LEN);
    const discriminator = r.u16();
    const iterations = r.u32();
    const salt = r.bytes(r.u8());
    const w0 = r.bytes(SCALAR_LEN);
    const L = r.bytes(POINT_LEN);
    const toyId = r.bytes(DEVICE_ID_LEN);
    const toyStaticPublicKey = r.bytes(STATIC_KEY_LEN);
    const lifetimeFailures = r.u8();
    const count = r.u8();
    if (count > MAX_PAIRINGS) throw invalid(`more than ${MAX_PAIRINGS} pairings`);
    const tagKey = count > 0 ? r.bytes(TAG_KEY_LEN) : undefined;
    const pairings: PairingEntry[] = [];
    for (let i = 0; i < count; i++) {
      const phoneId = r.bytes(DEVICE_ID_LEN);
      const phoneStaticPublicKey = r.bytes(STATIC_KEY_LEN);
      const roleByte = r.u8();
      const role = roleFromCode(roleByte & ~ROLE_PROVISIONAL_BIT);
      const nameLen = r.u8();
      if (nameLen > NAME_MAX_BYTES) throw invalid('name too long');
      const name = utf8.decode(r.bytes(nameLen), PairingError);
      pairings.push({
        phoneId,
        phoneStaticPublicKey,
        role,
        name,
        ...((roleByte & ROLE_PROVISIONAL_BIT) !== 0 ? { provisional: true as const } : {}),
      });
    }
    r.end();
    const state: ToyPairingState = {
      discriminator,
      verifier: { w0, L, salt, iterations },
      toyId,
      toyStaticPublicKey,
      lifetimeFailures,
      pairings,
      ...(tagKey ? { tagKey } : {}),
    };
    checkToyPairingState(state);
    return state;
  } catch (e) {
    if (e instanceof PairingError) {
      throw new PairingError('CORRUPT_STATE', `pairing state invalid: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
