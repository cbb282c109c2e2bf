/**
 * SPAKE2+ (RFC 9383), ciphersuite P256-SHA256-HKDF-SHA256-HMAC-SHA256, as pure functions.
 *
 * - Registration (RFC 9383 §3.2): w0s ‖ w1s = PBKDF2-SHA256(len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖
 *   len(idVerifier) ‖ idVerifier, salt, iterations, 80 bytes); each 40-byte half is a big-endian
 *   integer reduced mod n (the P-256 group order); L = w1·P.
 * - Online (RFC 9383 §3.3): X = x·P + w0·M, Y = y·P + w0·N; the verifier computes Z = y·(X − w0·M),
 *   V = y·L; the prover Z = x·(Y − w0·N), V = w1·(Y − w0·N) (cofactor 1 on P-256).
 * - Key schedule (RFC 9383 §3.4): TT as below, K_main = SHA-256(TT), K_confirmP ‖ K_confirmV =
 *   HKDF(nil, K_main, "ConfirmationKeys"), K_shared = HKDF(nil, K_main, "SharedKey"),
 *   confirmP = HMAC(K_confirmP, shareV), confirmV = HMAC(K_confirmV, shareP).
 *
 * Group arithmetic is @noble/curves' P-256; hashing, HKDF, HMAC and PBKDF2 come from
 * protocol/crypto.ts. Every point received from a peer is checked (SEC1 uncompressed, on the curve,
 * not the identity) and a share that cancels the password mask is refused, as RFC 9383 §6 requires;
 * failures are `PairingError('BAD_POINT')`. Reproduces RFC 9383 Appendix C bit for bit
 * (test/vectors/spake2plus-rfc9383.json).
 */
import { p256 } from '@noble/curves/nist.js';
import { concat } from '../bytes.js';
import { hkdfSha256, hmacSha256, pbkdf2Sha256, sha256 } from '../crypto.js';
import { PairingError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  INFO_CONFIRMATION_KEYS,
  INFO_SHARED_KEY,
  KEY_LEN,
  PBKDF_HALF_LEN,
  PBKDF_ITERATIONS_MAX,
  PBKDF_ITERATIONS_MIN,
  PBKDF_OUTPUT_LEN,
  PBKDF_SALT_MAX,
  PBKDF_SALT_MIN,
  POINT_LEN,
  POINT_UNCOMPRESSED_PREFIX,
  SCALAR_LEN,
  SPAKE2PLUS_M_HEX,
  SPAKE2PLUS_N_HEX,
} from './constants.js';

const Point = p256.Point;
type Point = typeof Point.BASE;

/** The order n of the P-256 group (called p in RFC 9383). */
export const GROUP_ORDER: bigint = Point.Fn.ORDER;

const G = Point.BASE;
const M = Point.fromHex(SPAKE2PLUS_M_HEX);
const N = Point.fromHex(SPAKE2PLUS_N_HEX);
/** M and N as they enter the transcript: SEC1 uncompressed (RFC 9383 Appendix C). */
export const M_BYTES: Uint8Array = M.toBytes(false);
export const N_BYTES: Uint8Array = N.toBytes(false);

const utf8 = new TextEncoder();
const INFO_CONFIRM = utf8.encode(INFO_CONFIRMATION_KEYS);
const INFO_SHARED = utf8.encode(INFO_SHARED_KEY);
const EMPTY = new Uint8Array(0);

/** The application-chosen inputs both sides put in TT (RFC 9383 §3.3). */
export interface Spake2PlusParties {
  /** PawLink: SHA-256 of a label and both PBKDF parameter messages ("Identities and context"). */
  readonly context: Uint8Array;
  readonly idProver: Uint8Array;
  readonly idVerifier: Uint8Array;
}

/** Everything the key schedule produces, with the values it was computed from. */
export interface Spake2PlusKeys {
  readonly Z: Uint8Array;
  readonly V: Uint8Array;
  readonly TT: Uint8Array;
  readonly kMain: Uint8Array;
  readonly kConfirmP: Uint8Array;
  readonly kConfirmV: Uint8Array;
  readonly kShared: Uint8Array;
  /** HMAC(K_confirmP, shareV): sent by the prover (phone) in Pake3. */
  readonly confirmP: Uint8Array;
  /** HMAC(K_confirmV, shareP): sent by the verifier (toy) in Pake2. */
  readonly confirmV: Uint8Array;
}

/** len(x) in RFC 9383: the length in bytes as an 8-byte little-endian integer. */
function len64(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  let n = b.length;
  for (let i = 0; i < 8 && n > 0; i++) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  return out;
}

function withLengths(...parts: Uint8Array[]): Uint8Array {
  return concat(...parts.flatMap((p) => [len64(p), p]));
}

function bytesToBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** A scalar as 32 big-endian bytes (SEC1 §2.3.7), the form w0 takes in TT and in storage. */
export function scalarToBytes(s: bigint): Uint8Array {
  if (s < 0n || s >= GROUP_ORDER) throw new PairingError('BAD_SCALAR', 'scalar outside 0..n-1');
  const out = new Uint8Array(SCALAR_LEN);
  let v = s;
  for (let i = SCALAR_LEN - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Parses a stored scalar: exactly 32 big-endian bytes, in 1..n-1. @throws PairingError `BAD_SCALAR`. */
export function scalarFromBytes(b: Uint8Array): bigint {
  if (b.length !== SCALAR_LEN) throw new PairingError('BAD_SCALAR', `a scalar is ${SCALAR_LEN} bytes`);
  const v = bytesToBigInt(b);
  if (v === 0n || v >= GROUP_ORDER) throw new PairingError('BAD_SCALAR', 'scalar outside 1..n-1');
  return v;
}

/**
 * Decodes a point received from a peer or read from storage: exactly 65 bytes, SEC1 uncompressed,
 * on the curve, not the identity. @throws PairingError `BAD_POINT`.
 */
export function decodePoint(bytes: Uint8Array): Point {
  if (bytes.length !== POINT_LEN || bytes[0] !== POINT_UNCOMPRESSED_PREFIX) {
    throw new PairingError('BAD_POINT', `a point is ${POINT_LEN} bytes, SEC1 uncompressed`);
  }
  let p: Point;
  try {
    p = Point.fromBytes(bytes);
    p.assertValidity();
  } catch {
    throw new PairingError('BAD_POINT', 'not a point on P-256');
  }
  if (p.is0()) throw new PairingError('BAD_POINT', 'the identity is not a valid share');
  return p;
}

function encodePoint(p: Point): Uint8Array {
  if (p.is0()) throw new PairingError('BAD_POINT', 'computed the identity');
  return p.toBytes(false);
}

/** RFC 9383 §3.2 PBKDF input: len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier. */
export function pbkdfInput(password: Uint8Array, idProver: Uint8Array, idVerifier: Uint8Array): Uint8Array {
  return withLengths(password, idProver, idVerifier);
}

/**
 * Splits 80 bytes of PBKDF output into w0s (bytes 0..39) and w1s (bytes 40..79), reads each as a
 * big-endian integer and reduces it mod n (RFC 9383 §3.2). A zero result (probability 2^-256) is
 * refused rather than used. @throws PairingError `BAD_PBKDF_OUTPUT` or `BAD_SCALAR`.
 */
export function scalarsFromPbkdfOutput(out: Uint8Array): { w0: bigint; w1: bigint } {
  if (out.length !== PBKDF_OUTPUT_LEN) {
    throw new PairingError('BAD_PBKDF_OUTPUT', `PBKDF output must be ${PBKDF_OUTPUT_LEN} bytes`);
  }
  const w0 = bytesToBigInt(out.subarray(0, PBKDF_HALF_LEN)) % GROUP_ORDER;
  const w1 = bytesToBigInt(out.subarray(PBKDF_HALF_LEN)) % GROUP_ORDER;
  if (w0 === 0n || w1 === 0n) throw new PairingError('BAD_SCALAR', 'w0 or w1 reduced to zero');
  return { w0, w1 };
}

/** Checks PBKDF2 parameters against the accepted ranges. @throws PairingError `BAD_PBKDF_PARAMS`. */
export function checkPbkdfParams(salt: Uint8Array, iterations: number): void {
  if (salt.length < PBKDF_SALT_MIN || salt.length > PBKDF_SALT_MAX) {
    throw new PairingError('BAD_PBKDF_PARAMS', `salt must be ${PBKDF_SALT_MIN}..${PBKDF_SALT_MAX} bytes`);
  }
  if (
    !Number.isInteger(iterations) ||
    iterations < PBKDF_ITERATIONS_MIN ||
    iterations > PBKDF_ITERATIONS_MAX
  ) {
    throw new PairingError(
      'BAD_PBKDF_PARAMS',
      `iterations must be ${PBKDF_ITERATIONS_MIN}..${PBKDF_ITERATIONS_MAX}`,
    );
  }
}

/** Registration, prover side: w0 and w1 from the password (RFC 9383 §3.2 with PBKDF2-HMAC-SHA256). */
export function deriveScalars(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  idProver: Uint8Array,
  idVerifier: Uint8Array,
): { w0: bigint; w1: bigint } {
  checkPbkdfParams(salt, iterations);
  const out = pbkdf2Sha256(pbkdfInput(password, idProver, idVerifier), salt, iterations, PBKDF_OUTPUT_LEN);
  return scalarsFromPbkdfOutput(out);
}

/** The registration record L = w1·P, SEC1 uncompressed. */
export function computeL(w1: bigint): Uint8Array {
  return encodePoint(G.multiply(w1));
}

/**
 * A uniform scalar in 1..n-1 from `random`: 32 bytes read big-endian, redrawn while 0 or ≥ n
 * (rejection sampling: no bias; a redraw happens with probability ≈ 2^-32).
 */
export function randomScalar(random: RandomSource): bigint {
  for (;;) {
    const v = bytesToBigInt(random(SCALAR_LEN));
    if (v !== 0n && v < GROUP_ORDER) return v;
  }
}

function checkScalar(s: bigint, what: string): void {
  if (s <= 0n || s >= GROUP_ORDER) throw new PairingError('BAD_SCALAR', `${what} outside 1..n-1`);
}

/** shareP = X = x·P + w0·M (RFC 9383 §3.3). */
export function computeShareP(w0: bigint, x: bigint): Uint8Array {
  checkScalar(w0, 'w0');
  checkScalar(x, 'x');
  return encodePoint(G.multiply(x).add(M.multiply(w0)));
}

/** shareV = Y = y·P + w0·N (RFC 9383 §3.3). */
export function computeShareV(w0: bigint, y: bigint): Uint8Array {
  checkScalar(w0, 'w0');
  checkScalar(y, 'y');
  return encodePoint(G.multiply(y).add(N.multiply(w0)));
}

/**
 * TT (RFC 9383 §3.3): every field prefixed by its length as an 8-byte little-endian integer, in
 * the order Context, idProver, idVerifier, M, N, shareP, shareV, Z, V, w0 (w0 as 32 bytes big-endian).
 */
export function transcript(
  parties: Spake2PlusParties,
  shareP: Uint8Array,
  shareV: Uint8Array,
  Z: Uint8Array,
  V: Uint8Array,
  w0: bigint,
): Uint8Array {
  return withLengths(
    parties.context,
    parties.idProver,
    parties.idVerifier,
    M_BYTES,
    N_BYTES,
    shareP,
    shareV,
    Z,
    V,
    scalarToBytes(w0),
  );
}

/** The key schedule and both confirmation tags (RFC 9383 §3.4). */
export function keySchedule(
  TT: Uint8Array,
  shareP: Uint8Array,
  shareV: Uint8Array,
): Omit<Spake2PlusKeys, 'Z' | 'V' | 'TT'> {
  const kMain = sha256(TT);
  const confirmation = hkdfSha256(kMain, EMPTY, INFO_CONFIRM, 2 * KEY_LEN);
  const kConfirmP = confirmation.slice(0, KEY_LEN);
  const kConfirmV = confirmation.slice(KEY_LEN);
  const kShared = hkdfSha256(kMain, EMPTY, INFO_SHARED, KEY_LEN);
  return {
    kMain,
    kConfirmP,
    kConfirmV,
    kShared,
    confirmP: hmacSha256(kConfirmP, shareV),
    confirmV: hmacSha256(kConfirmV, shareP),
  };
}

function finish(
  parties: Spake2PlusParties,
  w0: bigint,
  shareP: Uint8Array,
  shareV: Uint8Array,
  zPoint: Point,
  vPoint: Point,
): Spake2PlusKeys {
  const Z = encodePoint(zPoint);
  const V = encodePoint(vPoint);
  const TT = transcript(parties, shareP, shareV, Z, V, w0);
  return { Z, V, TT, ...keySchedule(TT, shareP, shareV) };
}

/**
 * Verifier (toy) side: validates shareP, computes shareV = y·P + w0·N, Z = y·(X − w0·M), V = y·L and
 * the key schedule. @throws PairingError `BAD_POINT` for an invalid shareP or one equal to w0·M.
 */
export function verifierRespond(args: {
  parties: Spake2PlusParties;
  w0: bigint;
  L: Uint8Array;
  y: bigint;
  shareP: Uint8Array;
}): { shareV: Uint8Array; keys: Spake2PlusKeys } {
  const X = decodePoint(args.shareP);
  const L = decodePoint(args.L);
  checkScalar(args.w0, 'w0');
  checkScalar(args.y, 'y');
  const unmasked = X.subtract(M.multiply(args.w0));
  if (unmasked.is0()) throw new PairingError('BAD_POINT', 'shareP cancels the password mask');
  const shareV = computeShareV(args.w0, args.y);
  const keys = finish(
    args.parties,
    args.w0,
    args.shareP,
    shareV,
    unmasked.multiply(args.y),
    L.multiply(args.y),
  );
  return { shareV, keys };
}

/**
 * Prover (phone) side: validates shareV, computes Z = x·(Y − w0·N), V = w1·(Y − w0·N) and the key
 * schedule. @throws PairingError `BAD_POINT` for an invalid shareV or one equal to w0·N.
 */
export function proverFinish(args: {
  parties: Spake2PlusParties;
  w0: bigint;
  w1: bigint;
  x: bigint;
  shareP: Uint8Array;
  shareV: Uint8Array;
}): Spake2PlusKeys {
  const Y = decodePoint(args.shareV);
  checkScalar(args.w0, 'w0');
  checkScalar(args.w1, 'w1');
  checkScalar(args.x, 'x');
  const unmasked = Y.subtract(N.multiply(args.w0));
  if (unmasked.is0()) throw new PairingError('BAD_POINT', 'shareV cancels the password mask');
  return finish(
    args.parties,
    args.w0,
    args.shareP,
    args.shareV,
    unmasked.multiply(args.x),
    unmasked.multiply(args.w1),
  );
}
