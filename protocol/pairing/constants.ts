/**
 * Pairing layer constants: setup codes, SPAKE2+ (RFC 9383) parameters, pairing messages, the
 * pairing window and lockout, the pairing table and its persisted format. Each constant gives its
 * unit and where the number comes from. PROTOCOL.md, "Pairing", is the normative description.
 */

// ---------------------------------------------------------------------------------------------
// Setup code and discriminator (protocol brief, "Pairing"; Matter Core spec §5.1.7.1 refuses the
// same kind of trivial passcodes, and HomeKit setup codes have the same rule).
// ---------------------------------------------------------------------------------------------

/** Number of decimal digits in a setup code (protocol brief). 10^8 - 12 possible codes, ≈ 26.6 bits. */
export const SETUP_CODE_DIGITS = 8;

/**
 * Codes that are never generated nor accepted: all-same digits and the two obvious sequences
 * (protocol brief; Matter Core spec §5.1.7.1 has the same list for its passcodes).
 */
export const FORBIDDEN_SETUP_CODES: readonly string[] = Object.freeze([
  '00000000',
  '11111111',
  '22222222',
  '33333333',
  '44444444',
  '55555555',
  '66666666',
  '77777777',
  '88888888',
  '99999999',
  '12345678',
  '87654321',
]);

/**
 * Characters a person may type between digits when entering a code by hand ("1234-5670",
 * "1234 5670"); they are removed before the code is checked. Nothing else is accepted.
 */
export const SETUP_CODE_SEPARATORS: readonly string[] = Object.freeze([' ', '-']);

/** Longest hand-typed input accepted (digits plus separators), in characters. */
export const SETUP_CODE_MAX_INPUT = 32;

/** Discriminator width in bits (Matter Core spec §5.1, onboarding payload: a 12-bit discriminator). */
export const DISCRIMINATOR_BITS = 12;
/** Largest discriminator value (2^12 - 1). */
export const DISCRIMINATOR_MAX = (1 << DISCRIMINATOR_BITS) - 1;

// ---------------------------------------------------------------------------------------------
// SPAKE2+ ciphersuite P256-SHA256-HKDF-SHA256-HMAC-SHA256 (RFC 9383 §4).
// ---------------------------------------------------------------------------------------------

/** RFC 9383 §4, P-256 `M` (SEC1 compressed, seed "1.2.840.10045.3.1.7 point generation seed (M)"). */
export const SPAKE2PLUS_M_HEX = '02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f';
/** RFC 9383 §4, P-256 `N` (SEC1 compressed, seed "1.2.840.10045.3.1.7 point generation seed (N)"). */
export const SPAKE2PLUS_N_HEX = '03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49';

/** A P-256 scalar (w0, w1, x, y) as a big-endian integer, bytes (SEC1 §2.3.7). */
export const SCALAR_LEN = 32;
/** A P-256 point on the wire and in TT: SEC1 uncompressed, 0x04 ‖ x ‖ y, bytes (RFC 9383 App. C). */
export const POINT_LEN = 65;
/** First byte of a SEC1 uncompressed point. */
export const POINT_UNCOMPRESSED_PREFIX = 0x04;

/**
 * PBKDF2 output length, bytes: w0s ‖ w1s, each ceil(log2(n)) + 64 = 320 bits = 40 bytes, so the
 * reduction mod n has bias at most 2^-64 (RFC 9383 §3.2: 640 bits for P-256).
 */
export const PBKDF_OUTPUT_LEN = 80;
/** Each half of the PBKDF2 output (w0s, then w1s), bytes. */
export const PBKDF_HALF_LEN = 40;

/** Fewest PBKDF2 iterations accepted (Matter Core spec, CRYPTO_PBKDF_ITERATIONS_MIN; brief: ≥ 1000). */
export const PBKDF_ITERATIONS_MIN = 1000;
/**
 * Most PBKDF2 iterations accepted (Matter Core spec, CRYPTO_PBKDF_ITERATIONS_MAX). The bound
 * matters: without it a fake toy could make a phone spin on 2^32 iterations.
 */
export const PBKDF_ITERATIONS_MAX = 100_000;
/** Iterations a toy is provisioned with unless told otherwise: 10x the minimum (a phone spends ~10 ms). */
export const PBKDF_ITERATIONS_DEFAULT = 10_000;
/** Shortest PBKDF2 salt, bytes (Matter Core spec, CRYPTO_PBKDF_SALT_MIN_LENGTH; brief). */
export const PBKDF_SALT_MIN = 16;
/** Longest PBKDF2 salt, bytes (Matter Core spec, CRYPTO_PBKDF_SALT_MAX_LENGTH; brief). */
export const PBKDF_SALT_MAX = 32;

/**
 * SPAKE2+ idProver: a fixed role label, not a device identity (PROTOCOL.md, "Identities and
 * context", says why: the phone's and the toy's identities are exchanged only under the confirmed key).
 */
export const ID_PROVER = 'PawLink phone';
/** SPAKE2+ idVerifier: a fixed role label (see `ID_PROVER`). */
export const ID_VERIFIER = 'PawLink toy';

/**
 * Label hashed in front of the PbkdfParamRequest and PbkdfParamResponse bodies to form the SPAKE2+
 * Context (RFC 9383 §3.3 lets the application choose it; Matter's PASE does the same with its own label).
 */
export const CONTEXT_LABEL = 'PawLink PAKE v1';

/** RFC 9383 §3.4 HKDF info for K_confirmP ‖ K_confirmV. */
export const INFO_CONFIRMATION_KEYS = 'ConfirmationKeys';
/** RFC 9383 §3.4 HKDF info for K_shared. */
export const INFO_SHARED_KEY = 'SharedKey';
/** Length of each confirmation key and of K_shared, bytes (RFC 9383 §3.4: the hash length for HMAC). */
export const KEY_LEN = 32;
/** HMAC-SHA256 confirmation tag length, bytes. */
export const CONFIRM_LEN = 32;

/** HKDF info for the two identity-exchange keys from K_shared (ours; PROTOCOL.md, "Identity exchange"). */
export const INFO_IDENTITY_KEYS = 'PawLink pairing identity keys v1';

// ---------------------------------------------------------------------------------------------
// Pairing messages (PROTOCOL.md, Pairing: "Pairing messages").
// ---------------------------------------------------------------------------------------------

/** Pairing protocol version carried in PbkdfParamRequest. */
export const PAIRING_VERSION = 1;
/** PbkdfParamRequest phoneRandom and PbkdfParamResponse toyRandom, bytes (Matter PASE uses 32). */
export const NONCE_LEN = 32;
/** Phone id and toy id, bytes (random, 128 bits: no collision among any realistic number of devices). */
export const DEVICE_ID_LEN = 16;
/** X25519 static public key, bytes (RFC 7748). */
export const STATIC_KEY_LEN = 32;
/** Advertising tag key, bytes (PROTOCOL.md, "Advertising"). */
export const TAG_KEY_LEN = 16;
/** Longest phone display name, UTF-8 bytes (protocol brief). */
export const NAME_MAX_BYTES = 32;

// ---------------------------------------------------------------------------------------------
// Pairing window and lockout (protocol brief, "Pairing"; the shape follows Matter's commissioning
// window and HomeKit's attempt limits).
// ---------------------------------------------------------------------------------------------

/** Shortest paw hold that opens the pairing window, ms (protocol brief: ≥ 3 s). */
export const PAW_HOLD_MS = 3_000;
/**
 * How long the pairing window stays open, ms (protocol brief: 180 s, which is also Matter's minimum
 * commissioning window).
 */
export const WINDOW_MS = 180_000;
/** Longest time one pairing attempt may take from PbkdfParamRequest to ToyIdentity, ms (protocol brief). */
export const ATTEMPT_MS = 30_000;
/** Failed attempts that close the pairing window, count (protocol brief). */
export const WINDOW_MAX_FAILURES = 20;
/** Failed attempts in the toy's lifetime that lock pairing until factory reset, count (protocol brief). */
export const LIFETIME_MAX_FAILURES = 100;

// ---------------------------------------------------------------------------------------------
// Pairing table and persisted state (PROTOCOL.md, Pairing: "Persisted pairing state").
// ---------------------------------------------------------------------------------------------

/** Most phones paired with one toy (protocol brief; HAP allows 16 pairings too). */
export const MAX_PAIRINGS = 16;
/** Magic at the start of the persisted pairing state: ASCII "PLPS" (PawLink Pairing State). */
export const STATE_MAGIC = Uint8Array.of(0x50, 0x4c, 0x50, 0x53);
/** Persisted pairing state format version. */
export const STATE_VERSION = 1;
/** Trailing checksum of the persisted state: the first 4 bytes of SHA-256 over all preceding bytes. */
export const STATE_CHECKSUM_LEN = 4;
