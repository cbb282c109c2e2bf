/**
 * The receiving side of a transfer (PROTOCOL.md, "Receiver state machine"): the toy for an upload,
 * the phone for a download. Pure and synchronous: it never touches storage; its outputs tell the
 * driver, in order, what to persist, what to send and what became playable.
 *
 *   (TransferInit) --open(): limits checked, nothing stored on refusal--> receiving
 *   receiving --Block (next offset, whole packets, in window)--> receiving   [commit + BlockAck
 *                                                                  whenever uncommitted >= interval]
 *   receiving --End, sha256 and container valid--> complete    [commit rest, complete, Done{Ok}]
 *   receiving --End, sha256 or container wrong--> discarded    [discard, Done{HashMismatch|InvalidContent}]
 *   receiving --TransferAbort / abort()--> aborted              [aborted (keep partial unless Cancelled)]
 *
 * A refused message (wrong transferId, state, offset, size, window, split packet, invalid bytes)
 * throws a TransferError and changes NOTHING: no byte of it is ever committed. The driver then sends
 * `abortFor(transferId, err)` and drops the receiver; what was committed stays valid for a resume.
 * Only `complete` makes content playable, and only after the whole content matched its sha256.
 */
import { bytesEqual, concat } from '../bytes.js';
import { sha256 } from '../crypto.js';
import { TransferError } from '../errors.js';
import type { TransferAbort, TransferBlock, TransferEnd, TransferInit, TransferMessage } from './codec.js';
import {
  COMMIT_INTERVAL,
  DEFAULT_MAX_BLOCK,
  DEFAULT_WINDOW,
  MAX_BLOCK_BYTES,
  MIN_BLOCK_BYTES,
  minWindow,
  TRANSFER_HASH_LEN,
  TransferStatus,
} from './constants.js';
import { asTransferError, type ContentScanner, contentFormat } from './content.js';
import { isU32, type TransferProgress } from './sender.js';

export type ReceiverState = 'receiving' | 'complete' | 'discarded' | 'aborted';

export interface ReceiverOptions {
  /** The direction this side receives: TransferDirection.Upload on the toy, Download on a phone. */
  direction: number;
  /** Allocates the id of a verified message (u32, not 0). Called once, only when content is complete. */
  assignMessageId: () => number;
  /**
   * Free-space check made at Init, before anything is stored: can the driver store `bytesNeeded`
   * more bytes (totalBytes minus what a resume keeps)? Default: always yes.
   */
  hasSpace?: (bytesNeeded: number) => boolean;
  /** Largest block offered in TransferAccept (MIN_BLOCK_BYTES..MAX_BLOCK_BYTES, default MAX). */
  maxBlock?: number;
  /** Window offered in TransferAccept (>= COMMIT_INTERVAL + maxBlock; default DEFAULT_WINDOW). */
  window?: number;
  /** Commit when this many bytes are uncommitted (1..COMMIT_INTERVAL, default COMMIT_INTERVAL). */
  commitInterval?: number;
}

/** What the driver keeps across reconnects for an unfinished transfer: its Init and committed bytes. */
export interface PersistedTransfer {
  init: TransferInit;
  committed: Uint8Array;
}

/** Why a resume started again from 0 (the driver must drop the stored partial). */
export type RestartReason = 'CONTENT_CHANGED' | 'STORED_INVALID';

export type ReceiverOutput =
  /** Encode and send this message to the sender. */
  | { kind: 'send'; message: TransferMessage }
  /**
   * Persist `init` as the partial transfer for init.transferId and truncate its stored bytes to
   * `keepBytes` (0 = drop any old partial). Always the first output of `open`.
   */
  | { kind: 'begin'; init: TransferInit; keepBytes: number; restarted?: RestartReason }
  /** Append `bytes` at `offset` (= current stored length) and make it durable BEFORE sending the ack that follows. */
  | { kind: 'commit'; transferId: number; offset: number; bytes: Uint8Array }
  /** The whole content is verified: store exactly `content` as message `messageId`; it is now playable. */
  | { kind: 'complete'; transferId: number; messageId: number; content: Uint8Array; sha256: Uint8Array }
  /** Delete everything stored for this transfer; nothing of it may ever play. */
  | { kind: 'discard'; transferId: number; status: number }
  /**
   * The transfer stopped; keep the partial for a later resume when `keepPartial`, else delete it
   * (after Cancelled, BadContent or SplitsPacket).
   */
  | { kind: 'aborted'; transferId: number; status: number; keepPartial: boolean };

interface Limits {
  maxBlock: number;
  window: number;
  commitInterval: number;
}

function checkOptions(o: ReceiverOptions): Limits {
  const maxBlock = o.maxBlock ?? DEFAULT_MAX_BLOCK;
  const window = o.window ?? Math.max(DEFAULT_WINDOW, minWindow(maxBlock));
  const commitInterval = o.commitInterval ?? COMMIT_INTERVAL;
  if (!Number.isInteger(maxBlock) || maxBlock < MIN_BLOCK_BYTES || maxBlock > MAX_BLOCK_BYTES) {
    throw new TransferError(
      'BAD_OPTIONS',
      `maxBlock ${maxBlock} is outside ${MIN_BLOCK_BYTES}..${MAX_BLOCK_BYTES}`,
    );
  }
  if (!isU32(window) || window < minWindow(maxBlock)) {
    throw new TransferError('BAD_OPTIONS', `window ${window} is below commit interval + maxBlock`);
  }
  if (!Number.isInteger(commitInterval) || commitInterval < 1 || commitInterval > COMMIT_INTERVAL) {
    throw new TransferError(
      'BAD_OPTIONS',
      `commitInterval ${commitInterval} is outside 1..${COMMIT_INTERVAL}`,
    );
  }
  return { maxBlock, window, commitInterval };
}

/**
 * Abort statuses after which the stored partial must be deleted rather than kept for a resume:
 * a cancel, and the two refusals that mean the stored prefix and the sender's content disagree
 * (a corrupted stored length prefix shows up as exactly these). Keeping such a partial would make
 * every resume of this transferId fail the same way.
 */
const DROP_PARTIAL_ON: ReadonlySet<number> = new Set([
  TransferStatus.Cancelled,
  TransferStatus.BadContent,
  TransferStatus.SplitsPacket,
]);

function copyInit(init: TransferInit): TransferInit {
  return { ...init, sha256: init.sha256.slice() };
}

function sameContent(a: TransferInit, b: TransferInit): boolean {
  return (
    a.transferId === b.transferId &&
    a.direction === b.direction &&
    a.codec === b.codec &&
    a.totalBytes === b.totalBytes &&
    bytesEqual(a.sha256, b.sha256)
  );
}

export class TransferReceiver {
  private current: ReceiverState = 'receiving';
  private readonly committedChunks: Uint8Array[];
  private committedLen: number;
  private pendingChunks: Uint8Array[] = [];
  private pendingLen = 0;
  private finalStatus: number | undefined;

  private constructor(
    /** The Init this receiver serves (a private copy). */
    readonly init: TransferInit,
    private readonly scanner: ContentScanner,
    private readonly limits: Limits,
    private readonly options: ReceiverOptions,
    kept: Uint8Array,
  ) {
    this.committedChunks = kept.length > 0 ? [kept] : [];
    this.committedLen = kept.length;
  }

  /**
   * Answers a TransferInit: checks every limit before anything is stored, then either starts fresh
   * or resumes from `persisted` (the driver's saved partial for this transferId, if any).
   * Returns the receiver and its first outputs: `begin`, then `send` TransferAccept.
   * Throws TransferError (BAD_DIRECTION, UNSUPPORTED_CODEC, EMPTY_TRANSFER, TOO_SMALL, TOO_LARGE,
   * BAD_START_OFFSET, NO_SPACE, BAD_OPTIONS); the driver answers `abortFor(init.transferId, err)`.
   */
  static open(
    init: TransferInit,
    options: ReceiverOptions,
    persisted?: PersistedTransfer,
  ): { receiver: TransferReceiver; outputs: ReceiverOutput[] } {
    const limits = checkOptions(options);
    if ((init.direction !== 0 && init.direction !== 1) || init.direction !== options.direction) {
      throw new TransferError(
        'BAD_DIRECTION',
        `direction ${init.direction}; this side receives ${options.direction}`,
      );
    }
    const format = contentFormat(init.codec);
    if (format === undefined)
      throw new TransferError('UNSUPPORTED_CODEC', `codec ${init.codec} is not supported`);
    if (init.totalBytes === 0) throw new TransferError('EMPTY_TRANSFER', 'totalBytes is 0');
    if (init.totalBytes < format.minBytes) {
      throw new TransferError('TOO_SMALL', `totalBytes ${init.totalBytes} is below ${format.minBytes}`);
    }
    if (init.totalBytes > format.maxBytes) {
      throw new TransferError(
        'TOO_LARGE',
        `totalBytes ${init.totalBytes} is above the limit ${format.maxBytes}`,
      );
    }
    if (init.startOffset > init.totalBytes) {
      throw new TransferError(
        'BAD_START_OFFSET',
        `startOffset ${init.startOffset} > totalBytes ${init.totalBytes}`,
      );
    }
    if (init.sha256.length !== TRANSFER_HASH_LEN)
      throw new TransferError('BAD_LENGTH', 'sha256 must be 32 bytes');

    let scanner = format.scanner();
    let kept: Uint8Array = new Uint8Array(0);
    let restarted: RestartReason | undefined;
    if (persisted !== undefined) {
      if (!sameContent(persisted.init, init)) {
        restarted = 'CONTENT_CHANGED';
      } else if (persisted.committed.length > init.totalBytes) {
        restarted = 'STORED_INVALID';
      } else if (persisted.committed.length > 0) {
        const stored = persisted.committed.slice();
        try {
          scanner.push(stored, true);
          kept = stored;
        } catch {
          // The stored bytes are not a valid prefix ending on a packet boundary: start again.
          restarted = 'STORED_INVALID';
          scanner = format.scanner();
        }
      }
    }
    const needed = init.totalBytes - kept.length;
    if (options.hasSpace !== undefined && !options.hasSpace(needed)) {
      throw new TransferError('NO_SPACE', `no room for ${needed} more bytes`);
    }
    const receiver = new TransferReceiver(copyInit(init), scanner, limits, options, kept);
    const begin: ReceiverOutput = { kind: 'begin', init: copyInit(init), keepBytes: kept.length };
    if (restarted !== undefined) begin.restarted = restarted;
    const accept: TransferMessage = {
      type: 'TransferAccept',
      transferId: init.transferId,
      maxBlock: limits.maxBlock,
      window: limits.window,
      startOffset: kept.length,
    };
    return { receiver, outputs: [begin, { kind: 'send', message: accept }] };
  }

  get transferId(): number {
    return this.init.transferId;
  }

  get state(): ReceiverState {
    return this.current;
  }

  /** Bytes received and accepted (committed or not). */
  get receivedOffset(): number {
    return this.committedLen + this.pendingLen;
  }

  /** Bytes committed (what storage holds once the driver applied every `commit`). */
  get committedOffset(): number {
    return this.committedLen;
  }

  /** A copy of the committed bytes: exactly what the driver's storage should hold. */
  get committed(): Uint8Array {
    return concat(...this.committedChunks);
  }

  get progress(): TransferProgress {
    const total = this.init.totalBytes;
    return { committedBytes: this.committedLen, totalBytes: total, fraction: this.committedLen / total };
  }

  /** Done's or the abort's status once finished. */
  get status(): number | undefined {
    return this.finalStatus;
  }

  /** Dispatches a received transfer message. Throws TransferError for anything a receiver refuses. */
  handle(msg: TransferMessage): ReceiverOutput[] {
    switch (msg.type) {
      case 'Block':
        return this.onBlock(msg);
      case 'End':
        return this.onEnd(msg);
      case 'TransferAbort':
        return this.onAbort(msg);
      default:
        this.checkId(msg.transferId);
        throw new TransferError('UNEXPECTED_MESSAGE', `a receiver does not accept ${msg.type} here`);
    }
  }

  /** Accepts the next block (or throws and changes nothing); commits and acks every interval. */
  onBlock(msg: TransferBlock): ReceiverOutput[] {
    this.checkId(msg.transferId);
    this.expectReceiving(msg.type);
    const start = this.receivedOffset;
    const len = msg.data.length;
    if (msg.offset !== start) {
      throw new TransferError('UNEXPECTED_OFFSET', `block at offset ${msg.offset}, expected ${start}`);
    }
    if (len === 0) throw new TransferError('EMPTY_BLOCK', 'empty block');
    if (len > this.limits.maxBlock) {
      throw new TransferError(
        'BLOCK_TOO_LARGE',
        `block of ${len} bytes, maxBlock is ${this.limits.maxBlock}`,
      );
    }
    const end = start + len;
    if (end > this.init.totalBytes) {
      throw new TransferError(
        'BLOCK_PAST_END',
        `block ends at ${end}, past totalBytes ${this.init.totalBytes}`,
      );
    }
    // No window check here: this receiver commits and acks synchronously, so after every block fewer
    // than commitInterval bytes are uncommitted and the next block (<= maxBlock) always ends inside
    // committed + window (window >= COMMIT_INTERVAL + maxBlock). A driver that queues blocks while a
    // slow commit completes enforces the window itself (status WINDOW_EXCEEDED); PROTOCOL.md explains.
    const data = msg.data.slice();
    asTransferError(
      (inner) => (inner === 'SPLITS_PACKET' ? 'SPLITS_PACKET' : 'BAD_CONTENT'),
      `block at ${start}`,
      () => this.scanner.push(data, true),
    );
    this.pendingChunks.push(data);
    this.pendingLen += len;
    if (this.pendingLen < this.limits.commitInterval) return [];
    const commit = this.takePending();
    return [
      commit,
      {
        kind: 'send',
        message: { type: 'BlockAck', transferId: this.transferId, committedOffset: this.committedLen },
      },
    ];
  }

  /**
   * Verifies the whole content: SHA-256 first, then the container's final checks (packet count).
   * Ok: commit the rest, `complete`, Done{Ok, messageId}. Otherwise: `discard`, Done{status, 0}.
   */
  onEnd(msg: TransferEnd): ReceiverOutput[] {
    this.checkId(msg.transferId);
    this.expectReceiving(msg.type);
    if (this.receivedOffset !== this.init.totalBytes) {
      throw new TransferError(
        'END_EARLY',
        `End after ${this.receivedOffset} of ${this.init.totalBytes} bytes`,
      );
    }
    const content = concat(...this.committedChunks, ...this.pendingChunks);
    const digest = sha256(content);
    let status: number = TransferStatus.Ok;
    if (!bytesEqual(digest, this.init.sha256)) {
      status = TransferStatus.HashMismatch;
    } else {
      try {
        this.scanner.finish();
      } catch {
        status = TransferStatus.InvalidContent;
      }
    }
    if (status !== TransferStatus.Ok) {
      this.current = 'discarded';
      this.finalStatus = status;
      return [
        { kind: 'discard', transferId: this.transferId, status },
        { kind: 'send', message: { type: 'Done', transferId: this.transferId, status, messageId: 0 } },
      ];
    }
    const messageId = this.options.assignMessageId();
    if (!isU32(messageId) || messageId === 0) {
      throw new TransferError('BAD_MESSAGE_ID', `assignMessageId returned ${messageId} (need a u32 != 0)`);
    }
    const out: ReceiverOutput[] = [];
    if (this.pendingLen > 0) out.push(this.takePending());
    this.current = 'complete';
    this.finalStatus = status;
    out.push(
      { kind: 'complete', transferId: this.transferId, messageId, content, sha256: digest },
      { kind: 'send', message: { type: 'Done', transferId: this.transferId, status, messageId } },
    );
    return out;
  }

  /** The sender stopped: keep the committed partial for a resume unless it cancelled (see DROP_PARTIAL_ON). */
  onAbort(msg: TransferAbort): ReceiverOutput[] {
    this.checkId(msg.transferId);
    this.expectReceiving(msg.type);
    return this.stop(msg.status);
  }

  /**
   * Stops the transfer from this side (user cancel, storage failure...): send TransferAbort{status},
   * then `aborted`. Uncommitted bytes are dropped (the sender re-sends them on resume).
   */
  abort(status: number = TransferStatus.Cancelled): ReceiverOutput[] {
    if (this.current !== 'receiving')
      throw new TransferError('BAD_STATE', `abort() in state ${this.current}`);
    if (!Number.isInteger(status) || status < 1 || status > 0xff) {
      throw new TransferError('OUT_OF_RANGE', `abort status ${status} is not a failure u8`);
    }
    const send: ReceiverOutput = {
      kind: 'send',
      message: { type: 'TransferAbort', transferId: this.transferId, status },
    };
    return [send, ...this.stop(status)];
  }

  private stop(status: number): ReceiverOutput[] {
    this.current = 'aborted';
    this.finalStatus = status;
    this.pendingChunks = [];
    this.pendingLen = 0;
    return [
      {
        kind: 'aborted',
        transferId: this.transferId,
        status,
        keepPartial: !DROP_PARTIAL_ON.has(status),
      },
    ];
  }

  private takePending(): ReceiverOutput {
    const bytes = concat(...this.pendingChunks);
    const offset = this.committedLen;
    this.committedChunks.push(bytes);
    this.committedLen += bytes.length;
    this.pendingChunks = [];
    this.pendingLen = 0;
    return { kind: 'commit', transferId: this.transferId, offset, bytes: bytes.slice() };
  }

  private checkId(transferId: number): void {
    if (transferId !== this.transferId) {
      throw new TransferError(
        'UNKNOWN_TRANSFER',
        `transferId ${transferId}, this transfer is ${this.transferId}`,
      );
    }
  }

  private expectReceiving(what: string): void {
    if (this.current !== 'receiving')
      throw new TransferError('UNEXPECTED_MESSAGE', `${what} in state ${this.current}`);
  }
}
