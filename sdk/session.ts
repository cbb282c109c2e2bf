/**
 * `ToySession`: an open, encrypted session with one paired toy (made by `ToyClient.connect`).
 *
 * Every method checks its arguments before anything goes on the air (a bad argument is an
 * `SdkError` BAD_INPUT and changes nothing), sends one request or transfer through the phone's
 * protocol engine (protocol/engine/phone.ts, driven by radio/drive.ts `PhoneDriver`), and settles
 * when the toy answers: the success value, or an `SdkError` whose code is the toy's application
 * error code (NOT_ADMIN, NOT_FOUND, STORAGE_FULL, BUSY...), TIMEOUT when the toy does not answer
 * within `requestTimeoutMs`, DISCONNECTED / CLOSED when the session ends first.
 *
 * Transfers run one at a time (the toy takes one upload and one download per connection): `send`
 * and `download` calls queue. An upload is saved in the keystore before its first byte leaves and
 * removed when the toy confirms it stored the message (Done), so a link lost mid-upload resumes by
 * itself at the next `connect` (same transferId, same bytes: the toy stores it exactly once).
 *
 * While the session is idle it sends a StatusRequest every `keepAliveMs` (20 s): the framing layer
 * closes a link that carries no message for 30 s (PROTOCOL.md §5.7).
 */

import { decodeVoice } from '../audio/decode.js';
import { writeWav } from '../audio/wav.js';
import { bytesEqual } from '../protocol/bytes.js';
import { decodeContainer } from '../protocol/container/index.js';
import { sha256 } from '../protocol/crypto.js';
import type { DistributiveOmit, PhoneEvent, PhoneIdentity } from '../protocol/engine/phone.js';
import type { PawLinkError } from '../protocol/errors.js';
import {
  type AppEvent,
  type AppMessage,
  type AppRequest,
  IDENTIFY_SECONDS_MAX,
  IDENTIFY_SECONDS_MIN,
  isResponseTo,
  LULLABY_SECONDS_MAX,
  LULLABY_SECONDS_MIN,
  LULLABY_TIMES_MAX,
  LULLABY_TIMES_MIN,
  type LullabyLoop,
  MESSAGE_ID_MAX,
  MESSAGE_ID_MIN,
  type MessageEntry,
  type MessageFilter,
  PAIRING_WINDOW_SECONDS_MAX,
  PAIRING_WINDOW_SECONDS_MIN,
  type PairingRole,
  type StatusMessage,
  VOLUME_MAX,
  VOLUME_MIN,
} from '../protocol/messages/index.js';
import type { RandomSource } from '../protocol/random.js';
import { newTransferId, TransferStatus, transferStatusName } from '../protocol/transfer/index.js';
import type { Scheduler, Timer } from '../radio/clock.js';
import type { PhoneDriver } from '../radio/drive.js';
import { SdkError } from './errors.js';
import { AsyncQueue, appError, asSdkError, deferred, hex, oneLine, parseHex } from './internal.js';
import type { Keystore, PendingUpload, StoredToy } from './keystore.js';
import { type PreparedVoice, prepareVoice, type VoiceInput } from './send.js';

/** A paired toy as the app sees it (ids in lowercase hex). */
export interface PairedToyInfo {
  /** The toy's id, 32 hex digits (stable until the toy is factory reset). */
  toyId: string;
  /** The user's name for the toy ('' if none). */
  label: string;
  /** This phone's role on the toy. */
  role: PairingRole;
  /** When this phone paired, ms since 1970. */
  pairedAt: number;
  /** When a session last opened, ms since 1970. */
  lastSeen?: number;
}

/** The toy's state (the Status response, PROTOCOL.md §8). */
export type ToyStatus = Omit<StatusMessage, 'type' | 'requestId'>;

/** One phone in the toy's pairing table. */
export interface PairingInfo {
  /** 32 hex digits. */
  phoneId: string;
  role: PairingRole;
  name: string;
  /** The phone of this session. */
  thisPhone: boolean;
}

/** Progress of an upload or download: bytes the receiver has committed so far. */
export interface TransferProgress {
  transferId: number;
  committedBytes: number;
  totalBytes: number;
}

export interface SendOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Input over 120 s: 'error' (default) or 'truncate'. */
  onTooLong?: 'error' | 'truncate';
}

export interface DownloadOptions {
  /** Write the decoded audio to this WAV file (16 kHz mono 16-bit). */
  out?: string;
  onProgress?: (progress: TransferProgress) => void;
}

export interface DownloadResult {
  messageId: number;
  /** The voice container as stored on the toy. */
  container: Uint8Array;
  durationMs: number;
  /** The WAV written, when `out` was given. */
  path?: string;
}

/** An unfinished upload that `connect` resumed. */
export interface ResumedUpload {
  transferId: number;
  /** The stored message's id, when it completed. */
  messageId?: number;
  /** Why it could not complete (it was then forgotten), when it did not. */
  error?: SdkError;
}

/** Application events the toy sends during a session (PROTOCOL.md §8 "Events"). */
export type ToyAppEvent = AppEvent;

/** How a lullaby loops: a repeat count or a sleep timer. */
export type LullabyOptions = { times: number } | { seconds: number };

/** @internal What `ToyClient.connect` hands a new session. */
export interface SessionInit {
  driver: PhoneDriver;
  toy: StoredToy;
  keystore: Keystore;
  identity: PhoneIdentity;
  scheduler: Scheduler;
  random: RandomSource;
  requestTimeoutMs: number;
  keepAliveMs: number;
  onClosed?: (session: ToySession) => void;
}

/** Keep-alive period while idle, ms: below the framing idle timeout (30 s, PROTOCOL.md §5.7). */
export const KEEP_ALIVE_MS = 20_000;

interface PendingRequest {
  request: AppRequest;
  what: string;
  resolve(message: AppMessage): void;
  reject(error: SdkError): void;
  timer: Timer;
}

type TransferListener = (event: PhoneEvent) => void;

/** A session with one paired toy. See the module comment. */
export class ToySession {
  /** The toy this session is with. */
  readonly toy: PairedToyInfo;
  /** Settles (never rejects) with why the session ended. */
  readonly closed: Promise<SdkError>;
  /** Uploads left unfinished by an earlier connection, resumed when this session opened. */
  resumed: ResumedUpload[] = [];

  readonly #init: SessionInit;
  readonly #toyId: Uint8Array;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #transferListeners = new Map<number, TransferListener>();
  readonly #eventQueues = new Set<AsyncQueue<ToyAppEvent>>();
  readonly #eventListeners = new Set<(event: ToyAppEvent) => void>();
  readonly #offDriver: () => void;
  #closeReason: SdkError | undefined;
  #resolveClosed!: (reason: SdkError) => void;
  #alertCode: number | undefined;
  #keepAlive: Timer | undefined;
  #lastActivity: number;
  #transferChain: Promise<unknown> = Promise.resolve();
  #transfersRunning = 0;

  /** @internal Made by `ToyClient.connect`, on a driver whose session is open. */
  constructor(init: SessionInit) {
    this.#init = init;
    this.#toyId = init.toy.toyId.slice();
    this.toy = toyInfo(init.toy);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#lastActivity = init.scheduler.now();
    this.#offDriver = init.driver.onEvent((e) => this.#onEvent(e));
    if (init.driver.engine.state !== 'session') this.#finish(closeError(undefined, undefined));
    else this.#armKeepAlive();
  }

  /** True while the session is open. */
  get isOpen(): boolean {
    return this.#closeReason === undefined;
  }

  // ---- voice messages ----

  /**
   * Sends a voice message (see sdk/send.ts for the inputs); resolves with the toy's message id once
   * the toy has stored it. If the link drops meanwhile, rejects with UPLOAD_INTERRUPTED and the
   * upload resumes at the next `connect` (it stays in the keystore).
   */
  async send(input: VoiceInput | PreparedVoice, options: SendOptions = {}): Promise<number> {
    const voice = isPrepared(input)
      ? await prepareVoice(input.container)
      : await prepareVoice(input, options.onTooLong ? { onTooLong: options.onTooLong } : {});
    this.#checkOpen('send');
    return this.#serial(async () => {
      this.#checkOpen('send');
      const container = voice.container;
      const transferId = newTransferId(this.#init.random);
      this.#init.keystore.saveUpload({
        toyId: this.#toyId,
        transferId,
        sha256: sha256(container),
        totalBytes: container.length,
        content: { bytes: container },
      });
      return this.#uploadSaved(container, transferId, options.onProgress);
    });
  }

  /** Stored messages, ascending by id: all, or one kind. */
  async messages(kind: MessageFilter = 'all'): Promise<MessageEntry[]> {
    if (kind !== 'all' && kind !== 'incoming' && kind !== 'recording') {
      throw new SdkError(
        'BAD_INPUT',
        `the message kind must be 'all', 'incoming' or 'recording', not '${kind}'`,
      );
    }
    const r = await this.#request({ type: 'ListMessages', filter: kind }, 'list messages');
    return r.type === 'MessageList' ? r.entries : [];
  }

  /** The child's recordings stored on the toy. */
  recordings(): Promise<MessageEntry[]> {
    return this.messages('recording');
  }

  /**
   * Downloads a stored message (a recording, or an incoming message). With `out`, also writes it
   * decoded as a WAV file. NOT_FOUND if the toy has no such message.
   */
  async download(messageId: number, options: DownloadOptions = {}): Promise<DownloadResult> {
    checkMessageId(messageId);
    if (options.out !== undefined && (typeof options.out !== 'string' || options.out.length === 0)) {
      throw new SdkError('BAD_INPUT', 'the output path is empty');
    }
    this.#checkOpen('download');
    const container = await this.#serial(() => this.#download(messageId, options.onProgress));
    let durationMs = 0;
    try {
      if (options.out !== undefined) {
        const decoded = await decodeVoice(container);
        durationMs = decoded.pcm.length / 16;
        await writeWav(options.out, decoded.pcm, decoded.sampleRate);
      } else {
        durationMs = decodeContainer(container).sampleCount / 16;
      }
    } catch (e) {
      throw asSdkError(e);
    }
    return { messageId, container, durationMs, ...(options.out !== undefined ? { path: options.out } : {}) };
  }

  /** Deletes a stored message (its content is erased on the toy). NOT_FOUND if there is none. */
  async delete(messageId: number): Promise<void> {
    checkMessageId(messageId);
    await this.#request({ type: 'DeleteMessage', messageId }, `delete message ${messageId}`);
  }

  // ---- the toy ----

  /** The toy's state: battery, volume, storage, counts, modes, its clock. */
  async status(): Promise<ToyStatus> {
    const r = await this.#request({ type: 'StatusRequest' }, 'status');
    if (r.type !== 'Status') throw new SdkError('BAD_RESPONSE', 'the toy did not answer with its status');
    const { type: _t, requestId: _r, ...status } = r;
    return status;
  }

  /** Sets the speaker volume, 0 (silent) – 255 (loudest); the toy keeps it across reboots. */
  async setVolume(volume: number): Promise<void> {
    checkInt(volume, VOLUME_MIN, VOLUME_MAX, 'the volume');
    await this.#request({ type: 'SetVolume', volume }, 'set the volume');
  }

  /** Blinks the toy's heart for `seconds` (1–60, default 10) so the user can tell which toy this is. */
  async identify(seconds = 10): Promise<void> {
    checkInt(seconds, IDENTIFY_SECONDS_MIN, IDENTIFY_SECONDS_MAX, 'identify seconds');
    await this.#request({ type: 'Identify', seconds }, 'identify');
  }

  /** Plays a stored message in a loop: `{ times }` (1–100) or `{ seconds }` (1–3600, a sleep timer). */
  async lullaby(messageId: number, loop: LullabyOptions): Promise<void> {
    checkMessageId(messageId);
    let wire: LullabyLoop;
    if (isObj(loop) && 'times' in loop && !('seconds' in loop)) {
      checkInt(loop.times, LULLABY_TIMES_MIN, LULLABY_TIMES_MAX, 'lullaby times');
      wire = { mode: 'times', times: loop.times };
    } else if (isObj(loop) && 'seconds' in loop && !('times' in loop)) {
      checkInt(loop.seconds, LULLABY_SECONDS_MIN, LULLABY_SECONDS_MAX, 'lullaby seconds');
      wire = { mode: 'seconds', seconds: loop.seconds };
    } else {
      throw new SdkError('BAD_INPUT', 'a lullaby loops either { times } or { seconds }, not both or neither');
    }
    await this.#request({ type: 'Lullaby', messageId, loop: wire }, `lullaby of message ${messageId}`);
  }

  /** Stops a lullaby (idempotent). */
  async stopLullaby(): Promise<void> {
    await this.#request({ type: 'LullabyStop' }, 'stop the lullaby');
  }

  /**
   * Game mode on: the toy reports every paw press as a `PawEvent` (see `events()`) instead of
   * playing or recording. It turns off by itself when this session ends.
   */
  async gameMode(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') throw new SdkError('BAD_INPUT', 'game mode is true or false');
    await this.#request({ type: 'SetGameMode', enabled: on }, `game mode ${on ? 'on' : 'off'}`);
  }

  /**
   * The toy's application events (paw events in game mode, a recording stored, playback started /
   * finished / stopped) from now until the session ends, as an async iterator. Leaving the loop
   * stops the iterator.
   */
  events(): AsyncIterableIterator<ToyAppEvent> {
    const queue: AsyncQueue<ToyAppEvent> = new AsyncQueue(() => this.#eventQueues.delete(queue));
    if (this.isOpen) this.#eventQueues.add(queue);
    else queue.end();
    return queue;
  }

  /** Calls `listener` for each application event; returns the function that stops it. */
  onEvent(listener: (event: ToyAppEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  // ---- pairings ----

  /** The toy's paired phones (admin only: NOT_ADMIN for a member). */
  async pairings(): Promise<PairingInfo[]> {
    const r = await this.#request({ type: 'ListPairings' }, 'list pairings');
    if (r.type !== 'Pairings') return [];
    return r.entries.map((e) => ({
      phoneId: hex(e.phoneId),
      role: e.role,
      name: e.name,
      thisPhone: e.thisPhone,
    }));
  }

  /**
   * Opens the toy's pairing window for one more phone (admin only), which gets `role` (default
   * member), for `seconds` (1–180, default 180). That phone then pairs with the toy's setup code.
   */
  async addPairing(options: { role?: PairingRole; seconds?: number } = {}): Promise<void> {
    const role = options.role ?? 'member';
    const seconds = options.seconds ?? PAIRING_WINDOW_SECONDS_MAX;
    if (role !== 'admin' && role !== 'member') {
      throw new SdkError('BAD_INPUT', `the role must be 'member' or 'admin', not '${String(role)}'`);
    }
    checkInt(seconds, PAIRING_WINDOW_SECONDS_MIN, PAIRING_WINDOW_SECONDS_MAX, 'the pairing window seconds');
    await this.#request({ type: 'OpenPairingWindow', role, seconds }, 'open the pairing window');
  }

  /**
   * Removes a phone from the toy (admin only). Removing the last admin removes every phone. When
   * `phoneId` is this phone, this is `unpair()` (the toy is forgotten here too, the session ends).
   */
  async removePairing(phoneId: string | Uint8Array): Promise<void> {
    const id = typeof phoneId === 'string' ? parseHex(phoneId, 16) : phoneId;
    if (!(id instanceof Uint8Array) || id.length !== 16) {
      throw new SdkError('BAD_INPUT', 'a phone id is 32 hex digits (see pairings())');
    }
    if (bytesEqual(id, this.#init.identity.phoneId)) {
      await this.unpair({ force: true });
      return;
    }
    await this.#request({ type: 'RemovePairing', phoneId: id }, 'remove the pairing');
  }

  /**
   * Removes this phone from the toy, then forgets the toy here, and ends the session. A member
   * cannot remove itself (NOT_ADMIN: an admin must, or forget the toy locally with
   * `ToyClient.forget`). The last admin of a toy with other phones gets LAST_ADMIN unless
   * `force` (removing it removes every phone).
   */
  async unpair(options: { force?: boolean } = {}): Promise<void> {
    this.#checkOpen('unpair');
    if (this.#init.toy.role !== 'admin') {
      throw new SdkError(
        'NOT_ADMIN',
        'a member cannot remove itself from the toy: ask an admin to remove this phone, or forget the toy on this phone only (pawlink unpair --local)',
      );
    }
    if (!options.force) {
      const list = await this.pairings();
      const others = list.filter((p) => !p.thisPhone);
      if (others.length > 0 && !others.some((p) => p.role === 'admin')) {
        throw new SdkError(
          'LAST_ADMIN',
          `this phone is the toy's only admin: removing it removes all ${others.length + 1} phones (use force / --force to do it anyway, or make another phone admin first)`,
        );
      }
    }
    await this.#request({ type: 'RemovePairing', phoneId: this.#init.identity.phoneId.slice() }, 'unpair');
    this.#init.keystore.removeToy(this.#toyId);
    await this.close();
  }

  /** Ends the session and drops the link (idempotent). */
  async close(): Promise<void> {
    if (!this.isOpen) {
      await this.#init.driver.connection.disconnect().catch(() => undefined);
      return;
    }
    this.#finish(new SdkError('CLOSED', 'the session was closed'));
    await this.#init.driver.close().catch(() => undefined);
  }

  // ---- used by ToyClient.connect ----

  /**
   * @internal Resumes the uploads the keystore holds for this toy, one by one. One whose content is
   * gone or changed, or that the toy refuses, is forgotten (reported with its error); a lost link
   * stops the resume (the rest wait for the next connection) and rejects.
   */
  async resumeUploads(onProgress?: (progress: TransferProgress) => void): Promise<ResumedUpload[]> {
    const results: ResumedUpload[] = [];
    for (const upload of this.#init.keystore.listUploads(this.#toyId)) {
      const content = this.#readPending(upload);
      if (content instanceof SdkError) {
        this.#init.keystore.removeUpload(upload.toyId, upload.transferId);
        results.push({ transferId: upload.transferId, error: content });
        continue;
      }
      try {
        const messageId = await this.#serial(() => this.#uploadSaved(content, upload.transferId, onProgress));
        results.push({ transferId: upload.transferId, messageId });
      } catch (e) {
        const error = asSdkError(e);
        if (error.code === 'UPLOAD_INTERRUPTED' || !this.isOpen) throw error;
        results.push({ transferId: upload.transferId, error });
      }
    }
    this.resumed = results;
    return results;
  }

  // ---- internals ----

  #readPending(upload: PendingUpload): Uint8Array | SdkError {
    let content: Uint8Array;
    try {
      content = this.#init.keystore.readUploadContent(upload);
    } catch (e) {
      return asSdkError(e);
    }
    if (content.length !== upload.totalBytes || !bytesEqual(sha256(content), upload.sha256)) {
      return new SdkError(
        'UPLOAD_CONTENT_CHANGED',
        `the content of unfinished upload ${upload.transferId} changed since it started: send it again`,
      );
    }
    return content;
  }

  /** Uploads content already saved in the keystore; forgets it there when it ends for good. */
  async #uploadSaved(
    container: Uint8Array,
    transferId: number,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<number> {
    try {
      const messageId = await this.#upload(container, transferId, onProgress);
      this.#init.keystore.removeUpload(this.#toyId, transferId);
      return messageId;
    } catch (e) {
      const error = asSdkError(e);
      if (error.code !== 'UPLOAD_INTERRUPTED') this.#init.keystore.removeUpload(this.#toyId, transferId);
      throw error;
    }
  }

  #upload(
    container: Uint8Array,
    transferId: number,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<number> {
    const done = deferred<number>();
    let committed = 0;
    this.#transferListeners.set(transferId, (e) => {
      if (e.type === 'transfer-progress') {
        committed = e.committed;
        this.#lastActivity = this.#init.scheduler.now();
        safeCall(onProgress, { transferId, committedBytes: e.committed, totalBytes: e.total });
      } else if (e.type === 'upload-done') {
        if (committed < container.length) {
          safeCall(onProgress, {
            transferId,
            committedBytes: container.length,
            totalBytes: container.length,
          });
        }
        done.resolve(e.messageId);
      } else if (e.type === 'transfer-failed') {
        if (
          !this.isOpen ||
          this.#init.driver.engine.state === 'closed' ||
          e.status === TransferStatus.Cancelled
        ) {
          const pct = Math.floor((committed / container.length) * 100);
          done.reject(
            new SdkError(
              'UPLOAD_INTERRUPTED',
              `the connection to the toy was lost during the upload (${pct}% stored): it resumes by itself at the next connection`,
            ),
          );
        } else done.reject(transferError(e.status, 'the upload'));
      }
    });
    try {
      this.#init.driver.act((engine, now) => engine.upload(container, now, transferId));
    } catch (e) {
      this.#transferListeners.delete(transferId);
      done.reject(asSdkError(e));
    }
    return done.promise.finally(() => this.#transferListeners.delete(transferId));
  }

  #download(messageId: number, onProgress?: (p: TransferProgress) => void): Promise<Uint8Array> {
    const done = deferred<Uint8Array>();
    const transferId = newTransferId(this.#init.random);
    this.#transferListeners.set(transferId, (e) => {
      if (e.type === 'transfer-progress') {
        this.#lastActivity = this.#init.scheduler.now();
        safeCall(onProgress, { transferId, committedBytes: e.committed, totalBytes: e.total });
      } else if (e.type === 'download-done') {
        done.resolve(e.content);
      } else if (e.type === 'transfer-failed') {
        if (!this.isOpen || this.#init.driver.engine.state === 'closed') {
          done.reject(new SdkError('DISCONNECTED', 'the connection to the toy was lost during the download'));
        } else if (e.status === TransferStatus.NotFound) {
          done.reject(new SdkError('NOT_FOUND', `download: the toy has no message ${messageId}`));
        } else done.reject(transferError(e.status, 'the download'));
      }
    });
    try {
      this.#init.driver.act((engine, now) => engine.download(messageId, now, transferId));
    } catch (e) {
      this.#transferListeners.delete(transferId);
      done.reject(asSdkError(e));
    }
    return done.promise.finally(() => this.#transferListeners.delete(transferId));
  }

  /** Runs transfers one after another. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#transferChain.then(async () => {
      this.#transfersRunning++;
      try {
        this.#checkOpen('transfer');
        return await fn();
      } finally {
        this.#transfersRunning--;
        this.#lastActivity = this.#init.scheduler.now();
      }
    });
    this.#transferChain = run.catch(() => undefined);
    return run;
  }

  async #request(message: DistributiveOmit<AppRequest, 'requestId'>, what: string): Promise<AppMessage> {
    this.#checkOpen(what);
    const done = deferred<AppMessage>();
    let requestId: number;
    try {
      requestId = this.#init.driver.act((engine, now) => engine.request(message, now));
    } catch (e) {
      throw asSdkError(e);
    }
    this.#lastActivity = this.#init.scheduler.now();
    const seconds = this.#init.requestTimeoutMs / 1000;
    const timer = this.#init.scheduler.setTimer(() => {
      if (!this.#pending.delete(requestId)) return;
      done.reject(new SdkError('TIMEOUT', `${what}: the toy did not answer within ${seconds} s`));
    }, this.#init.requestTimeoutMs);
    this.#pending.set(requestId, {
      request: { ...message, requestId } as AppRequest,
      what,
      resolve: done.resolve,
      reject: done.reject,
      timer,
    });
    const response = await done.promise;
    if (response.type === 'Error') throw appError(response.code, what, response.detail);
    return response;
  }

  #onEvent(e: PhoneEvent): void {
    switch (e.type) {
      case 'response': {
        const p = this.#pending.get(e.requestId);
        if (!p || !isResponseTo(p.request, e.message)) return;
        this.#pending.delete(e.requestId);
        p.timer.cancel();
        p.resolve(e.message);
        return;
      }
      case 'app-event':
        for (const q of this.#eventQueues) q.push(e.message);
        for (const l of this.#eventListeners) safeCall(l, e.message);
        return;
      case 'transfer-progress':
      case 'upload-done':
      case 'download-done':
      case 'transfer-failed':
        this.#transferListeners.get(e.transferId)?.(e);
        return;
      case 'alert':
        this.#alertCode = e.code;
        return;
      case 'closed':
        this.#finish(closeError(e.reason, this.#alertCode));
        return;
      default:
        return;
    }
  }

  #finish(reason: SdkError): void {
    if (this.#closeReason) return;
    this.#closeReason = reason;
    this.#keepAlive?.cancel();
    this.#keepAlive = undefined;
    this.#offDriver();
    for (const p of this.#pending.values()) {
      p.timer.cancel();
      p.reject(new SdkError(reason.code, `${p.what}: ${reason.message}`));
    }
    this.#pending.clear();
    // Transfers learn it from the engine's transfer-failed events, which came before 'closed'.
    for (const listener of this.#transferListeners.values()) {
      listener({ type: 'transfer-failed', transferId: 0, status: TransferStatus.Cancelled });
    }
    for (const q of this.#eventQueues) q.end();
    this.#eventQueues.clear();
    this.#resolveClosed(reason);
    this.#init.onClosed?.(this);
  }

  #checkOpen(what: string): void {
    if (this.#closeReason) {
      throw new SdkError(this.#closeReason.code, `${what}: ${this.#closeReason.message}`);
    }
  }

  #armKeepAlive(): void {
    this.#keepAlive?.cancel();
    if (!this.isOpen) return;
    const { scheduler, keepAliveMs } = this.#init;
    const due = this.#lastActivity + keepAliveMs;
    this.#keepAlive = scheduler.setTimer(
      () => {
        this.#keepAlive = undefined;
        if (!this.isOpen) return;
        const now = scheduler.now();
        if (this.#transfersRunning > 0) this.#lastActivity = now;
        else if (now - this.#lastActivity >= keepAliveMs) {
          this.#request({ type: 'StatusRequest' }, 'keep-alive').catch(() => undefined);
        }
        this.#armKeepAlive();
      },
      Math.max(0, due - scheduler.now()),
    );
  }
}

/** The info an app sees for a keystore toy. */
export function toyInfo(t: StoredToy): PairedToyInfo {
  return {
    toyId: hex(t.toyId),
    label: t.label,
    role: t.role,
    pairedAt: t.pairedAt,
    ...(t.lastSeen !== undefined ? { lastSeen: t.lastSeen } : {}),
  };
}

/** The SdkError for the end of a protocol connection. */
export function closeError(reason: PawLinkError | undefined, alertCode: number | undefined): SdkError {
  if (alertCode === 2) {
    return new SdkError(
      'UNKNOWN_PHONE',
      'the toy does not know this phone any more (it was removed from the toy, or the toy was reset): pair again',
    );
  }
  if (alertCode === 3) {
    return new SdkError('DISCONNECTED', 'the toy dropped the connection: it was not authenticated in time');
  }
  if (alertCode !== undefined) {
    return new SdkError('DISCONNECTED', `the toy refused the connection (alert ${alertCode})`);
  }
  if (!reason) return new SdkError('DISCONNECTED', 'the connection to the toy is closed');
  if (reason.code === 'LOCAL_CLOSE') return new SdkError('CLOSED', 'the session was closed');
  if (reason.code === 'LINK_LOST') {
    return new SdkError('DISCONNECTED', 'the Bluetooth link to the toy was lost', { cause: reason });
  }
  return new SdkError('DISCONNECTED', `the connection to the toy ended (${reason.code})`, { cause: reason });
}

function transferError(status: number, what: string): SdkError {
  switch (status) {
    case TransferStatus.NoSpace:
      return new SdkError('STORAGE_FULL', `${what}: the toy's storage is full: delete some messages first`);
    case TransferStatus.TooLarge:
      return new SdkError('TOO_LARGE', `${what}: the message is larger than the toy accepts`);
    case TransferStatus.Busy:
      return new SdkError('BUSY', `${what}: the toy is busy with another transfer: try again shortly`);
    case TransferStatus.HashMismatch:
    case TransferStatus.InvalidContent:
    case TransferStatus.BadContent:
      return new SdkError(
        'TRANSFER_REJECTED',
        `${what}: the toy refused the content (${transferStatusName(status)}); nothing was stored`,
      );
    default:
      return new SdkError('TRANSFER_FAILED', `${what} failed (${transferStatusName(status)})`);
  }
}

function checkInt(v: unknown, min: number, max: number, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SdkError('BAD_INPUT', `${what} must be a whole number from ${min} to ${max}, not ${String(v)}`);
  }
}

function checkMessageId(id: unknown): asserts id is number {
  checkInt(id, MESSAGE_ID_MIN, MESSAGE_ID_MAX, 'a message id');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isPrepared(v: unknown): v is PreparedVoice {
  return isObj(v) && v['container'] instanceof Uint8Array && typeof v['durationMs'] === 'number';
}

/** Calls an app callback; its exception must not break the transfer. */
function safeCall<A>(fn: ((a: A) => void) | undefined, arg: A): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch (e) {
    queueMicrotask(() => {
      throw new SdkError('CALLBACK_FAILED', `an event callback threw: ${oneLine(String(e))}`);
    });
  }
}
