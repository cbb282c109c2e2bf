/**
 * The toy's simulated secure element: it holds the 32-byte device key, apart from the flash, and
 * seals what the flash stores. On a real toy this is a secure element or the MCU's protected key
 * storage; the simulator keeps the key in `secure-element.key` in the state directory (mode 0600),
 * never inside `flash.bin`, so a dump of the flash alone reveals no message and no private key.
 *
 * What it holds: the device key only. The toy's static X25519 key pair lives in the flash, sealed
 * under the device key, because a factory reset replaces it together with the pairing state in one
 * atomic flash commit; keeping it here would split that reset across two files.
 *
 * Key use (HKDF-SHA256, RFC 5869, empty salt, the device key as input keying material):
 * - "PawLink flash sealing key v1" → 32-byte ChaCha20-Poly1305 key for every value and index.
 * - "PawLink flash key check v1" → 8 bytes written in plaintext in each index header, so that an
 *   image under another key is reported as WRONG_DEVICE_KEY instead of "damaged".
 *
 * Nonces: 12 random bytes per seal from the injected RandomSource (the OS CSPRNG in a real toy).
 * A counter would need durable state that a power cut could roll back (a torn write and the retry
 * after the reboot would then share a nonce); random 96-bit nonces need none, and stay far below
 * the collision bound for the writes a toy makes in its life (birthday bound ≈ 2^-33 after 2^32
 * seals). Tests that reopen a store must keep drawing from the same stream (or a new seed).
 *
 * File format (41 bytes): "PLSE" ‖ version (1) ‖ device key (32) ‖ first 4 bytes of SHA-256 of
 * the 37 bytes before. Created at first start: written to a temporary file (0600), fsync'd, then
 * linked into place (no clobbering: two toys starting at once agree on one key) and the directory
 * fsync'd. A damaged file is an error (SECURE_ELEMENT_CORRUPT), never silently replaced: a new key
 * would make the flash unreadable.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../protocol/bytes.js';
import { AEAD_NONCE_LEN, AEAD_TAG_LEN, aeadOpen, aeadSeal, hkdfSha256, sha256 } from '../protocol/crypto.js';
import type { RandomSource } from '../protocol/random.js';
import { ToyError } from './errors.js';
import { type FlashSealer, fsyncDir } from './flash.js';

/** Name of the secure element's key file in the state directory. */
export const SECURE_ELEMENT_FILE = 'secure-element.key';
/** Device key length in bytes. */
export const DEVICE_KEY_LEN = 32;

const FILE_MAGIC = Uint8Array.of(0x50, 0x4c, 0x53, 0x45); // "PLSE"
const FILE_VERSION = 1;
const FILE_LEN = 4 + 1 + DEVICE_KEY_LEN + 4;
const SEALING_INFO = utf8.encode('PawLink flash sealing key v1');
const KEY_CHECK_INFO = utf8.encode('PawLink flash key check v1');
const TMP_PREFIX = `.${SECURE_ELEMENT_FILE}.`;

/** The operating system's CSPRNG as a RandomSource (for a real run; tests pass seededRandom). */
export const systemRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

export interface SecureElementOpenOptions {
  /** Create the key when the file does not exist (default true); false: SECURE_ELEMENT_MISSING. */
  create?: boolean;
  /**
   * Fault hook for tests: called with the temporary file's path after it is written and fsync'd,
   * just before it is linked into place. Throwing here simulates a crash at that moment.
   */
  beforeCommit?: (tempPath: string) => void;
}

export class SecureElement {
  /** The key file, or undefined for an in-memory element. */
  readonly path: string | undefined;
  /** True when this open created the key (first start). */
  readonly created: boolean;
  readonly #deviceKey: Uint8Array;

  private constructor(deviceKey: Uint8Array, path: string | undefined, created: boolean) {
    this.#deviceKey = deviceKey.slice();
    this.path = path;
    this.created = created;
  }

  /**
   * Opens the secure element of the state directory `dir`, creating the directory (0700) and the
   * key (0600, from `random`) at first start.
   * @throws ToyError SECURE_ELEMENT_CORRUPT, SECURE_ELEMENT_PERMISSIONS, SECURE_ELEMENT_MISSING,
   *   SECURE_ELEMENT_IO.
   */
  static open(
    dir: string,
    random: RandomSource = systemRandom,
    options: SecureElementOpenOptions = {},
  ): SecureElement {
    const path = join(dir, SECURE_ELEMENT_FILE);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError(e, dir);
    }
    removeStaleTemps(dir);
    const existing = readKeyFile(path);
    if (existing) return new SecureElement(existing, path, false);
    if (options.create === false) {
      throw new ToyError(
        'SECURE_ELEMENT_MISSING',
        `${path} is missing but the flash image in ${dir} was written under it: restore the file, or remove the state directory to start over (messages and pairings are then lost)`,
      );
    }

    const key = random(DEVICE_KEY_LEN);
    if (key.length !== DEVICE_KEY_LEN) throw new RangeError('the random source returned the wrong length');
    const tmp = join(dir, `${TMP_PREFIX}${process.pid}.${Buffer.from(random(6)).toString('hex')}.tmp`);
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, encodeKeyFile(key));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      options.beforeCommit?.(tmp);
      let created = true;
      try {
        linkSync(tmp, path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') created = false;
        else renameSync(tmp, path); // a file system without hard links
      }
      try {
        unlinkSync(tmp);
      } catch {
        // Already renamed into place.
      }
      fsyncDir(dir);
      if (!created) {
        const other = readKeyFile(path);
        if (!other) throw new ToyError('SECURE_ELEMENT_IO', `${path} vanished while it was created`);
        return new SecureElement(other, path, false);
      }
      return new SecureElement(key, path, true);
    } catch (e) {
      if (e instanceof ToyError) throw e;
      throw ioError(e, path);
    }
  }

  /** An element holding `deviceKey` in memory only (tests, or a toy without a state directory). */
  static inMemory(deviceKey: Uint8Array): SecureElement {
    if (deviceKey.length !== DEVICE_KEY_LEN) throw new RangeError(`a device key is ${DEVICE_KEY_LEN} bytes`);
    return new SecureElement(deviceKey, undefined, false);
  }

  /** The sealer for the flash store: keys derived from the device key, nonces from `random`. */
  flashSealer(random: RandomSource): FlashSealer {
    const key = hkdfSha256(this.#deviceKey, new Uint8Array(0), SEALING_INFO, 32);
    const keyCheck = hkdfSha256(this.#deviceKey, new Uint8Array(0), KEY_CHECK_INFO, 8);
    return {
      keyCheck,
      overhead: AEAD_NONCE_LEN + AEAD_TAG_LEN,
      seal(ad, plaintext) {
        const nonce = random(AEAD_NONCE_LEN);
        const body = aeadSeal(key, nonce, plaintext, ad);
        const out = new Uint8Array(AEAD_NONCE_LEN + body.length);
        out.set(nonce);
        out.set(body, AEAD_NONCE_LEN);
        return out;
      },
      open(ad, sealed) {
        if (sealed.length < AEAD_NONCE_LEN + AEAD_TAG_LEN) return null;
        return aeadOpen(key, sealed.subarray(0, AEAD_NONCE_LEN), sealed.subarray(AEAD_NONCE_LEN), ad);
      },
    };
  }
}

/** The key in `path`, or undefined when the file does not exist. */
function readKeyFile(path: string): Uint8Array | undefined {
  let bytes: Uint8Array;
  try {
    if (process.platform !== 'win32') {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new ToyError(
          'SECURE_ELEMENT_PERMISSIONS',
          `${path} is accessible to other users (mode ${mode.toString(8)}): run "chmod 600 ${path}"`,
        );
      }
    }
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof ToyError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(e, path);
  }
  return decodeKeyFile(bytes, path);
}

/**
 * Decodes the content of a key file (see the format above): the device key.
 * @throws ToyError SECURE_ELEMENT_CORRUPT naming `path`.
 */
export function decodeKeyFile(bytes: Uint8Array, path: string = SECURE_ELEMENT_FILE): Uint8Array {
  const corrupt = (why: string) =>
    new ToyError(
      'SECURE_ELEMENT_CORRUPT',
      `${path} is damaged (${why}); without it the flash cannot be read: restore it from a backup, or start over with an empty --state directory`,
    );
  if (bytes.length !== FILE_LEN) throw corrupt(`${bytes.length} bytes instead of ${FILE_LEN}`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== FILE_MAGIC[i]) throw corrupt('not a secure element key file');
  if (bytes[4] !== FILE_VERSION) throw corrupt(`unknown version ${bytes[4]}`);
  const check = sha256(bytes.subarray(0, 5 + DEVICE_KEY_LEN));
  for (let i = 0; i < 4; i++) {
    if (bytes[5 + DEVICE_KEY_LEN + i] !== check[i]) throw corrupt('checksum mismatch');
  }
  return bytes.slice(5, 5 + DEVICE_KEY_LEN);
}

/** The content of a key file holding `deviceKey`. */
export function encodeKeyFile(deviceKey: Uint8Array): Uint8Array {
  if (deviceKey.length !== DEVICE_KEY_LEN) throw new RangeError(`a device key is ${DEVICE_KEY_LEN} bytes`);
  const out = new Uint8Array(FILE_LEN);
  out.set(FILE_MAGIC);
  out[4] = FILE_VERSION;
  out.set(deviceKey, 5);
  out.set(sha256(out.subarray(0, 5 + DEVICE_KEY_LEN)).subarray(0, 4), 5 + DEVICE_KEY_LEN);
  return out;
}

/** Deletes temporary key files left by a crash during a first start (they hold a key nobody uses). */
function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TMP_PREFIX) && name.endsWith('.tmp')) {
      const pid = Number(name.slice(TMP_PREFIX.length).split('.')[0]);
      if (pid === process.pid || !alive(pid)) {
        try {
          unlinkSync(join(dir, name));
        } catch {
          // Removed by someone else.
        }
      }
    }
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ioError(e: unknown, path: string): ToyError {
  const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
  return new ToyError('SECURE_ELEMENT_IO', `${path}: ${code} (${(e as Error).message})`, { cause: e });
}
