/**
 * The toy's durable storage on its flash: `ToyFlashStorage` implements the engine's `ToyStorage`
 * (partial uploads, atomic completion, remembered completions, message ids) and holds everything
 * else the toy keeps across reboots: the pairing state, its identity (static key pair), message
 * metadata, settings, its recordings and its clock. Every mutation is ONE atomic commit of the
 * encrypted `FlashStore` (firmware-sim/flash.ts), durable when the call returns; a power cut at
 * any byte leaves the state before or after it.
 *
 * Keys in the store (each value sealed under the device key, the key name bound to it):
 *
 * | key | value |
 * | --- | --- |
 * | sys/counters | u8 v=1, u32 last message id, u32 last partial order, u32 clock seconds (high-water mark) |
 * | sys/catalog | u8 v=1, u8 n, n × 18-byte entries: u32 id, u8 kind (1 incoming, 2 recording), u8 flags (bit 0 played), u32 durationMs, u32 sizeBytes, u32 createdAtSeconds |
 * | sys/completed | u8 v=1, u8 n, n × (u32 transferId, u32 messageId, 32-byte SHA-256), oldest first, n ≤ 64 |
 * | sys/settings | u8 v=1, u8 volume, LED mode (u8 mode, u16 periodMs, u16 onMs) |
 * | sys/identity | u8 v=1, X25519 private key (32), public key (32) |
 * | sys/pairing | the pairing state exactly as ToyPairing's `persist` gave it |
 * | msg/<id, 8 hex> | the voice container of a complete message |
 * | part/<transferId, 8 hex> | u8 v=1, u32 order (age), u32 chunk size, the TransferInit as encoded on the wire |
 * | part/<transferId>/<chunk, 8 hex> | committed bytes of an unfinished upload, in chunks of `chunk size` |
 *
 * Unfinished uploads are kept in fixed-size chunks (one 4 KiB page each by default): an append
 * rewrites the last, partly filled chunk and adds new ones, in one commit. On completion the
 * content is written as one value and the chunks deleted in the same commit, with the catalog, the
 * completion memory and the counters. The setup code is never stored (only the verifier, inside
 * the pairing state).
 *
 * Capacity policy (`StoragePolicy`): at most 64 stored messages (PROTOCOL.md §8), counting
 * unfinished uploads as incoming, with slots kept for each kind (by default 4 incoming, 1
 * recording: the original toy's slots): an upload cannot take the last recording slot and a
 * recording cannot take the last incoming slots, and each unfilled reserved slot also holds back
 * `slotReserveBytes` of flash. Every unfinished upload reserves the pages it still needs, including
 * the final copy, so a transfer accepted by `hasSpace` can always complete. At most `maxPartials`
 * unfinished uploads are kept; beginning one more drops the oldest.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { bytesEqual, concat, Reader, Writer } from '../protocol/bytes.js';
import { MAX_CONTAINER_BYTES, SAMPLE_RATE_HZ } from '../protocol/container/constants.js';
import { decodeContainer } from '../protocol/container/container.js';
import { SHA256_LEN } from '../protocol/crypto.js';
import { COMPLETED_TRANSFERS_KEPT } from '../protocol/engine/constants.js';
import type { ToyStorage } from '../protocol/engine/toy.js';
import { PawLinkError } from '../protocol/errors.js';
import {
  LED_MODE,
  LED_PERIOD_MAX_MS,
  LED_PERIOD_MIN_MS,
  LED_PHASE_MIN_MS,
  MAX_STORED_MESSAGES,
  MESSAGE_ID_MAX,
  VOLUME_MAX,
} from '../protocol/messages/constants.js';
import type { LedMode, MessageEntry, MessageFilter, MessageKind } from '../protocol/messages/types.js';
import {
  decodeToyPairingState,
  encodeToyPairingState,
  factoryResetState,
} from '../protocol/pairing/index.js';
import type { RandomSource } from '../protocol/random.js';
import { type KeyPair, keyPairFromPrivateKey } from '../protocol/session/index.js';
import {
  decodeTransferMessage,
  encodeTransferMessage,
  type PersistedTransfer,
  type TransferInit,
} from '../protocol/transfer/index.js';
import { FlashError, ToyError } from './errors.js';
import {
  FileFlash,
  FLASH_IMAGE_FILE,
  FLASH_PAGE_SIZE_DEFAULT,
  FLASH_SIZE_DEFAULT,
  type FlashOp,
  FlashStore,
  type FlashStoreOptions,
} from './flash.js';
import { SecureElement, systemRandom } from './secure-element.js';

/** Unfinished uploads kept at once by default (each phone resumes one at a time). */
export const MAX_PARTIALS_DEFAULT = 4;
/** Flash kept free for metadata commits (catalog, completions, index growth), in pages. */
export const METADATA_RESERVE_PAGES_DEFAULT = 8;
/**
 * Target flash bytes per chunk of an unfinished upload (rounded to whole pages). One 4 KiB page:
 * measured on a 60 s message appended in 4 KiB commits, 1 page programs 2.3x and erases 3.0x the
 * message (final copy and index included), 4 pages 3.7x and 4.5x; the index grows to 1.3 KB.
 */
export const PARTIAL_CHUNK_FLASH_BYTES = 4096;

const K_COUNTERS = 'sys/counters';
const K_CATALOG = 'sys/catalog';
const K_COMPLETED = 'sys/completed';
const K_SETTINGS = 'sys/settings';
const K_IDENTITY = 'sys/identity';
const K_PAIRING = 'sys/pairing';
const RECORD_VERSION = 1;
const KIND_CODE: Record<MessageKind, number> = { incoming: 1, recording: 2 };
const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const msgKey = (id: number) => `msg/${hex8(id)}`;
const partKey = (tid: number) => `part/${hex8(tid)}`;
const chunkPrefix = (tid: number) => `part/${hex8(tid)}/`;
const chunkKey = (tid: number, index: number) => `${chunkPrefix(tid)}${hex8(index)}`;

export interface StoragePolicy {
  /** Complete messages plus unfinished uploads (default 64, PROTOCOL.md §8). */
  maxMessages: number;
  /** Slots an upload can always get, whatever the recordings take (default 4). */
  minIncomingSlots: number;
  /** Slots a recording can always get, whatever the uploads take (default 1). */
  minRecordingSlots: number;
  /** Flash held back per unfilled reserved slot (default 372,017 bytes: the largest container). */
  slotReserveBytes: number;
  /** Unfinished uploads kept (default 4); a new one beyond it drops the oldest. */
  maxPartials: number;
  /** Pages kept free for metadata commits (default 8). */
  metadataReservePages: number;
}

export const DEFAULT_POLICY: Readonly<StoragePolicy> = {
  maxMessages: MAX_STORED_MESSAGES,
  minIncomingSlots: 4,
  minRecordingSlots: 1,
  slotReserveBytes: MAX_CONTAINER_BYTES,
  maxPartials: MAX_PARTIALS_DEFAULT,
  metadataReservePages: METADATA_RESERVE_PAGES_DEFAULT,
};

/** Persistent settings (PROTOCOL.md §8 "What is persistent": volume and the base LED mode). */
export interface ToySettings {
  volume: number;
  led: LedMode;
}

export const DEFAULT_SETTINGS: Readonly<ToySettings> = { volume: 128, led: { mode: 'off' } };

/** A stored message as listed (the protocol's MessageList entry). */
export type StoredMessage = MessageEntry;

export interface ToyStorageStats {
  /** Flash bytes for messages (data area less the metadata reserve): Status.storageTotalBytes. */
  totalBytes: number;
  /** What new messages can still use (after reservations): Status.storageFreeBytes. */
  freeBytes: number;
  incomingCount: number;
  unplayedCount: number;
  recordingCount: number;
  partialCount: number;
}

export interface ToyFlashStorageOptions {
  /** The toy's clock in seconds, for createdAtSeconds. Default: the stored high-water mark. */
  clockSeconds?: () => number;
  policy?: Partial<StoragePolicy>;
  /** Flash pages per chunk of an unfinished upload (default: 4 KiB worth). */
  partialChunkPages?: number;
}

/** sys/counters. */
export interface StoredCounters {
  lastMessageId: number;
  lastOrder: number;
  clock: number;
}

/** One entry of sys/completed. */
export interface StoredCompletion {
  transferId: number;
  messageId: number;
  sha256: Uint8Array;
}

/** A part/<transferId> record. */
export interface StoredPartialRecord {
  order: number;
  chunkBytes: number;
  init: TransferInit;
}

interface PartialUpload extends StoredPartialRecord {
  stored: number;
  /** The chunks do not add up (or fail to open): never used, replaced by the next begin. */
  damaged: boolean;
}

function corrupt(key: string, e: unknown): ToyError {
  const why = e instanceof Error ? e.message : String(e);
  return new ToyError('CORRUPT_RECORD', `the stored record "${key}" does not decode (${why})`, { cause: e });
}

/** Decodes a record with a Reader that throws ToyError; any failure becomes CORRUPT_RECORD. */
function decodeRecord<T>(key: string, bytes: Uint8Array, read: (r: Reader) => T): T {
  try {
    const r = new Reader(bytes, ToyError, key);
    const version = r.u8();
    if (version !== RECORD_VERSION) throw new Error(`unknown record version ${version}`);
    const value = read(r);
    r.end();
    return value;
  } catch (e) {
    throw corrupt(key, e);
  }
}

function checkLed(led: LedMode): void {
  const bad = (why: string) => new ToyError('BAD_SETTINGS', `LED mode: ${why}`);
  if (led === null || typeof led !== 'object') throw bad('not an object');
  if (led.mode === 'off' || led.mode === 'on') return;
  if (led.mode !== 'blink') throw bad(`unknown mode ${String((led as { mode: unknown }).mode)}`);
  const { periodMs, onMs } = led;
  if (!Number.isInteger(periodMs) || periodMs < LED_PERIOD_MIN_MS || periodMs > LED_PERIOD_MAX_MS) {
    throw bad(`periodMs ${periodMs} outside ${LED_PERIOD_MIN_MS}..${LED_PERIOD_MAX_MS}`);
  }
  if (!Number.isInteger(onMs) || onMs < LED_PHASE_MIN_MS || onMs > periodMs - LED_PHASE_MIN_MS) {
    throw bad(`onMs ${onMs} outside ${LED_PHASE_MIN_MS}..${periodMs - LED_PHASE_MIN_MS}`);
  }
}

/** The toy's storage on its flash store. Synchronous; every call is durable when it returns. */
export class ToyFlashStorage implements ToyStorage {
  readonly #store: FlashStore;
  readonly #policy: StoragePolicy;
  readonly #clock: (() => number) | undefined;
  /** Plaintext bytes per chunk of a new partial (its flash pages exactly, less the seal). */
  readonly #chunkBytes: number;
  readonly #chunkPages: number;
  #counters: StoredCounters;
  #catalog: Map<number, StoredMessage>;
  #completed: StoredCompletion[];
  #partials: Map<number, PartialUpload>;

  /**
   * Loads the toy's state from an open store.
   * @throws ToyError CORRUPT_RECORD, FlashError CORRUPT_VALUE for damaged records.
   */
  constructor(store: FlashStore, options: ToyFlashStorageOptions = {}) {
    this.#store = store;
    this.#policy = { ...DEFAULT_POLICY, ...options.policy };
    this.#clock = options.clockSeconds;
    const { pageSize } = store.stats();
    this.#chunkPages =
      options.partialChunkPages ?? Math.max(1, Math.round(PARTIAL_CHUNK_FLASH_BYTES / pageSize));
    this.#chunkBytes = this.#chunkPages * pageSize - store.sealOverhead;
    this.#counters = this.#loadCounters();
    this.#catalog = this.#loadCatalog();
    this.#completed = this.#loadCompleted();
    this.#partials = this.#loadPartials();
  }

  /** The underlying store (stats, tests). */
  get store(): FlashStore {
    return this.#store;
  }

  get policy(): Readonly<StoragePolicy> {
    return this.#policy;
  }

  // ---- ToyStorage ----

  loadPartial(transferId: number): PersistedTransfer | undefined {
    const p = this.#partials.get(transferId);
    if (!p || p.damaged) return undefined;
    try {
      return {
        init: { ...p.init, sha256: p.init.sha256.slice() },
        committed: this.#readChunks(transferId, p),
      };
    } catch (e) {
      if (e instanceof FlashError && e.code === 'CORRUPT_VALUE') {
        // A damaged partial is never used: the receiver starts again from 0 and the next begin drops it.
        p.damaged = true;
        return undefined;
      }
      throw e;
    }
  }

  beginPartial(init: TransferInit, keepBytes: number): void {
    const tid = init.transferId;
    const existing = this.#partials.get(tid);
    if (
      !Number.isInteger(keepBytes) ||
      keepBytes < 0 ||
      (keepBytes > 0 && (!existing || existing.damaged || keepBytes > existing.stored))
    ) {
      throw new ToyError(
        'BAD_KEEP',
        `beginPartial(${tid}) keeps ${keepBytes} bytes but ${existing?.stored ?? 0} are stored`,
      );
    }
    const ops: FlashOp[] = [];
    const partials = new Map(this.#partials);
    if (!existing && partials.size >= this.#policy.maxPartials) {
      const oldest = [...partials.entries()].sort((a, b) => a[1].order - b[1].order)[0]!;
      ops.push(...this.#dropOps(oldest[0]));
      partials.delete(oldest[0]);
    }
    let chunkBytes = this.#chunkBytes;
    if (existing) {
      const chunks = this.#store.keys(chunkPrefix(tid));
      if (keepBytes === 0) {
        for (const k of chunks) ops.push({ op: 'delete', key: k });
      } else {
        chunkBytes = existing.chunkBytes;
        const lastKept = Math.floor((keepBytes - 1) / chunkBytes);
        for (const k of chunks) {
          if (Number.parseInt(k.slice(-8), 16) > lastKept) ops.push({ op: 'delete', key: k });
        }
        const tail = keepBytes - lastKept * chunkBytes;
        if (tail < chunkBytes && keepBytes < existing.stored) {
          const last = this.#store.get(chunkKey(tid, lastKept));
          if (!last || last.length < tail) throw corrupt(chunkKey(tid, lastKept), 'chunk too short');
          ops.push({ op: 'put', key: chunkKey(tid, lastKept), value: last.slice(0, tail) });
        }
      }
    }
    const counters = { ...this.#counters, lastOrder: this.#counters.lastOrder + 1 };
    const partial: PartialUpload = {
      order: counters.lastOrder,
      chunkBytes,
      init: { ...init, sha256: init.sha256.slice() },
      stored: keepBytes,
      damaged: false,
    };
    ops.push({ op: 'put', key: partKey(tid), value: encodePartial(partial) });
    ops.push({ op: 'put', key: K_COUNTERS, value: encodeCounters(counters) });
    this.#commit(ops);
    partials.set(tid, partial);
    this.#partials = partials;
    this.#counters = counters;
  }

  appendPartial(transferId: number, offset: number, bytes: Uint8Array): void {
    const p = this.#partials.get(transferId);
    if (!p || p.damaged) {
      throw new ToyError('NO_PARTIAL', `appendPartial(${transferId}): no partial upload is stored`);
    }
    if (offset !== p.stored) {
      throw new ToyError(
        'BAD_OFFSET',
        `appendPartial(${transferId}) at ${offset}; ${p.stored} bytes are stored`,
      );
    }
    if (bytes.length === 0) return;
    const C = p.chunkBytes;
    let index = Math.floor(p.stored / C);
    const inLast = p.stored % C;
    let data = bytes;
    if (inLast > 0) {
      const last = this.#store.get(chunkKey(transferId, index));
      if (!last || last.length !== inLast) throw corrupt(chunkKey(transferId, index), 'wrong chunk length');
      data = concat(last, bytes);
    }
    const ops: FlashOp[] = [];
    for (let at = 0; at < data.length; at += C, index++) {
      ops.push({ op: 'put', key: chunkKey(transferId, index), value: data.subarray(at, at + C) });
    }
    this.#commit(ops);
    p.stored += bytes.length;
  }

  completePartial(transferId: number, messageId: number, content: Uint8Array, sha256: Uint8Array): void {
    if (!Number.isInteger(messageId) || messageId < 1 || messageId > MESSAGE_ID_MAX) {
      throw new ToyError('BAD_MESSAGE_ID', `message id ${messageId} is not a u32 above 0`);
    }
    if (this.#catalog.has(messageId)) {
      throw new ToyError('DUPLICATE_MESSAGE_ID', `message ${messageId} is already stored`);
    }
    const entry: StoredMessage = {
      id: messageId,
      kind: 'incoming',
      played: false,
      durationMs: durationOf(content),
      sizeBytes: content.length,
      createdAtSeconds: this.#now(),
    };
    const completed = this.#completed.filter((c) => c.transferId !== transferId);
    completed.push({ transferId, messageId, sha256: sha256.slice() });
    while (completed.length > COMPLETED_TRANSFERS_KEPT) completed.shift();
    const catalog = new Map(this.#catalog).set(messageId, entry);
    const counters = {
      ...this.#counters,
      lastMessageId: Math.max(this.#counters.lastMessageId, messageId),
      clock: Math.max(this.#counters.clock, entry.createdAtSeconds),
    };
    const ops: FlashOp[] = [
      { op: 'put', key: msgKey(messageId), value: content },
      ...this.#dropOps(transferId),
      { op: 'put', key: K_CATALOG, value: encodeCatalog(catalog) },
      { op: 'put', key: K_COMPLETED, value: encodeCompleted(completed) },
      { op: 'put', key: K_COUNTERS, value: encodeCounters(counters) },
    ];
    this.#commit(ops);
    this.#catalog = catalog;
    this.#completed = completed;
    this.#counters = counters;
    this.#partials.delete(transferId);
  }

  completedTransfer(transferId: number): { messageId: number; sha256: Uint8Array } | undefined {
    const c = this.#completed.find((x) => x.transferId === transferId);
    return c && { messageId: c.messageId, sha256: c.sha256.slice() };
  }

  dropPartial(transferId: number): void {
    if (!this.#partials.has(transferId) && this.#store.keys(chunkPrefix(transferId)).length === 0) return;
    this.#commit(this.#dropOps(transferId));
    this.#partials.delete(transferId);
  }

  allocateMessageId(): number {
    const id = this.#counters.lastMessageId + 1;
    if (id > MESSAGE_ID_MAX) {
      throw new ToyError(
        'IDS_EXHAUSTED',
        'every message id has been used: a factory reset starts again at 1',
      );
    }
    const counters = { ...this.#counters, lastMessageId: id };
    this.#commit([{ op: 'put', key: K_COUNTERS, value: encodeCounters(counters) }]);
    this.#counters = counters;
    return id;
  }

  /**
   * Room for an upload of `bytes` more bytes: a message slot (unfinished uploads count as incoming;
   * the reserved recording slots stay free) and the pages it needs, after what unfinished uploads
   * and the reserved slots hold back. A resumed upload's own reservation is counted too, so a
   * resume can be refused when the flash is nearly full.
   */
  hasSpace(bytes: number): boolean {
    if (!Number.isInteger(bytes) || bytes < 0) return false;
    const pages =
      this.#chunkPagesFor(bytes, this.#chunkBytes) + this.#chunkPages + this.#store.pagesFor(bytes);
    return this.#roomFor('incoming', pages);
  }

  readMessage(messageId: number): Uint8Array | undefined {
    if (!this.#catalog.has(messageId)) return undefined;
    return this.#store.get(msgKey(messageId));
  }

  // ---- messages ----

  /** Complete messages, by ascending id. */
  listMessages(filter: MessageFilter = 'all'): StoredMessage[] {
    return [...this.#catalog.values()]
      .filter((m) => filter === 'all' || m.kind === filter)
      .sort((a, b) => a.id - b.id)
      .map((m) => ({ ...m }));
  }

  getMessage(messageId: number): StoredMessage | undefined {
    const m = this.#catalog.get(messageId);
    return m && { ...m };
  }

  /** Deletes a complete message; false if there is none with that id. */
  deleteMessage(messageId: number): boolean {
    if (!this.#catalog.has(messageId)) return false;
    const catalog = new Map(this.#catalog);
    catalog.delete(messageId);
    this.#commit([
      { op: 'delete', key: msgKey(messageId) },
      { op: 'put', key: K_CATALOG, value: encodeCatalog(catalog) },
    ]);
    this.#catalog = catalog;
    return true;
  }

  /** Sets the played flag (incoming: the child listened; recording: a phone downloaded it). */
  markPlayed(messageId: number, played = true): boolean {
    const m = this.#catalog.get(messageId);
    if (!m) return false;
    if (m.played === played) return true;
    const catalog = new Map(this.#catalog).set(messageId, { ...m, played });
    this.#commit([{ op: 'put', key: K_CATALOG, value: encodeCatalog(catalog) }]);
    this.#catalog = catalog;
    return true;
  }

  /** Can the toy store a recording of `bytes` now (a slot and the flash for it)? */
  canStoreRecording(bytes: number): boolean {
    return Number.isInteger(bytes) && bytes > 0 && this.#roomFor('recording', this.#store.pagesFor(bytes));
  }

  /**
   * Stores the child's recording (a voice container) as a new message, id allocated in the same
   * commit. @throws ToyError BAD_CONTAINER, STORAGE_FULL.
   */
  storeRecording(container: Uint8Array): StoredMessage {
    let durationMs: number;
    try {
      durationMs = Math.round((decodeContainer(container).sampleCount * 1000) / SAMPLE_RATE_HZ);
    } catch (e) {
      const code = e instanceof PawLinkError ? e.code : 'unknown';
      throw new ToyError('BAD_CONTAINER', `the recording is not a valid voice container (${code})`, {
        cause: e,
      });
    }
    if (!this.canStoreRecording(container.length)) {
      throw new ToyError('STORAGE_FULL', `no room for a recording of ${container.length} bytes`);
    }
    const id = this.#counters.lastMessageId + 1;
    if (id > MESSAGE_ID_MAX) throw new ToyError('IDS_EXHAUSTED', 'every message id has been used');
    const entry: StoredMessage = {
      id,
      kind: 'recording',
      played: false,
      durationMs,
      sizeBytes: container.length,
      createdAtSeconds: this.#now(),
    };
    const catalog = new Map(this.#catalog).set(id, entry);
    const counters = {
      ...this.#counters,
      lastMessageId: id,
      clock: Math.max(this.#counters.clock, entry.createdAtSeconds),
    };
    this.#commit([
      { op: 'put', key: msgKey(id), value: container },
      { op: 'put', key: K_CATALOG, value: encodeCatalog(catalog) },
      { op: 'put', key: K_COUNTERS, value: encodeCounters(counters) },
    ]);
    this.#catalog = catalog;
    this.#counters = counters;
    return { ...entry };
  }

  stats(): ToyStorageStats {
    const s = this.#store.stats();
    const reserve = this.#policy.metadataReservePages;
    const total = Math.max(0, (s.dataPages - reserve) * s.pageSize);
    const freePages = s.freePages - reserve - this.#reservedByPartials();
    let incomingCount = 0;
    let unplayedCount = 0;
    let recordingCount = 0;
    for (const m of this.#catalog.values()) {
      if (m.kind === 'incoming') {
        incomingCount++;
        if (!m.played) unplayedCount++;
      } else recordingCount++;
    }
    return {
      totalBytes: total,
      freeBytes: Math.min(total, Math.max(0, freePages * s.pageSize)),
      incomingCount,
      unplayedCount,
      recordingCount,
      partialCount: this.#partials.size,
    };
  }

  // ---- pairing, identity, settings, clock ----

  /** The pairing state as last saved (decode with decodeToyPairingState), or undefined. */
  loadPairingState(): Uint8Array | undefined {
    return this.#store.get(K_PAIRING);
  }

  /** ToyPairing's `persist` callback: durable when it returns. */
  savePairingState(encoded: Uint8Array): void {
    this.#commit([{ op: 'put', key: K_PAIRING, value: encoded }]);
  }

  /** The toy's static X25519 key pair, or undefined before provisioning. */
  loadIdentity(): KeyPair | undefined {
    const bytes = this.#store.get(K_IDENTITY);
    return bytes ? decodeIdentity(bytes) : undefined;
  }

  /** True once the toy has an identity and a pairing state. */
  get provisioned(): boolean {
    return this.#store.has(K_IDENTITY) && this.#store.has(K_PAIRING);
  }

  /**
   * First start: stores the toy's static key pair and its initial pairing state (discriminator and
   * verifier inside; never the setup code) in one commit. @throws ToyError ALREADY_PROVISIONED.
   */
  provision(identity: { staticKeyPair: KeyPair; pairingState: Uint8Array }): void {
    if (this.#store.has(K_IDENTITY)) {
      throw new ToyError(
        'ALREADY_PROVISIONED',
        'the toy already has an identity (a factory reset replaces it)',
      );
    }
    this.#commit([
      { op: 'put', key: K_IDENTITY, value: encodeIdentity(identity.staticKeyPair) },
      { op: 'put', key: K_PAIRING, value: identity.pairingState },
      { op: 'put', key: K_COUNTERS, value: encodeCounters(this.#counters) },
    ]);
  }

  loadSettings(): ToySettings {
    const bytes = this.#store.get(K_SETTINGS);
    return bytes
      ? decodeSettings(bytes)
      : { volume: DEFAULT_SETTINGS.volume, led: { ...DEFAULT_SETTINGS.led } };
  }

  /** Saves volume and base LED mode (validated). @throws ToyError BAD_SETTINGS. */
  saveSettings(settings: ToySettings): void {
    const { volume, led } = settings;
    if (!Number.isInteger(volume) || volume < 0 || volume > VOLUME_MAX) {
      throw new ToyError('BAD_SETTINGS', `volume ${volume} outside 0..${VOLUME_MAX}`);
    }
    checkLed(led);
    this.#commit([{ op: 'put', key: K_SETTINGS, value: encodeSettings(settings) }]);
  }

  /** The toy clock's high-water mark in seconds (it never goes back across reboots). */
  get clockSeconds(): number {
    return this.#counters.clock;
  }

  /** Raises the stored clock to `seconds` (no write if it is not later). */
  saveClock(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff) {
      throw new ToyError('BAD_CLOCK', `the toy clock is a u32 count of seconds, not ${seconds}`);
    }
    if (seconds <= this.#counters.clock) return;
    const counters = { ...this.#counters, clock: seconds };
    this.#commit([{ op: 'put', key: K_COUNTERS, value: encodeCounters(counters) }]);
    this.#counters = counters;
  }

  /**
   * Factory reset in ONE commit: erases messages, unfinished uploads, completions, settings and the
   * old identity; stores `newStaticKeyPair` and the pairing state reset by the pairing layer
   * (factoryResetState: the printed discriminator and verifier stay; a new toy id, no pairings, no
   * tag key, the failure counter at 0). Message ids start again at 1; the clock is kept. Returns
   * the new pairing state: restart the toy's engine and pairing from it.
   * @throws ToyError NOT_PROVISIONED, CORRUPT_RECORD.
   */
  factoryReset(newStaticKeyPair: KeyPair, random: RandomSource): Uint8Array {
    const current = this.loadPairingState();
    if (!current) throw new ToyError('NOT_PROVISIONED', 'the toy has no pairing state to reset');
    let reset: Uint8Array;
    try {
      reset = encodeToyPairingState(
        factoryResetState(decodeToyPairingState(current), newStaticKeyPair.publicKey, random),
      );
    } catch (e) {
      throw corrupt(K_PAIRING, e);
    }
    const counters: StoredCounters = { lastMessageId: 0, lastOrder: 0, clock: this.#counters.clock };
    const ops: FlashOp[] = this.#store.keys().map((key) => ({ op: 'delete', key }));
    ops.push(
      { op: 'put', key: K_IDENTITY, value: encodeIdentity(newStaticKeyPair) },
      { op: 'put', key: K_PAIRING, value: reset },
      { op: 'put', key: K_COUNTERS, value: encodeCounters(counters) },
    );
    this.#commit(ops);
    this.#counters = counters;
    this.#catalog = new Map();
    this.#completed = [];
    this.#partials = new Map();
    return reset;
  }

  // ---- internals ----

  #now(): number {
    const t = this.#clock ? this.#clock() : this.#counters.clock;
    return Math.max(0, Math.min(0xffffffff, Math.floor(t)));
  }

  /** Flash pages the chunks of `bytes` bytes of a partial take. */
  #chunkPagesFor(bytes: number, chunkBytes: number): number {
    const full = Math.floor(bytes / chunkBytes);
    const rest = bytes % chunkBytes;
    return full * this.#store.pagesFor(chunkBytes) + (rest > 0 ? this.#store.pagesFor(rest) : 0);
  }

  /** Pages unfinished uploads still need: the rest of their chunks, a chunk rewrite, the final copy. */
  #reservedByPartials(): number {
    let pages = 0;
    for (const p of this.#partials.values()) {
      const total = p.init.totalBytes;
      const stored = Math.min(p.stored, total);
      pages +=
        this.#chunkPagesFor(total, p.chunkBytes) -
        this.#chunkPagesFor(stored, p.chunkBytes) +
        this.#chunkPages +
        this.#store.pagesFor(total);
    }
    return pages;
  }

  #roomFor(kind: MessageKind, pages: number): boolean {
    const pol = this.#policy;
    let incoming = 0;
    let recordings = 0;
    for (const m of this.#catalog.values()) {
      if (m.kind === 'incoming') incoming++;
      else recordings++;
    }
    const inProgress = incoming + this.#partials.size;
    const otherReserved =
      kind === 'incoming'
        ? Math.max(0, pol.minRecordingSlots - recordings)
        : Math.max(0, pol.minIncomingSlots - inProgress);
    if (inProgress + recordings + 1 + otherReserved > pol.maxMessages) return false;
    const { freePages } = this.#store.stats();
    const available =
      freePages -
      pol.metadataReservePages -
      this.#reservedByPartials() -
      otherReserved * this.#store.pagesFor(pol.slotReserveBytes);
    return pages <= available;
  }

  #dropOps(transferId: number): FlashOp[] {
    const ops: FlashOp[] = this.#store.keys(chunkPrefix(transferId)).map((key) => ({ op: 'delete', key }));
    ops.push({ op: 'delete', key: partKey(transferId) });
    return ops;
  }

  #readChunks(transferId: number, p: PartialUpload): Uint8Array {
    const parts: Uint8Array[] = [];
    const count = Math.ceil(p.stored / p.chunkBytes);
    for (let i = 0; i < count; i++) {
      const chunk = this.#store.get(chunkKey(transferId, i));
      if (!chunk) throw corrupt(chunkKey(transferId, i), 'missing chunk');
      parts.push(chunk);
    }
    const out = concat(...parts);
    if (out.length !== p.stored) throw corrupt(partKey(transferId), 'chunks do not add up');
    return out;
  }

  /** One atomic commit; a full flash is STORAGE_FULL for the toy. */
  #commit(ops: FlashOp[]): void {
    try {
      this.#store.batch(ops);
    } catch (e) {
      if (e instanceof FlashError && (e.code === 'FULL' || e.code === 'INDEX_FULL')) {
        throw new ToyError('STORAGE_FULL', `the toy's flash is full: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  #loadCounters(): StoredCounters {
    const bytes = this.#store.get(K_COUNTERS);
    return bytes ? decodeCounters(bytes) : { lastMessageId: 0, lastOrder: 0, clock: 0 };
  }

  #loadCatalog(): Map<number, StoredMessage> {
    const bytes = this.#store.get(K_CATALOG);
    return bytes ? decodeCatalog(bytes) : new Map();
  }

  #loadCompleted(): StoredCompletion[] {
    const bytes = this.#store.get(K_COMPLETED);
    return bytes ? decodeCompleted(bytes) : [];
  }

  #loadPartials(): Map<number, PartialUpload> {
    const partials = new Map<number, PartialUpload>();
    for (const key of this.#store.keys('part/')) {
      if (key.length !== 13) continue; // a chunk key (part/xxxxxxxx/yyyyyyyy)
      const bytes = this.#store.get(key)!;
      const tid = Number.parseInt(key.slice(5), 16);
      const p: PartialUpload = { ...decodePartialRecord(bytes, tid), stored: 0, damaged: false };
      // The stored length is the sum of the chunks, which must be full but for the last.
      const chunks = this.#store.keys(chunkPrefix(tid));
      chunks.forEach((k, i) => {
        const len = this.#store.valueLength(k)!;
        if (Number.parseInt(k.slice(-8), 16) !== i || (i < chunks.length - 1 && len !== p.chunkBytes)) {
          p.damaged = true;
        }
        p.stored += len;
      });
      partials.set(tid, p);
    }
    return partials;
  }
}

// ---- record codecs (the table at the top); decoders throw ToyError CORRUPT_RECORD ----

export function decodeCounters(bytes: Uint8Array): StoredCounters {
  return decodeRecord(K_COUNTERS, bytes, (r) => ({
    lastMessageId: r.u32(),
    lastOrder: r.u32(),
    clock: r.u32(),
  }));
}

export function decodeCatalog(bytes: Uint8Array): Map<number, StoredMessage> {
  return decodeRecord(K_CATALOG, bytes, (r) => {
    const catalog = new Map<number, StoredMessage>();
    const n = r.u8();
    for (let i = 0; i < n; i++) {
      const id = r.u32();
      const kindCode = r.u8();
      const flags = r.u8();
      const kind: MessageKind | undefined =
        kindCode === 1 ? 'incoming' : kindCode === 2 ? 'recording' : undefined;
      if (!kind || id === 0 || (flags & ~1) !== 0 || catalog.has(id)) throw new Error(`bad entry ${i}`);
      catalog.set(id, {
        id,
        kind,
        played: (flags & 1) === 1,
        durationMs: r.u32(),
        sizeBytes: r.u32(),
        createdAtSeconds: r.u32(),
      });
    }
    return catalog;
  });
}

export function decodeCompleted(bytes: Uint8Array): StoredCompletion[] {
  return decodeRecord(K_COMPLETED, bytes, (r) => {
    const n = r.u8();
    const out: StoredCompletion[] = [];
    for (let i = 0; i < n; i++)
      out.push({ transferId: r.u32(), messageId: r.u32(), sha256: r.bytes(SHA256_LEN) });
    return out;
  });
}

export function decodeSettings(bytes: Uint8Array): ToySettings {
  return decodeRecord(K_SETTINGS, bytes, (r) => {
    const volume = r.u8();
    const mode = r.u8();
    const periodMs = r.u16();
    const onMs = r.u16();
    let led: LedMode;
    if (mode === LED_MODE.off && periodMs === 0 && onMs === 0) led = { mode: 'off' };
    else if (mode === LED_MODE.on && periodMs === 0 && onMs === 0) led = { mode: 'on' };
    else if (mode === LED_MODE.blink) led = { mode: 'blink', periodMs, onMs };
    else throw new Error(`LED mode ${mode} with ${periodMs}/${onMs} ms`);
    checkLed(led);
    return { volume, led };
  });
}

export function encodeSettings(settings: ToySettings): Uint8Array {
  const { volume, led } = settings;
  const w = new Writer(ToyError).u8(RECORD_VERSION).u8(volume).u8(LED_MODE[led.mode]);
  if (led.mode === 'blink') w.u16(led.periodMs).u16(led.onMs);
  else w.u16(0).u16(0);
  return w.finish();
}

export function decodeIdentity(bytes: Uint8Array): KeyPair {
  return decodeRecord(K_IDENTITY, bytes, (r) => {
    const privateKey = r.bytes(32);
    const publicKey = r.bytes(32);
    const pair = keyPairFromPrivateKey(privateKey);
    if (!bytesEqual(pair.publicKey, publicKey)) throw new Error('public key does not match the private key');
    return pair;
  });
}

export function decodePartialRecord(bytes: Uint8Array, transferId: number): StoredPartialRecord {
  return decodeRecord(partKey(transferId), bytes, (r) => {
    const order = r.u32();
    const chunkBytes = r.u32();
    const msg = decodeTransferMessage(r.rest());
    if (msg.type !== 'TransferInit' || msg.transferId !== transferId || chunkBytes < 1) {
      throw new Error('not the TransferInit of this transfer');
    }
    return { order, chunkBytes, init: msg };
  });
}

function durationOf(container: Uint8Array): number {
  try {
    return Math.round((decodeContainer(container).sampleCount * 1000) / SAMPLE_RATE_HZ);
  } catch {
    return 0; // The transfer layer validated it; a later codec may not be a container.
  }
}

function encodeCounters(c: StoredCounters): Uint8Array {
  return new Writer(ToyError).u8(RECORD_VERSION).u32(c.lastMessageId).u32(c.lastOrder).u32(c.clock).finish();
}

function encodeCatalog(catalog: Map<number, StoredMessage>): Uint8Array {
  const w = new Writer(ToyError).u8(RECORD_VERSION).u8(catalog.size);
  for (const m of [...catalog.values()].sort((a, b) => a.id - b.id)) {
    w.u32(m.id)
      .u8(KIND_CODE[m.kind])
      .u8(m.played ? 1 : 0)
      .u32(m.durationMs)
      .u32(m.sizeBytes)
      .u32(m.createdAtSeconds);
  }
  return w.finish();
}

function encodeCompleted(list: StoredCompletion[]): Uint8Array {
  const w = new Writer(ToyError).u8(RECORD_VERSION).u8(list.length);
  for (const c of list) w.u32(c.transferId).u32(c.messageId).bytes(c.sha256);
  return w.finish();
}

function encodePartial(p: PartialUpload): Uint8Array {
  return new Writer(ToyError)
    .u8(RECORD_VERSION)
    .u32(p.order)
    .u32(p.chunkBytes)
    .bytes(encodeTransferMessage(p.init))
    .finish();
}

function encodeIdentity(pair: KeyPair): Uint8Array {
  return new Writer(ToyError).u8(RECORD_VERSION).bytes(pair.privateKey).bytes(pair.publicKey).finish();
}

/**
 * The default state directory of the simulated toy (the CLI's --state): `toy` in the per-user
 * data directory (env-paths: ~/.local/share/pawlink/toy on Linux).
 */
export function defaultStateDir(): string {
  return join(envPaths('pawlink', { suffix: '' }).data, 'toy');
}

export interface OpenToyStorageOptions {
  /** Nonces and the first device key (default: the OS CSPRNG). */
  random?: RandomSource;
  /** Simulated flash size and page size (defaults 16 MiB, 4096). */
  flashSize?: number;
  pageSize?: number;
  store?: FlashStoreOptions;
  storage?: ToyFlashStorageOptions;
}

export interface OpenedToyStorage {
  storage: ToyFlashStorage;
  secureElement: SecureElement;
  device: FileFlash;
  /** Releases the flash image and its lock. */
  close(): void;
}

/**
 * Opens the toy's storage in a state directory (created 0700): the secure element
 * (`secure-element.key`, created at first start) and the flash image (`flash.bin`).
 * @throws ToyError / FlashError with a message that says what to do.
 */
export function openToyStorage(stateDir: string, options: OpenToyStorageOptions = {}): OpenedToyStorage {
  const random = options.random ?? systemRandom;
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ToyError(
      'SECURE_ELEMENT_IO',
      `cannot create the state directory ${stateDir}: ${(e as Error).message}`,
    );
  }
  const imagePath = join(stateDir, FLASH_IMAGE_FILE);
  // A new device key for an existing image would only make it unreadable: refuse instead.
  const secureElement = SecureElement.open(stateDir, random, { create: !existsSync(imagePath) });
  const device = FileFlash.open(imagePath, {
    size: options.flashSize ?? FLASH_SIZE_DEFAULT,
    pageSize: options.pageSize ?? FLASH_PAGE_SIZE_DEFAULT,
  });
  try {
    const store = FlashStore.open(device, secureElement.flashSealer(random), options.store);
    const storage = new ToyFlashStorage(store, options.storage);
    return { storage, secureElement, device, close: () => device.close() };
  } catch (e) {
    device.close();
    throw e;
  }
}
