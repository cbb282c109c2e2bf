/**
 * The phone's keystore: this phone's identity, the toys it is paired with, and uploads to resume,
 * in a per-user directory: the `home` option, else `PAWLINK_HOME`, else the per-user data directory
 * (env-paths: ~/.local/share/pawlink on Linux, ~/Library/Application Support/pawlink on macOS,
 * %LOCALAPPDATA%\pawlink\Data on Windows).
 *
 * Files (JSON, UTF-8, bytes as lowercase hex; each has a "format" name and a "version"):
 *
 * | file | holds |
 * | --- | --- |
 * | identity.json | phoneId (16 bytes), the static X25519 key pair, the display name |
 * | toys.json | per paired toy: toyId, static public key, tag key, role, label, pairedAt, lastSeen (ms since 1970) |
 * | uploads.json | per unfinished upload: toyId, transferId, sha256, totalBytes, where the content is, createdAt |
 * | uploads/<toyId>-<transferId>.bin | the content of an upload given as bytes (not as a file path) |
 *
 * Rules: the directory is created 0700 and refused if other users can write to it; every file is
 * 0600 and refused if other users can read it; every write goes to a temporary file (0600) that is
 * fsync'd and renamed over the old one (then the directory is fsync'd), so a crash leaves the old
 * file or the new one. The identity is created once, without clobbering (two processes starting
 * at once end with one identity). A file that does not parse is reported (KEYSTORE_CORRUPT, naming
 * the file and what to do) and never replaced: losing identity.json would unpair this phone from
 * every toy. Nothing here logs, and errors never carry key material; printing an identity or a toy
 * with console.log / util.inspect shows "[secret]" instead of the private key and tag key.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
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
import { basename, dirname, join } from 'node:path';
import { inspect } from 'node:util';
import envPaths from 'env-paths';
import { bytesEqual, toHex, utf8 } from '../protocol/bytes.js';
import type { PairedToy, PhoneIdentity } from '../protocol/engine/phone.js';
import type { PairingResult } from '../protocol/pairing/index.js';
import type { RandomSource } from '../protocol/random.js';
import { generateKeyPair, keyPairFromPrivateKey } from '../protocol/session/index.js';
import { SdkError } from './errors.js';

export const IDENTITY_FILE = 'identity.json';
export const TOYS_FILE = 'toys.json';
export const UPLOADS_FILE = 'uploads.json';
export const UPLOADS_DIR = 'uploads';
/** Bytes of a phone id and a toy id (PROTOCOL.md, pairing: DEVICE_ID_LEN). */
export const ID_LEN = 16;
/** Longest phone name or toy label in UTF-8 bytes (the pairing name limit). */
export const NAME_MAX_BYTES = 32;
const KEY_LEN = 32;
const TAG_KEY_LEN = 16;
const SHA256_LEN = 32;
const FORMAT_VERSION = 1;

/** A paired toy as the keystore keeps it: the pairing result plus what the app adds. */
export interface StoredToy extends PairedToy {
  /** The user's name for the toy (≤ 32 UTF-8 bytes). */
  label: string;
  /** When it was paired, ms since 1970. */
  pairedAt: number;
  /** When a session with it last opened, ms since 1970 (undefined: never since pairing). */
  lastSeen?: number;
}

/** An upload to resume on the next connection to `toyId`. */
export interface PendingUpload {
  toyId: Uint8Array;
  transferId: number;
  /** SHA-256 of the whole content (the transfer's Init carries it). */
  sha256: Uint8Array;
  totalBytes: number;
  /** The content: a file of the user's (read again at resume), or a copy kept in the keystore. */
  source: { kind: 'file'; path: string } | { kind: 'stored'; file: string };
  createdAt: number;
}

export interface SaveUploadInput {
  toyId: Uint8Array;
  transferId: number;
  sha256: Uint8Array;
  totalBytes: number;
  /** A path to re-read at resume, or the bytes to keep (copied into the keystore, 0600). */
  content: { path: string } | { bytes: Uint8Array };
}

export interface KeystoreOptions {
  /** The keystore directory (the CLI's --home). Default: PAWLINK_HOME, else the per-user data directory. */
  home?: string;
  /** Environment to read PAWLINK_HOME from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Randomness for a new identity (default: the OS CSPRNG). */
  random?: RandomSource;
  /** Wall clock in ms (default Date.now) for pairedAt, lastSeen and createdAt. */
  now?: () => number;
  /**
   * Fault hook for tests: called after a temporary file is written and fsync'd, just before it
   * replaces `finalPath`. Throwing here simulates a crash at that moment.
   */
  beforeRename?: (tempPath: string, finalPath: string) => void;
}

const systemRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));

/** The directory a keystore with these options uses. */
export function keystoreDir(options: Pick<KeystoreOptions, 'home' | 'env'> = {}): string {
  const env = options.env ?? process.env;
  return options.home ?? (env.PAWLINK_HOME || envPaths('pawlink', { suffix: '' }).data);
}

/** The phone's keystore (see the file comment). Synchronous; every change is on disk when it returns. */
export class Keystore {
  readonly dir: string;
  readonly #random: RandomSource;
  readonly #now: () => number;
  readonly #beforeRename: KeystoreOptions['beforeRename'];

  private constructor(dir: string, options: KeystoreOptions) {
    this.dir = dir;
    this.#random = options.random ?? systemRandom;
    this.#now = options.now ?? Date.now;
    this.#beforeRename = options.beforeRename;
  }

  /**
   * Opens (creating, 0700) the keystore directory. Removes temporary files left by a crash.
   * @throws SdkError KEYSTORE_INSECURE_DIR, KEYSTORE_UNREADABLE.
   */
  static open(options: KeystoreOptions = {}): Keystore {
    const dir = keystoreDir(options);
    ensureDir(dir);
    removeStaleTemps(dir);
    return new Keystore(dir, options);
  }

  // ---- identity ----

  /** True once this phone has an identity. */
  hasIdentity(): boolean {
    return this.#read(IDENTITY_FILE) !== undefined;
  }

  /**
   * This phone's identity, created at the first call (random phoneId and key pair, `name`) and the
   * same at every later call, in this and any other process.
   */
  identity(name = ''): PhoneIdentity {
    const existing = this.#read(IDENTITY_FILE);
    if (existing !== undefined) return parseIdentityFile(existing, this.#path(IDENTITY_FILE));
    checkName(name, 'phone name');
    const keyPair = generateKeyPair(this.#random);
    const identity: PhoneIdentity = { phoneId: this.#random(ID_LEN), staticKeyPair: keyPair, name };
    const created = this.#createExclusive(IDENTITY_FILE, identityJson(identity));
    if (!created) return parseIdentityFile(this.#read(IDENTITY_FILE) ?? '', this.#path(IDENTITY_FILE));
    return redacted(identity);
  }

  /** Changes the name this phone gives when it pairs. @throws SdkError BAD_NAME. */
  setName(name: string): PhoneIdentity {
    checkName(name, 'phone name');
    const current = this.identity(name);
    const updated = { ...current, name };
    this.#write(IDENTITY_FILE, identityJson(updated));
    return redacted(updated);
  }

  // ---- paired toys ----

  listToys(): StoredToy[] {
    return this.#toys();
  }

  getToy(toyId: Uint8Array): StoredToy | undefined {
    return this.#toys().find((t) => bytesEqual(t.toyId, toyId));
  }

  /** Records a pairing (replacing an older pairing with the same toy). */
  saveToy(result: PairingResult, label = ''): StoredToy {
    checkName(label, 'toy label');
    checkBytes(result.toyId, ID_LEN, 'toyId');
    checkBytes(result.toyStaticPublicKey, KEY_LEN, 'toyStaticPublicKey');
    checkBytes(result.tagKey, TAG_KEY_LEN, 'tagKey');
    if (result.role !== 'admin' && result.role !== 'member') {
      throw new SdkError('BAD_INPUT', `role must be admin or member`);
    }
    const toy: StoredToy = {
      toyId: result.toyId.slice(),
      toyStaticPublicKey: result.toyStaticPublicKey.slice(),
      tagKey: result.tagKey.slice(),
      role: result.role,
      label,
      pairedAt: this.#now(),
    };
    const toys = this.#toys().filter((t) => !bytesEqual(t.toyId, toy.toyId));
    toys.push(toy);
    this.#write(TOYS_FILE, toysJson(toys));
    return redacted(toy);
  }

  /** Changes a toy's label or last-seen time. @throws SdkError UNKNOWN_TOY, BAD_NAME. */
  updateToy(toyId: Uint8Array, changes: { label?: string; lastSeen?: number }): StoredToy {
    const toys = this.#toys();
    const toy = toys.find((t) => bytesEqual(t.toyId, toyId));
    if (!toy) throw new SdkError('UNKNOWN_TOY', `no paired toy ${toHex(toyId)} in ${this.dir}`);
    if (changes.label !== undefined) {
      checkName(changes.label, 'toy label');
      toy.label = changes.label;
    }
    if (changes.lastSeen !== undefined) {
      if (!Number.isFinite(changes.lastSeen) || changes.lastSeen < 0) {
        throw new SdkError('BAD_INPUT', 'lastSeen must be a time in ms since 1970');
      }
      toy.lastSeen = Math.floor(changes.lastSeen);
    }
    this.#write(TOYS_FILE, toysJson(toys));
    return redacted(toy);
  }

  /** Marks a toy seen now (a session opened). */
  markSeen(toyId: Uint8Array): StoredToy {
    return this.updateToy(toyId, { lastSeen: this.#now() });
  }

  /** Forgets a toy and its pending uploads; false if it was not there. */
  removeToy(toyId: Uint8Array): boolean {
    const toys = this.#toys();
    const kept = toys.filter((t) => !bytesEqual(t.toyId, toyId));
    if (kept.length === toys.length) return false;
    for (const u of this.listUploads(toyId)) this.removeUpload(u.toyId, u.transferId);
    this.#write(TOYS_FILE, toysJson(kept));
    return true;
  }

  // ---- pending uploads ----

  /** Unfinished uploads, all or for one toy, oldest first. */
  listUploads(toyId?: Uint8Array): PendingUpload[] {
    const all = this.#uploads();
    return toyId ? all.filter((u) => bytesEqual(u.toyId, toyId)) : all;
  }

  /** Remembers an upload to resume (replacing one with the same toy and transferId). */
  saveUpload(input: SaveUploadInput): PendingUpload {
    checkBytes(input.toyId, ID_LEN, 'toyId');
    checkBytes(input.sha256, SHA256_LEN, 'sha256');
    if (!Number.isInteger(input.transferId) || input.transferId < 1 || input.transferId > 0xffffffff) {
      throw new SdkError('BAD_INPUT', `transferId ${input.transferId} is not a u32 above 0`);
    }
    if (!Number.isInteger(input.totalBytes) || input.totalBytes < 1) {
      throw new SdkError('BAD_INPUT', `totalBytes ${input.totalBytes} must be a positive integer`);
    }
    let source: PendingUpload['source'];
    if ('bytes' in input.content) {
      ensureDir(join(this.dir, UPLOADS_DIR));
      const file = `${UPLOADS_DIR}/${toHex(input.toyId)}-${input.transferId}.bin`;
      this.#write(file, input.content.bytes);
      source = { kind: 'stored', file };
    } else {
      if (typeof input.content.path !== 'string' || input.content.path.length === 0) {
        throw new SdkError('BAD_INPUT', 'the content path is empty');
      }
      source = { kind: 'file', path: input.content.path };
    }
    const upload: PendingUpload = {
      toyId: input.toyId.slice(),
      transferId: input.transferId,
      sha256: input.sha256.slice(),
      totalBytes: input.totalBytes,
      source,
      createdAt: this.#now(),
    };
    const uploads = this.#uploads().filter((u) => !sameUpload(u, upload.toyId, upload.transferId));
    uploads.push(upload);
    this.#write(UPLOADS_FILE, uploadsJson(uploads));
    return upload;
  }

  /**
   * The content of a pending upload. @throws SdkError UPLOAD_CONTENT_MISSING when the file is gone
   * or unreadable (the caller then drops the upload and starts a new one).
   */
  readUploadContent(upload: PendingUpload): Uint8Array {
    const path = upload.source.kind === 'file' ? upload.source.path : join(this.dir, upload.source.file);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new SdkError(
        'UPLOAD_CONTENT_MISSING',
        `the content of upload ${upload.transferId} cannot be read from ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}): send it again`,
      );
    }
  }

  /** Forgets a pending upload (done, or abandoned); false if there was none. */
  removeUpload(toyId: Uint8Array, transferId: number): boolean {
    const uploads = this.#uploads();
    const gone = uploads.find((u) => sameUpload(u, toyId, transferId));
    if (!gone) return false;
    this.#write(UPLOADS_FILE, uploadsJson(uploads.filter((u) => u !== gone)));
    if (gone.source.kind === 'stored') {
      try {
        unlinkSync(join(this.dir, gone.source.file));
      } catch {
        // Already gone.
      }
    }
    return true;
  }

  // ---- files ----

  #path(name: string): string {
    return join(this.dir, name);
  }

  #toys(): StoredToy[] {
    const text = this.#read(TOYS_FILE);
    return text === undefined ? [] : parseToysFile(text, this.#path(TOYS_FILE));
  }

  #uploads(): PendingUpload[] {
    const text = this.#read(UPLOADS_FILE);
    return text === undefined ? [] : parseUploadsFile(text, this.#path(UPLOADS_FILE));
  }

  /** The text of a keystore file, or undefined when it does not exist. */
  #read(name: string): string | undefined {
    const path = this.#path(name);
    let text: string;
    try {
      if (process.platform !== 'win32') {
        const mode = statSync(path).mode & 0o777;
        if ((mode & 0o077) !== 0) {
          throw new SdkError(
            'KEYSTORE_PERMISSIONS',
            `${path} is accessible to other users (mode ${mode.toString(8)}): run "chmod 600 ${path}"`,
          );
        }
      }
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (e instanceof SdkError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unreadable(path, e);
    }
    return text;
  }

  /** Replaces a file atomically (temp 0600 + fsync + rename + directory fsync). */
  #write(name: string, data: string | Uint8Array): void {
    const path = this.#path(name);
    const tmp = this.#writeTemp(path, data);
    try {
      this.#beforeRename?.(tmp, path);
      renameSync(tmp, path);
    } catch (e) {
      safeUnlink(tmp);
      throw writeFailed(path, e);
    }
    fsyncDir(dirname(path));
  }

  /** Creates a file only if it does not exist (link, no clobbering). False when it already existed. */
  #createExclusive(name: string, data: string): boolean {
    const path = this.#path(name);
    const tmp = this.#writeTemp(path, data);
    try {
      this.#beforeRename?.(tmp, path);
      try {
        linkSync(tmp, path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
        // A file system without hard links: a rename, which cannot refuse to replace a file.
        if (existsSync(path)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        renameSync(tmp, path);
      }
    } catch (e) {
      safeUnlink(tmp);
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw writeFailed(path, e);
    }
    safeUnlink(tmp);
    fsyncDir(dirname(path));
    return true;
  }

  #writeTemp(path: string, data: string | Uint8Array): string {
    const tmp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${Buffer.from(this.#random(6)).toString('hex')}.tmp`,
    );
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        const bytes = typeof data === 'string' ? utf8.encode(data) : data;
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      safeUnlink(tmp);
      throw writeFailed(path, e);
    }
    return tmp;
  }
}

// ---- JSON forms ----

function identityJson(id: PhoneIdentity): string {
  return `${JSON.stringify(
    {
      format: 'pawlink-phone-identity',
      version: FORMAT_VERSION,
      phoneId: toHex(id.phoneId),
      privateKey: toHex(id.staticKeyPair.privateKey),
      publicKey: toHex(id.staticKeyPair.publicKey),
      name: id.name,
    },
    null,
    2,
  )}\n`;
}

function toysJson(toys: StoredToy[]): string {
  return `${JSON.stringify(
    {
      format: 'pawlink-paired-toys',
      version: FORMAT_VERSION,
      toys: toys.map((t) => ({
        toyId: toHex(t.toyId),
        toyStaticPublicKey: toHex(t.toyStaticPublicKey),
        tagKey: toHex(t.tagKey),
        role: t.role,
        label: t.label,
        pairedAt: t.pairedAt,
        ...(t.lastSeen !== undefined ? { lastSeen: t.lastSeen } : {}),
      })),
    },
    null,
    2,
  )}\n`;
}

function uploadsJson(uploads: PendingUpload[]): string {
  return `${JSON.stringify(
    {
      format: 'pawlink-pending-uploads',
      version: FORMAT_VERSION,
      uploads: uploads.map((u) => ({
        toyId: toHex(u.toyId),
        transferId: u.transferId,
        sha256: toHex(u.sha256),
        totalBytes: u.totalBytes,
        source: u.source,
        createdAt: u.createdAt,
      })),
    },
    null,
    2,
  )}\n`;
}

/** Field readers that throw KEYSTORE_CORRUPT naming the file and the field. */
class Fields {
  constructor(
    private readonly path: string,
    private readonly obj: Record<string, unknown>,
    private readonly where: string,
  ) {}

  static root(path: string, text: string, format: string): Fields {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw corrupt(path, 'not valid JSON');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw corrupt(path, 'not a JSON object');
    const f = new Fields(path, json as Record<string, unknown>, '');
    if (f.str('format') !== format) throw corrupt(path, `"format" is not "${format}"`);
    if (f.obj.version !== FORMAT_VERSION) {
      throw corrupt(
        path,
        `"version" ${String(f.obj.version)} is not ${FORMAT_VERSION} (written by another PawLink version?)`,
      );
    }
    return f;
  }

  #fail(key: string, why: string): SdkError {
    return corrupt(this.path, `"${this.where}${key}" ${why}`);
  }

  str(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') throw this.#fail(key, 'is not a string');
    return v;
  }

  hex(key: string, length: number): Uint8Array {
    const v = this.str(key);
    if (v.length !== length * 2 || !/^[0-9a-f]*$/.test(v))
      throw this.#fail(key, `is not ${length} bytes of hex`);
    return new Uint8Array(Buffer.from(v, 'hex'));
  }

  int(key: string, min: number, max: number): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw this.#fail(key, `is not an integer in ${min}..${max}`);
    }
    return v;
  }

  optionalInt(key: string, min: number, max: number): number | undefined {
    return this.obj[key] === undefined ? undefined : this.int(key, min, max);
  }

  name(key: string): string {
    const v = this.str(key);
    try {
      checkName(v, key);
    } catch {
      throw this.#fail(key, `is longer than ${NAME_MAX_BYTES} bytes or holds control characters`);
    }
    return v;
  }

  list(key: string): Fields[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) throw this.#fail(key, 'is not a list');
    return v.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw this.#fail(`${key}[${i}]`, 'is not an object');
      return new Fields(this.path, item as Record<string, unknown>, `${this.where}${key}[${i}].`);
    });
  }

  child(key: string): Fields {
    const v = this.obj[key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.#fail(key, 'is not an object');
    return new Fields(this.path, v as Record<string, unknown>, `${this.where}${key}.`);
  }

  fail(why: string): SdkError {
    return corrupt(this.path, why);
  }
}

const MAX_TIME = 8.64e15;

/** Decodes identity.json. @throws SdkError KEYSTORE_CORRUPT naming `path`. */
export function parseIdentityFile(text: string, path: string = IDENTITY_FILE): PhoneIdentity {
  const f = Fields.root(path, text, 'pawlink-phone-identity');
  const phoneId = f.hex('phoneId', ID_LEN);
  const privateKey = f.hex('privateKey', KEY_LEN);
  const publicKey = f.hex('publicKey', KEY_LEN);
  const name = f.name('name');
  const staticKeyPair = keyPairFromPrivateKey(privateKey);
  if (!bytesEqual(staticKeyPair.publicKey, publicKey))
    throw f.fail('"publicKey" does not match "privateKey"');
  return redacted({ phoneId, staticKeyPair, name });
}

/** Decodes toys.json. @throws SdkError KEYSTORE_CORRUPT naming `path`. */
export function parseToysFile(text: string, path: string = TOYS_FILE): StoredToy[] {
  const f = Fields.root(path, text, 'pawlink-paired-toys');
  const toys = f.list('toys').map((t) => {
    const role = t.str('role');
    if (role !== 'admin' && role !== 'member') throw t.fail(`role "${role}" is neither admin nor member`);
    const toy: StoredToy = {
      toyId: t.hex('toyId', ID_LEN),
      toyStaticPublicKey: t.hex('toyStaticPublicKey', KEY_LEN),
      tagKey: t.hex('tagKey', TAG_KEY_LEN),
      role,
      label: t.name('label'),
      pairedAt: t.int('pairedAt', 0, MAX_TIME),
    };
    const lastSeen = t.optionalInt('lastSeen', 0, MAX_TIME);
    if (lastSeen !== undefined) toy.lastSeen = lastSeen;
    return redacted(toy);
  });
  const ids = new Set(toys.map((t) => toHex(t.toyId)));
  if (ids.size !== toys.length) throw f.fail('the same toyId appears twice');
  return toys;
}

/** Decodes uploads.json. @throws SdkError KEYSTORE_CORRUPT naming `path`. */
export function parseUploadsFile(text: string, path: string = UPLOADS_FILE): PendingUpload[] {
  const f = Fields.root(path, text, 'pawlink-pending-uploads');
  const uploads = f.list('uploads').map((u) => {
    const s = u.child('source');
    const kind = s.str('kind');
    let source: PendingUpload['source'];
    if (kind === 'file') source = { kind, path: s.str('path') };
    else if (kind === 'stored') {
      const file = s.str('file');
      if (!/^uploads\/[0-9a-f]{32}-[0-9]{1,10}\.bin$/.test(file))
        throw s.fail(`stored file "${file}" is not a keystore upload file`);
      source = { kind, file };
    } else throw s.fail(`source kind "${kind}" is neither file nor stored`);
    return {
      toyId: u.hex('toyId', ID_LEN),
      transferId: u.int('transferId', 1, 0xffffffff),
      sha256: u.hex('sha256', SHA256_LEN),
      totalBytes: u.int('totalBytes', 1, Number.MAX_SAFE_INTEGER),
      source,
      createdAt: u.int('createdAt', 0, MAX_TIME),
    };
  });
  const ids = new Set(uploads.map((u) => `${toHex(u.toyId)}-${u.transferId}`));
  if (ids.size !== uploads.length) throw f.fail('the same upload appears twice');
  return uploads;
}

// ---- helpers ----

/** Hides the private key and tag key from console.log / util.inspect (the data stays intact). */
function redacted<T extends PhoneIdentity | StoredToy>(value: T): T {
  Object.defineProperty(value, inspect.custom, {
    enumerable: false,
    configurable: true,
    value: () => {
      if ('phoneId' in value) {
        return {
          phoneId: toHex(value.phoneId),
          staticKeyPair: { publicKey: toHex(value.staticKeyPair.publicKey), privateKey: '[secret]' },
          name: value.name,
        };
      }
      const { toyId, toyStaticPublicKey, role, label, pairedAt, lastSeen } = value as StoredToy;
      return {
        toyId: toHex(toyId),
        toyStaticPublicKey: toHex(toyStaticPublicKey),
        tagKey: '[secret]',
        role,
        label,
        pairedAt,
        lastSeen,
      };
    },
  });
  return value;
}

function sameUpload(u: PendingUpload, toyId: Uint8Array, transferId: number): boolean {
  return u.transferId === transferId && bytesEqual(u.toyId, toyId);
}

function checkBytes(v: unknown, length: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new SdkError('BAD_INPUT', `${what} must be ${length} bytes`);
  }
}

function checkName(name: unknown, what: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  const bad = /[\u0000-\u001f\u007f\ufeff]/;
  if (typeof name !== 'string' || utf8.encode(name).length > NAME_MAX_BYTES || bad.test(name)) {
    throw new SdkError(
      'BAD_NAME',
      `the ${what} must be at most ${NAME_MAX_BYTES} UTF-8 bytes without control characters`,
    );
  }
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') {
      const mode = statSync(dir).mode & 0o777;
      if ((mode & 0o022) !== 0) {
        throw new SdkError(
          'KEYSTORE_INSECURE_DIR',
          `${dir} is writable by other users (mode ${mode.toString(8)}): use a private directory (chmod 700 ${dir}) or another --home`,
        );
      }
    }
  } catch (e) {
    if (e instanceof SdkError) throw e;
    throw unreadable(dir, e);
  }
}

const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Deletes temporary files a crashed write left (they may hold a key). */
function removeStaleTemps(dir: string): void {
  for (const sub of [dir, join(dir, UPLOADS_DIR)]) {
    let names: string[];
    try {
      names = readdirSync(sub);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (!m) continue;
      const pid = Number(m[2]);
      if (pid !== process.pid && processAlive(pid)) continue;
      safeUnlink(join(sub, name));
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there.
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on this platform (Windows); the rename is as durable as it gets.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function corrupt(path: string, why: string): SdkError {
  return new SdkError(
    'KEYSTORE_CORRUPT',
    `${path} is damaged: ${why}. It was left as it is: repair it or move it away` +
      (basename(path) === IDENTITY_FILE ? ' (without it this phone is a new phone and must pair again)' : ''),
  );
}

function unreadable(path: string, e: unknown): SdkError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return new SdkError(
    'KEYSTORE_UNREADABLE',
    `${path} cannot be read (${code}): check its owner and permissions`,
    {
      cause: e,
    },
  );
}

function writeFailed(path: string, e: unknown): SdkError {
  const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : 'error');
  return new SdkError(
    'KEYSTORE_WRITE_FAILED',
    `${path} could not be written (${code}); the previous version is intact`,
    {
      cause: e,
    },
  );
}
