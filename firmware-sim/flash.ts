/**
 * The toy's flash: a simulated NOR flash device and the encrypted, power-cut-safe key-value store
 * the firmware keeps on it.
 *
 * ## The device (`FlashDevice`)
 *
 * Modelled on a serial NOR flash: `size` bytes in pages of `pageSize` bytes (the erase unit). An
 * erased byte reads 0xFF. `program` writes bytes that are erased (writing over a programmed byte
 * is refused with NOT_ERASED: the simulator catches what a real chip would silently corrupt);
 * `erase` sets a whole page back to 0xFF. `sync` is the durability barrier (fdatasync for the
 * file-backed device). `MemoryFlash` keeps the image in memory; `FileFlash` writes it through to
 * one image file (`flash.bin` in the state directory).
 *
 * Power cuts: `cutPowerAfter(n)` arms a fault; the write in progress stops after `n` more bytes
 * (a program counts its bytes, an erase counts `pageSize`, erased from the start of the page). The
 * byte being written when the power dies is left half-done (a program sets only its low nibble, an
 * erase only the low nibble's bits), what follows is untouched, the operation throws POWER_CUT
 * and the device refuses every later call until a "reboot": a new device on the same image
 * (`new MemoryFlash({ image: old.dump() })`, or `FileFlash.open` on the same file).
 *
 * ## The store (`FlashStore`)
 *
 * A shadow-paged key-value store: values live in data pages, and one sealed index says which
 * pages hold which key. A commit writes the new values into free pages, then writes a complete
 * new index into the next index slot; that index write is the commit point. Nothing already
 * committed is ever overwritten before a newer index is durable, so a power cut at any byte of any
 * write leaves either the previous index (state before) or the new one (state after), never a mix.
 *
 * Layout (pages): `slotCount` index slots of `slotPages` pages each, used round-robin (wear is
 * spread over them), then the data area. Between commits exactly one slot holds an index (the
 * current one) and the others are erased.
 *
 * Index slot = header (36 bytes, plaintext) ‖ sealed body:
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic "PLKV" |
 * | 4 | 1 | format version (1) |
 * | 5 | 1 | slotCount |
 * | 6 | 2 | slotPages (u16 LE; all integers are little-endian) |
 * | 8 | 4 | pageSize |
 * | 12 | 4 | pageCount |
 * | 16 | 8 | keyCheck: identifies the device key without revealing it (see `FlashSealer`) |
 * | 24 | 4 | seq: commit number, +1 per commit (the highest valid one is current) |
 * | 28 | 4 | body length |
 * | 32 | 4 | first 4 bytes of SHA-256(bytes 0..31): tells a complete header from a torn one |
 *
 * The body is sealed (ChaCha20-Poly1305, random nonce) with the header as associated data, so a
 * torn, altered or misplaced index never opens. Plaintext body: u32 allocation cursor, u32 entry
 * count, then per entry in key order: u8 key length, key (UTF-8), u8 placement (0 inline, 1 pages),
 * u32 sealed value length, then either the sealed value (inline) or u16 extent count and per
 * extent u32 first page, u32 page count.
 *
 * Every value is sealed on its own (nonce ‖ ciphertext ‖ tag) with associated data naming its key,
 * so a value cannot be moved to another key. Small sealed values (≤ `inlineMax`) live inside the
 * index; larger ones in whole data pages (a value never shares a page), allocated next-fit from a
 * rotating cursor, contiguous when a free run is long enough.
 *
 * After the commit point the previous slot is erased, then every page the commit freed: a deleted
 * value's ciphertext does not outlive its delete. Mount repeats that clean-up after a power cut
 * (erases every slot but the current one and every free page that is not blank).
 *
 * What a damaged or tampered image gives: a value whose pages were altered fails authentication
 * (get throws CORRUPT_VALUE; other values stay readable); an altered index does not open, and as
 * the previous slots are erased after each commit, mount throws CORRUPT_IMAGE rather than falling
 * back to an old state; an index under another device key gives WRONG_DEVICE_KEY. A blank device,
 * or one whose very first format was cut, is formatted. Garbage is never returned as a value.
 * Key names are inside the sealed index: a dump shows only which pages are in use.
 *
 * Limits: every commit rewrites the whole index (a few KB for a toy's keys; INDEX_FULL beyond the
 * slot); seq is a u32 (4 billion commits); someone who can write the flash can put back a whole
 * older image (a rollback), which only a monotonic counter in the secure element could detect.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Reader, utf8, Writer } from '../protocol/bytes.js';
import { FlashError } from './errors.js';

/** Default simulated flash: 16 MiB, a common serial NOR size (e.g. 128 Mbit parts). */
export const FLASH_SIZE_DEFAULT = 16 * 1024 * 1024;
/** Default erase unit: 4 KiB, the sector erase of common serial NOR flash. */
export const FLASH_PAGE_SIZE_DEFAULT = 4096;
/** What an erased byte reads. */
export const ERASED_BYTE = 0xff;
/** Name of the flash image in the toy's state directory. */
export const FLASH_IMAGE_FILE = 'flash.bin';

/** Index slots used round-robin by default. */
export const INDEX_SLOTS_DEFAULT = 4;
/** Default bytes per index slot (rounded up to whole pages; at most 1/16 of the flash). */
export const INDEX_SLOT_BYTES_DEFAULT = 64 * 1024;
/** Sealed values up to this many bytes are kept inside the index by default. */
export const INLINE_MAX_DEFAULT = 128;
/** Index header length in bytes (see the table above). */
export const INDEX_HEADER_LEN = 36;
/** On-flash format version of the store. */
export const STORE_FORMAT_VERSION = 1;

const MAGIC = Uint8Array.of(0x50, 0x4c, 0x4b, 0x56); // "PLKV"
const MAX_KEY_BYTES = 255;
const AD_VALUE = utf8.encode('PawLink flash value\0');
const AD_INDEX = utf8.encode('PawLink flash index\0');

// ---------------------------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------------------------

/**
 * A NOR flash as the firmware sees it. Synchronous, like a memory-mapped or SPI flash driver.
 * Rules every implementation keeps: bytes outside [0, size) are refused (OUT_OF_BOUNDS); `program`
 * only writes erased (0xFF) bytes and refuses the whole call otherwise (NOT_ERASED), changing
 * nothing; `erase` sets one page to 0xFF; a write is durable once `sync` returns.
 */
export interface FlashDevice {
  /** Bytes. A multiple of pageSize. */
  readonly size: number;
  /** Erase unit in bytes. */
  readonly pageSize: number;
  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array;
  /** Blank check: are the `length` bytes at `offset` all erased (0xFF)? */
  isErased(offset: number, length: number): boolean;
  /** Programs erased bytes at `offset`. */
  program(offset: number, bytes: Uint8Array): void;
  /** Erases page `page` (bytes page × pageSize … + pageSize) to 0xFF. */
  erase(page: number): void;
  /** Returns when everything programmed or erased so far survives a crash. */
  sync(): void;
  /** Releases the device (file, lock). Later calls throw. */
  close(): void;
}

export interface MemoryFlashOptions {
  /** Bytes (default 16 MiB). Ignored when `image` is given. */
  size?: number;
  /** Erase unit (default 4096). */
  pageSize?: number;
  /** Start from this image (taken as is: a "reboot" on a dumped image). Default: all erased. */
  image?: Uint8Array;
}

function checkGeometry(size: number, pageSize: number): void {
  if (!Number.isInteger(pageSize) || pageSize < 64 || (pageSize & (pageSize - 1)) !== 0) {
    throw new FlashError('BAD_GEOMETRY', `page size ${pageSize} must be a power of two of at least 64 bytes`);
  }
  if (!Number.isInteger(size) || size % pageSize !== 0 || size / pageSize < 8 || size > 2 ** 31) {
    throw new FlashError(
      'BAD_GEOMETRY',
      `flash size ${size} must be a multiple of the page size, at least 8 pages and at most 2 GiB`,
    );
  }
}

/**
 * A NOR flash in memory, with the power-cut fault hook and write counters. The base of FileFlash.
 */
export class MemoryFlash implements FlashDevice {
  readonly size: number;
  readonly pageSize: number;
  protected readonly image: Uint8Array;
  #budget: number | undefined;
  #off = false;
  #closed = false;
  #bytesWritten = 0;
  #programs = 0;
  #erases = 0;

  constructor(options: MemoryFlashOptions = {}) {
    this.pageSize = options.pageSize ?? FLASH_PAGE_SIZE_DEFAULT;
    this.size = options.image ? options.image.length : (options.size ?? FLASH_SIZE_DEFAULT);
    checkGeometry(this.size, this.pageSize);
    if (options.image) this.image = options.image.slice();
    else this.image = new Uint8Array(this.size).fill(ERASED_BYTE);
  }

  get pageCount(): number {
    return this.size / this.pageSize;
  }

  /** Units written so far: programmed bytes plus pageSize per erase (what `cutPowerAfter` counts). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Number of program and erase calls that completed. */
  get counters(): { programs: number; erases: number } {
    return { programs: this.#programs, erases: this.#erases };
  }

  /** True after a simulated power cut: the device refuses everything until a reboot. */
  get poweredOff(): boolean {
    return this.#off;
  }

  /**
   * Arms a power cut: the write in progress stops after `bytes` more units (see bytesWritten).
   * `cutPowerAfter(0)` tears the very next byte written.
   */
  cutPowerAfter(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError('cutPowerAfter needs a count >= 0');
    this.#budget = bytes;
  }

  /** Disarms a pending power cut. */
  disarmPowerCut(): void {
    this.#budget = undefined;
  }

  /** A copy of the raw image, as a flash dump would read it (works even after a power cut). */
  dump(): Uint8Array {
    return this.image.slice();
  }

  read(offset: number, length: number): Uint8Array {
    this.#usable();
    this.#bounds(offset, length);
    return this.image.slice(offset, offset + length);
  }

  isErased(offset: number, length: number): boolean {
    this.#usable();
    this.#bounds(offset, length);
    return isErased(this.image.subarray(offset, offset + length));
  }

  program(offset: number, bytes: Uint8Array): void {
    this.#usable();
    this.#bounds(offset, bytes.length);
    const img = this.image;
    for (let i = 0; i < bytes.length; i++) {
      if (img[offset + i] !== ERASED_BYTE) {
        throw new FlashError(
          'NOT_ERASED',
          `program at 0x${(offset + i).toString(16)}: the byte is not erased (erase its page first)`,
        );
      }
    }
    const n = this.#allow(bytes.length);
    img.set(bytes.subarray(0, n), offset);
    if (n < bytes.length) {
      img[offset + n] = bytes[n]! | 0xf0; // half-programmed: only the low nibble's bits cleared
      this.persist(offset, n + 1);
      this.#powerCut('program', offset + n);
    }
    this.persist(offset, bytes.length);
    this.#programs++;
  }

  erase(page: number): void {
    this.#usable();
    if (!Number.isInteger(page) || page < 0 || page >= this.pageCount) {
      throw new FlashError('OUT_OF_BOUNDS', `erase of page ${page}: the flash has ${this.pageCount} pages`);
    }
    const start = page * this.pageSize;
    const n = this.#allow(this.pageSize);
    this.image.fill(ERASED_BYTE, start, start + n);
    if (n < this.pageSize) {
      this.image[start + n]! |= 0x0f; // half-erased byte
      this.persist(start, n + 1);
      this.#powerCut('erase', start + n);
    }
    this.persist(start, this.pageSize);
    this.#erases++;
  }

  sync(): void {
    this.#usable();
  }

  close(): void {
    this.#closed = true;
  }

  /** Write-through hook for a backing file: bytes [offset, offset + length) of the image changed. */
  protected persist(_offset: number, _length: number): void {}

  /** Called once when the simulated power dies (a backing file closes here). */
  protected onPowerCut(): void {}

  #usable(): void {
    if (this.#off) {
      throw new FlashError('POWER_CUT', 'the flash has no power since a simulated power cut: reboot the toy');
    }
    if (this.#closed) throw new FlashError('IO_ERROR', 'the flash device is closed');
  }

  #bounds(offset: number, length: number): void {
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new FlashError('OUT_OF_BOUNDS', `bytes ${offset}..${offset + length} are outside the flash`);
    }
  }

  /** How many of `units` may be written before the armed power cut (all when none is armed). */
  #allow(units: number): number {
    if (this.#budget === undefined) {
      this.#bytesWritten += units;
      return units;
    }
    const n = Math.min(units, this.#budget);
    this.#budget -= n;
    this.#bytesWritten += n;
    return n;
  }

  #powerCut(what: string, at: number): never {
    this.#off = true;
    this.#budget = undefined;
    this.onPowerCut();
    throw new FlashError('POWER_CUT', `simulated power cut during a flash ${what} at 0x${at.toString(16)}`);
  }
}

export interface FileFlashOptions {
  /** Bytes of a new image (default 16 MiB); an existing image must have this size. */
  size?: number;
  /** Erase unit (default 4096). */
  pageSize?: number;
}

/**
 * A NOR flash kept in one image file (mode 0600), written through on every program and erase and
 * fdatasync'd on `sync`. The image is created erased (via a temporary file and a rename, so a
 * crash never leaves a short image). A lock file beside it (`<image>.lock`, holding the pid) keeps
 * a second running toy off the same image (STATE_IN_USE); a lock left by a dead process, or by
 * this process (a simulated reboot), is taken over.
 */
export class FileFlash extends MemoryFlash {
  readonly path: string;
  #fd: number | undefined;
  readonly #lockPath: string;

  private constructor(path: string, fd: number, image: Uint8Array, pageSize: number, lockPath: string) {
    super({ image, pageSize });
    this.path = path;
    this.#fd = fd;
    this.#lockPath = lockPath;
  }

  static open(path: string, options: FileFlashOptions = {}): FileFlash {
    const size = options.size ?? FLASH_SIZE_DEFAULT;
    const pageSize = options.pageSize ?? FLASH_PAGE_SIZE_DEFAULT;
    checkGeometry(size, pageSize);
    const lockPath = `${path}.lock`;
    acquireLock(lockPath);
    let fd: number | undefined;
    try {
      fd = openImage(path, size);
      const actual = fstatSync(fd).size;
      if (actual !== size) {
        throw new FlashError(
          'IMAGE_SIZE_MISMATCH',
          `${path} is ${actual} bytes but the simulated flash is ${size} bytes: use the same flash size, or another --state directory`,
        );
      }
      const image = new Uint8Array(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, image, done, size - done, done);
        if (n === 0) throw new FlashError('IO_ERROR', `${path}: unexpected end of file`);
        done += n;
      }
      return new FileFlash(path, fd, image, pageSize, lockPath);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      releaseLock(lockPath);
      throw asIoError(e, path);
    }
  }

  override sync(): void {
    super.sync();
    try {
      if (this.#fd !== undefined) fdatasyncSync(this.#fd);
    } catch (e) {
      throw asIoError(e, this.path);
    }
  }

  override close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
      releaseLock(this.#lockPath);
    }
    super.close();
  }

  protected override persist(offset: number, length: number): void {
    if (this.#fd === undefined) return;
    try {
      let done = 0;
      while (done < length) {
        done += writeSync(this.#fd, this.image, offset + done, length - done, offset + done);
      }
    } catch (e) {
      throw asIoError(e, this.path);
    }
  }

  protected override onPowerCut(): void {
    // The process "loses power": the file keeps what was written; the lock stays (as after a real
    // crash) and is taken over by the next open in this process.
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function asIoError(e: unknown, path: string): FlashError {
  if (e instanceof FlashError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
  return new FlashError('IO_ERROR', `${path}: ${code} (${(e as Error).message})`, { cause: e });
}

/** Opens the image read-write, creating it erased (temp file + rename) when it does not exist. */
function openImage(path: string, size: number): number {
  try {
    return openSync(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const chunk = new Uint8Array(Math.min(size, 1 << 20)).fill(ERASED_BYTE);
    for (let at = 0; at < size; at += chunk.length) {
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
  return openSync(path, 'r+');
}

/** fsync a directory so a rename or link in it is durable (ignored where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is then as durable as it gets.
  } finally {
    if (fd !== undefined) closeSync(fd);
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

function acquireLock(lockPath: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw asIoError(e, lockPath);
    }
    let pid = Number.NaN;
    try {
      pid = Number(readFileSync(lockPath, 'utf8').trim());
    } catch {
      // Removed meanwhile, or unreadable: try again.
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new FlashError(
        'STATE_IN_USE',
        `another toy (process ${pid}) is using ${dirname(lockPath)}: stop it, or use another --state directory`,
      );
    }
    try {
      unlinkSync(lockPath);
    } catch {
      // Another process took it over first; the next attempt sees its lock.
    }
  }
  throw new FlashError('STATE_IN_USE', `could not lock ${lockPath}`);
}

function releaseLock(lockPath: string): void {
  try {
    if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
  } catch {
    // Already gone.
  }
}

/** True when every byte is 0xFF. */
export function isErased(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < view.length; at += ERASED_CHUNK.length) {
    const part = view.subarray(at, Math.min(view.length, at + ERASED_CHUNK.length));
    if (part.compare(ERASED_CHUNK, 0, part.length) !== 0) return false;
  }
  return true;
}
const ERASED_CHUNK = Buffer.alloc(4096, ERASED_BYTE);

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/**
 * Seals and opens the store's values and index (implemented by the secure element, which keeps the
 * key). `seal` must use a fresh nonce each call.
 */
export interface FlashSealer {
  /** 8 bytes derived from the key: tells "another key" from "damaged" without revealing the key. */
  readonly keyCheck: Uint8Array;
  /** Bytes `seal` adds to a plaintext (nonce + tag). */
  readonly overhead: number;
  seal(associatedData: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or null if `sealed` fails authentication. */
  open(associatedData: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

export interface FlashStoreOptions {
  /** Index slots (≥ 2, default 4). Fixed at format time; the header records it. */
  slotCount?: number;
  /** Pages per index slot (default: 64 KiB worth, at most 1/16 of the flash). Fixed at format time. */
  slotPages?: number;
  /** Sealed values up to this many bytes are kept in the index (default 128). */
  inlineMax?: number;
}

export type FlashOp = { op: 'put'; key: string; value: Uint8Array } | { op: 'delete'; key: string };

export interface FlashStats {
  pageSize: number;
  /** Pages of the data area. */
  dataPages: number;
  freePages: number;
  /** dataPages × pageSize. */
  totalBytes: number;
  /** freePages × pageSize. */
  freeBytes: number;
  keys: number;
  /** Current commit number. */
  seq: number;
  /** Bytes of the current index (header + sealed body) and what a slot holds. */
  indexBytes: number;
  indexCapacity: number;
}

interface Extent {
  first: number;
  count: number;
}

interface Entry {
  sealedLength: number;
  inline?: Uint8Array;
  extents?: Extent[];
}

interface Layout {
  pageSize: number;
  pageCount: number;
  slotCount: number;
  slotPages: number;
  dataStart: number;
}

interface IndexHeader {
  version: number;
  slotCount: number;
  slotPages: number;
  pageSize: number;
  pageCount: number;
  keyCheck: Uint8Array;
  seq: number;
  bodyLength: number;
}

function resolveLayout(device: FlashDevice, options: FlashStoreOptions): Layout {
  const { pageSize, size } = device;
  const pageCount = size / pageSize;
  const slotCount = options.slotCount ?? INDEX_SLOTS_DEFAULT;
  const slotPages =
    options.slotPages ??
    Math.max(1, Math.min(Math.ceil(INDEX_SLOT_BYTES_DEFAULT / pageSize), Math.floor(pageCount / 16)));
  if (!Number.isInteger(slotCount) || slotCount < 2 || slotCount > 255) {
    throw new FlashError('BAD_GEOMETRY', `slotCount ${slotCount} must be 2..255`);
  }
  if (!Number.isInteger(slotPages) || slotPages < 1 || slotPages > 0xffff) {
    throw new FlashError('BAD_GEOMETRY', `slotPages ${slotPages} must be 1..65535`);
  }
  const dataStart = slotCount * slotPages;
  if (dataStart >= pageCount) {
    throw new FlashError(
      'BAD_GEOMETRY',
      `${slotCount} index slots of ${slotPages} pages leave no data pages`,
    );
  }
  return { pageSize, pageCount, slotCount, slotPages, dataStart };
}

function headerCheck(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes.subarray(0, 32)).digest()).subarray(0, 4);
}

function encodeHeader(layout: Layout, keyCheck: Uint8Array, seq: number, bodyLength: number): Uint8Array {
  const w = new Writer(FlashError)
    .bytes(MAGIC)
    .u8(STORE_FORMAT_VERSION)
    .u8(layout.slotCount)
    .u16(layout.slotPages)
    .u32(layout.pageSize)
    .u32(layout.pageCount)
    .bytes(keyCheck)
    .u32(seq)
    .u32(bodyLength);
  const first = w.finish();
  const out = new Uint8Array(INDEX_HEADER_LEN);
  out.set(first);
  out.set(headerCheck(first), 32);
  return out;
}

/** A complete header (magic and check hash right), or undefined for a blank, torn or foreign one. */
function parseHeader(bytes: Uint8Array): IndexHeader | undefined {
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) return undefined;
  const check = headerCheck(bytes);
  for (let i = 0; i < 4; i++) if (bytes[32 + i] !== check[i]) return undefined;
  const r = new Reader(bytes, FlashError, 'index header');
  r.bytes(4);
  return {
    version: r.u8(),
    slotCount: r.u8(),
    slotPages: r.u16(),
    pageSize: r.u32(),
    pageCount: r.u32(),
    keyCheck: r.bytes(8),
    seq: r.u32(),
    bodyLength: r.u32(),
  };
}

function valueAd(key: string): Uint8Array {
  const k = utf8.encode(key);
  const ad = new Uint8Array(AD_VALUE.length + k.length);
  ad.set(AD_VALUE);
  ad.set(k, AD_VALUE.length);
  return ad;
}

function indexAd(header: Uint8Array): Uint8Array {
  const ad = new Uint8Array(AD_INDEX.length + header.length);
  ad.set(AD_INDEX);
  ad.set(header, AD_INDEX.length);
  return ad;
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || utf8.encode(key).length > MAX_KEY_BYTES) {
    throw new FlashError('BAD_KEY', `a key is a non-empty string of at most ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeBody(cursor: number, entries: Map<string, Entry>): Uint8Array {
  const w = new Writer(FlashError).u32(cursor).u32(entries.size);
  for (const key of [...entries.keys()].sort(compareKeys)) {
    const e = entries.get(key)!;
    w.bytes8(utf8.encode(key));
    if (e.inline) {
      w.u8(0).u32(e.sealedLength).bytes(e.inline);
    } else {
      const extents = e.extents!;
      w.u8(1).u32(e.sealedLength).u16(extents.length);
      for (const x of extents) w.u32(x.first).u32(x.count);
    }
  }
  return w.finish();
}

function decodeBody(
  body: Uint8Array,
  layout: Layout,
): { cursor: number; entries: Map<string, Entry>; used: Uint8Array } {
  const corrupt = (why: string) =>
    new FlashError('CORRUPT_IMAGE', `the flash index is inconsistent (${why}); the image cannot be used`);
  try {
    const r = new Reader(body, FlashError, 'flash index');
    const cursor = r.u32();
    const count = r.u32();
    const entries = new Map<string, Entry>();
    const used = new Uint8Array(layout.pageCount);
    let previous: string | undefined;
    for (let i = 0; i < count; i++) {
      const key = utf8.decode(r.bytes(r.u8()), FlashError);
      if (key.length === 0 || (previous !== undefined && compareKeys(previous, key) >= 0)) {
        throw corrupt('keys out of order');
      }
      previous = key;
      const placement = r.u8();
      const sealedLength = r.u32();
      if (placement === 0) {
        entries.set(key, { sealedLength, inline: r.bytes(sealedLength) });
        continue;
      }
      if (placement !== 1) throw corrupt('unknown placement');
      const n = r.u16();
      const extents: Extent[] = [];
      let pages = 0;
      for (let j = 0; j < n; j++) {
        const first = r.u32();
        const pageCount = r.u32();
        if (pageCount < 1 || first < layout.dataStart || first + pageCount > layout.pageCount) {
          throw corrupt('extent outside the data area');
        }
        for (let p = first; p < first + pageCount; p++) {
          if (used[p]) throw corrupt('a page used twice');
          used[p] = 1;
        }
        extents.push({ first, count: pageCount });
        pages += pageCount;
      }
      if (pages !== Math.ceil(sealedLength / layout.pageSize) || sealedLength === 0) {
        throw corrupt('value length does not match its pages');
      }
      entries.set(key, { sealedLength, extents });
    }
    r.end();
    return { cursor: cursor % layout.pageCount, entries, used };
  } catch (e) {
    if (e instanceof FlashError && e.code === 'CORRUPT_IMAGE') throw e;
    throw corrupt((e as Error).message);
  }
}

type SlotScan =
  | { state: 'blank' | 'garbage' | 'foreign' }
  | { state: 'invalid'; seq: number }
  | { state: 'valid'; seq: number; body: Uint8Array; bytes: number };

/**
 * The encrypted key-value store on a FlashDevice (format and guarantees: see the file comment).
 * Synchronous; every mutation (put, delete, batch) is one atomic commit, durable when it returns.
 */
export class FlashStore {
  readonly #device: FlashDevice;
  readonly #sealer: FlashSealer;
  readonly #layout: Layout;
  readonly #inlineMax: number;
  #entries: Map<string, Entry>;
  #used: Uint8Array;
  #freePages: number;
  #cursor: number;
  #seq: number;
  #slot: number;
  #indexBytes: number;
  #broken = false;

  private constructor(
    device: FlashDevice,
    sealer: FlashSealer,
    layout: Layout,
    inlineMax: number,
    state: {
      entries: Map<string, Entry>;
      used: Uint8Array;
      cursor: number;
      seq: number;
      slot: number;
      bytes: number;
    },
  ) {
    this.#device = device;
    this.#sealer = sealer;
    this.#layout = layout;
    this.#inlineMax = inlineMax;
    this.#entries = state.entries;
    this.#used = state.used;
    this.#cursor = state.cursor;
    this.#seq = state.seq;
    this.#slot = state.slot;
    this.#indexBytes = state.bytes;
    let used = 0;
    for (let p = layout.dataStart; p < layout.pageCount; p++) used += state.used[p]!;
    this.#freePages = layout.pageCount - layout.dataStart - used;
  }

  /**
   * Mounts the store: finds the current index, finishes the clean-up of an interrupted commit,
   * and formats a blank device (or one whose first format was cut).
   * @throws FlashError WRONG_DEVICE_KEY, CORRUPT_IMAGE, LAYOUT_MISMATCH, UNSUPPORTED_FORMAT, device errors.
   */
  static open(device: FlashDevice, sealer: FlashSealer, options: FlashStoreOptions = {}): FlashStore {
    const layout = resolveLayout(device, options);
    const inlineMax = options.inlineMax ?? INLINE_MAX_DEFAULT;
    const scans = FlashStore.#scanSlots(device, sealer, layout);
    let best: { slot: number; seq: number; body: Uint8Array; bytes: number } | undefined;
    scans.forEach((s, slot) => {
      if (s.state === 'valid' && (!best || s.seq > best.seq)) best = { slot, ...s };
    });
    if (!best) {
      if (scans.some((s) => s.state === 'foreign')) {
        throw new FlashError(
          'WRONG_DEVICE_KEY',
          'the flash image was written under another device key (secure-element.key is missing or different): it cannot be read',
        );
      }
      const damaged =
        scans.some((s) => s.state === 'invalid' && s.seq > 1) || !dataAreaErased(device, layout);
      if (damaged) {
        throw new FlashError(
          'CORRUPT_IMAGE',
          'the flash image holds data but no valid index (damaged or tampered): it cannot be used; a factory reset formats it',
        );
      }
      return FlashStore.#formatLayout(device, sealer, layout, inlineMax, false);
    }
    const { cursor, entries, used } = decodeBody(best.body, layout);
    const store = new FlashStore(device, sealer, layout, inlineMax, {
      entries,
      used,
      cursor,
      seq: best.seq,
      slot: best.slot,
      bytes: best.bytes,
    });
    store.#recover();
    return store;
  }

  /**
   * Erases the whole device and starts an empty store (a factory format after CORRUPT_IMAGE or
   * WRONG_DEVICE_KEY). The index slots go first, so a cut format never mounts an old state.
   */
  static format(device: FlashDevice, sealer: FlashSealer, options: FlashStoreOptions = {}): FlashStore {
    const layout = resolveLayout(device, options);
    return FlashStore.#formatLayout(device, sealer, layout, options.inlineMax ?? INLINE_MAX_DEFAULT, true);
  }

  static #formatLayout(
    device: FlashDevice,
    sealer: FlashSealer,
    layout: Layout,
    inlineMax: number,
    wipeData: boolean,
  ): FlashStore {
    const last = wipeData ? layout.pageCount : layout.dataStart;
    for (let p = 0; p < last; p++) eraseIfNeeded(device, p);
    device.sync();
    const store = new FlashStore(device, sealer, layout, inlineMax, {
      entries: new Map(),
      used: new Uint8Array(layout.pageCount),
      cursor: layout.dataStart,
      seq: 0,
      slot: layout.slotCount - 1,
      bytes: 0,
    });
    // The first index goes to slot 0 (slot - 1 + 1); nothing to erase afterwards.
    store.#writeIndex(new Map(), layout.dataStart, []);
    return store;
  }

  static #scanSlots(device: FlashDevice, sealer: FlashSealer, layout: Layout): SlotScan[] {
    const { pageSize, slotPages } = layout;
    const slotBytes = slotPages * pageSize;
    const scans: SlotScan[] = [];
    for (let s = 0; s < layout.slotCount; s++) {
      const start = s * slotBytes;
      const headerBytes = device.read(start, INDEX_HEADER_LEN);
      const h = parseHeader(headerBytes);
      if (!h) {
        scans.push({ state: device.isErased(start, slotBytes) ? 'blank' : 'garbage' });
        continue;
      }
      if (h.version !== STORE_FORMAT_VERSION) {
        throw new FlashError(
          'UNSUPPORTED_FORMAT',
          `the flash image has store format ${h.version}; this simulator reads format ${STORE_FORMAT_VERSION}`,
        );
      }
      if (
        h.slotCount !== layout.slotCount ||
        h.slotPages !== layout.slotPages ||
        h.pageSize !== layout.pageSize ||
        h.pageCount !== layout.pageCount
      ) {
        throw new FlashError(
          'LAYOUT_MISMATCH',
          `the flash image was formatted for ${h.pageCount} pages of ${h.pageSize} bytes with ${h.slotCount} index slots of ${h.slotPages} pages; open it with the same layout`,
        );
      }
      if (!bytesEq(h.keyCheck, sealer.keyCheck)) {
        scans.push({ state: 'foreign' });
        continue;
      }
      if (INDEX_HEADER_LEN + h.bodyLength > slotBytes) {
        scans.push({ state: 'invalid', seq: h.seq });
        continue;
      }
      const sealed = device.read(start + INDEX_HEADER_LEN, h.bodyLength);
      const body = sealer.open(indexAd(headerBytes), sealed);
      scans.push(
        body
          ? { state: 'valid', seq: h.seq, body, bytes: INDEX_HEADER_LEN + h.bodyLength }
          : { state: 'invalid', seq: h.seq },
      );
    }
    return scans;
  }

  /** Erases every slot but the current one and every free data page that is not blank. */
  #recover(): void {
    this.#guard(() => {
      const { slotCount } = this.#layout;
      for (let s = 0; s < slotCount; s++) if (s !== this.#slot) this.#eraseSlot(s);
      for (let p = this.#layout.dataStart; p < this.#layout.pageCount; p++) {
        if (!this.#used[p]) eraseIfNeeded(this.#device, p);
      }
      this.#device.sync();
    });
  }

  // ---- reads ----

  /** The value stored under `key` (a fresh copy), or undefined. @throws FlashError CORRUPT_VALUE. */
  get(key: string): Uint8Array | undefined {
    checkKey(key);
    const e = this.#entries.get(key);
    if (!e) return undefined;
    let sealed: Uint8Array;
    if (e.inline) sealed = e.inline;
    else {
      sealed = new Uint8Array(e.sealedLength);
      let at = 0;
      for (const x of e.extents!) {
        const n = Math.min(x.count * this.#layout.pageSize, e.sealedLength - at);
        sealed.set(this.#device.read(x.first * this.#layout.pageSize, n), at);
        at += n;
      }
    }
    const value = this.#sealer.open(valueAd(key), sealed);
    if (!value) {
      throw new FlashError(
        'CORRUPT_VALUE',
        `the stored value "${key}" fails authentication (damaged or tampered flash)`,
      );
    }
    return value;
  }

  has(key: string): boolean {
    checkKey(key);
    return this.#entries.has(key);
  }

  /** Plaintext length of the value under `key` without reading it, or undefined. */
  valueLength(key: string): number | undefined {
    const e = this.#entries.get(key);
    return e ? e.sealedLength - this.#sealer.overhead : undefined;
  }

  /**
   * Where a value lives: inside the index, or in these data pages (in value order). For tests and
   * tools that inspect or damage a flash image on purpose.
   */
  locate(key: string): { inline: true } | { inline: false; pages: number[] } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.inline) return { inline: true };
    const pages: number[] = [];
    for (const x of e.extents!) for (let p = x.first; p < x.first + x.count; p++) pages.push(p);
    return { inline: false, pages };
  }

  /** The slot holding the current index and its byte range on the device (tests and tools). */
  get currentIndex(): { slot: number; offset: number; length: number } {
    return {
      slot: this.#slot,
      offset: this.#slot * this.#layout.slotPages * this.#layout.pageSize,
      length: this.#indexBytes,
    };
  }

  /** Keys starting with `prefix`, in ascending order. */
  keys(prefix = ''): string[] {
    return [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
  }

  /** Bytes sealing adds to each value (nonce + tag). */
  get sealOverhead(): number {
    return this.#sealer.overhead;
  }

  /** Data pages a value of `length` plaintext bytes takes (0 when it is kept in the index). */
  pagesFor(length: number): number {
    const sealed = length + this.#sealer.overhead;
    return sealed <= this.#inlineMax ? 0 : Math.ceil(sealed / this.#layout.pageSize);
  }

  stats(): FlashStats {
    const { pageSize, pageCount, dataStart, slotPages } = this.#layout;
    const dataPages = pageCount - dataStart;
    return {
      pageSize,
      dataPages,
      freePages: this.#freePages,
      totalBytes: dataPages * pageSize,
      freeBytes: this.#freePages * pageSize,
      keys: this.#entries.size,
      seq: this.#seq,
      indexBytes: this.#indexBytes,
      indexCapacity: slotPages * pageSize,
    };
  }

  // ---- writes ----

  put(key: string, value: Uint8Array): void {
    this.batch([{ op: 'put', key, value }]);
  }

  delete(key: string): void {
    this.batch([{ op: 'delete', key }]);
  }

  /**
   * Applies `ops` in order as ONE atomic commit: after a power cut at any point the store holds
   * either none or all of them. A batch that changes nothing writes nothing.
   * @throws FlashError FULL or INDEX_FULL (nothing written), BAD_KEY, NEEDS_REMOUNT, device errors.
   */
  batch(ops: readonly FlashOp[]): void {
    if (this.#broken) {
      throw new FlashError('NEEDS_REMOUNT', 'a flash write failed part-way: reopen the store before writing');
    }
    // Fold the ops: the last op on a key wins. Deleting an absent key changes nothing.
    const final = new Map<string, Uint8Array | null>();
    for (const op of ops) {
      checkKey(op.key);
      if (op.op === 'put') {
        if (!(op.value instanceof Uint8Array)) {
          throw new FlashError('BAD_VALUE', `the value of "${op.key}" is not a Uint8Array`);
        }
        final.set(op.key, op.value);
      } else if (op.op === 'delete') {
        final.set(op.key, null);
      } else {
        throw new FlashError('BAD_VALUE', `unknown op ${String((op as { op: unknown }).op)}`);
      }
    }
    for (const [key, v] of [...final]) if (v === null && !this.#entries.has(key)) final.delete(key);
    if (final.size === 0) return;

    // Plan everything before the first write: seal, allocate, build the index.
    const { pageSize } = this.#layout;
    const entries = new Map(this.#entries);
    const freed: Extent[] = [];
    const writes: Array<{ extents: Extent[]; sealed: Uint8Array }> = [];
    const taken = this.#used.slice();
    let cursor = this.#cursor;
    let pagesNeeded = 0;
    const sealedValues = new Map<string, Uint8Array>();
    for (const [key, v] of final) {
      if (v === null) continue;
      const sealed = this.#sealer.seal(valueAd(key), v);
      sealedValues.set(key, sealed);
      if (sealed.length > this.#inlineMax) pagesNeeded += Math.ceil(sealed.length / pageSize);
    }
    if (pagesNeeded > this.#freePages) {
      throw new FlashError(
        'FULL',
        `the flash is full: the commit needs ${pagesNeeded} pages, ${this.#freePages} are free`,
      );
    }
    for (const [key, v] of final) {
      const old = entries.get(key);
      if (old?.extents) freed.push(...old.extents);
      if (v === null) {
        entries.delete(key);
        continue;
      }
      const sealed = sealedValues.get(key)!;
      if (sealed.length <= this.#inlineMax) {
        entries.set(key, { sealedLength: sealed.length, inline: sealed });
        continue;
      }
      const alloc = allocate(taken, this.#layout, Math.ceil(sealed.length / pageSize), cursor);
      cursor = alloc.cursor;
      entries.set(key, { sealedLength: sealed.length, extents: alloc.extents });
      writes.push({ extents: alloc.extents, sealed });
    }
    const body = this.#sealedIndexSize(entries, cursor);
    if (body > this.#layout.slotPages * pageSize) {
      throw new FlashError(
        'INDEX_FULL',
        `the flash index would take ${body} bytes, more than its slot of ${this.#layout.slotPages * pageSize}`,
      );
    }

    this.#guard(() => {
      for (const w of writes) {
        let at = 0;
        for (const x of w.extents) {
          for (let p = x.first; p < x.first + x.count; p++) {
            eraseIfNeeded(this.#device, p);
            const n = Math.min(pageSize, w.sealed.length - at);
            this.#device.program(p * pageSize, w.sealed.subarray(at, at + n));
            at += n;
          }
        }
      }
      this.#device.sync();
      this.#writeIndex(entries, cursor, freed);
    });
  }

  /** Size of the sealed index for these entries (header + body + seal overhead). */
  #sealedIndexSize(entries: Map<string, Entry>, cursor: number): number {
    return INDEX_HEADER_LEN + encodeBody(cursor, entries).length + this.#sealer.overhead;
  }

  /**
   * Writes the index for `entries` into the next slot (the commit point), then erases the previous
   * slot and the `freed` pages. Updates the in-memory state right after the commit point.
   */
  #writeIndex(entries: Map<string, Entry>, cursor: number, freed: Extent[]): void {
    const { slotCount, slotPages, pageSize } = this.#layout;
    const seq = this.#seq + 1;
    const body = encodeBody(cursor, entries);
    const sealedLength = body.length + this.#sealer.overhead;
    const header = encodeHeader(this.#layout, this.#sealer.keyCheck, seq, sealedLength);
    const sealed = this.#sealer.seal(indexAd(header), body);
    const slot = (this.#slot + 1) % slotCount;
    const start = slot * slotPages * pageSize;
    this.#eraseSlot(slot);
    const index = new Uint8Array(INDEX_HEADER_LEN + sealed.length);
    index.set(header);
    index.set(sealed, INDEX_HEADER_LEN);
    this.#device.program(start, index);
    this.#device.sync();
    // ---- commit point: the new index is durable ----
    const previous = this.#slot;
    this.#entries = entries;
    this.#cursor = cursor;
    this.#seq = seq;
    this.#slot = slot;
    this.#indexBytes = index.length;
    const used = new Uint8Array(this.#layout.pageCount);
    let usedCount = 0;
    for (const e of entries.values()) {
      for (const x of e.extents ?? []) {
        used.fill(1, x.first, x.first + x.count);
        usedCount += x.count;
      }
    }
    this.#used = used;
    this.#freePages = this.#layout.pageCount - this.#layout.dataStart - usedCount;
    if (previous !== slot) this.#eraseSlot(previous);
    for (const x of freed) {
      for (let p = x.first; p < x.first + x.count; p++) if (!used[p]) eraseIfNeeded(this.#device, p);
    }
    this.#device.sync();
  }

  #eraseSlot(slot: number): void {
    const first = slot * this.#layout.slotPages;
    for (let p = first; p < first + this.#layout.slotPages; p++) eraseIfNeeded(this.#device, p);
  }

  /** Runs device writes; any failure part-way leaves the store refusing writes until a remount. */
  #guard(run: () => void): void {
    try {
      run();
    } catch (e) {
      this.#broken = true;
      throw e;
    }
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function eraseIfNeeded(device: FlashDevice, page: number): void {
  if (!device.isErased(page * device.pageSize, device.pageSize)) device.erase(page);
}

function dataAreaErased(device: FlashDevice, layout: Layout): boolean {
  const start = layout.dataStart * layout.pageSize;
  return device.isErased(start, device.size - start);
}

/**
 * Takes `count` free pages (marking them in `taken`): the first free run of at least `count` pages
 * from `cursor` (wrapping), else the free runs in address order from the cursor.
 */
function allocate(
  taken: Uint8Array,
  layout: Layout,
  count: number,
  cursor: number,
): { extents: Extent[]; cursor: number } {
  const { dataStart, pageCount } = layout;
  const span = pageCount - dataStart;
  const start = cursor >= dataStart && cursor < pageCount ? cursor : dataStart;
  const at = (i: number) => dataStart + ((start - dataStart + i) % span);
  // Free runs in scan order (a run never wraps past the end of the flash).
  const runs: Extent[] = [];
  let run: Extent | undefined;
  for (let i = 0; i < span; i++) {
    const p = at(i);
    if (p === dataStart && run) {
      runs.push(run);
      run = undefined;
    }
    if (!taken[p]) {
      if (run) run.count++;
      else run = { first: p, count: 1 };
    } else if (run) {
      runs.push(run);
      run = undefined;
    }
  }
  if (run) runs.push(run);
  const whole = runs.find((r) => r.count >= count);
  const extents: Extent[] = [];
  if (whole) extents.push({ first: whole.first, count });
  else {
    let left = count;
    for (const r of runs) {
      if (left === 0) break;
      const n = Math.min(r.count, left);
      extents.push({ first: r.first, count: n });
      left -= n;
    }
  }
  for (const x of extents) taken.fill(1, x.first, x.first + x.count);
  const lastX = extents[extents.length - 1]!;
  const next = lastX.first + lastX.count;
  return { extents, cursor: next >= pageCount ? dataStart : next };
}
