/**
 * The sending side of a transfer (PROTOCOL.md, "Sender state machine"): the phone for an upload, the
 * toy for a download. Pure and synchronous: messages in, messages out; the driver encodes them into
 * session records. No retransmission: the session channel is ordered and reliable while it lives, and
 * after a reconnect a NEW TransferSender with the same transferId and content resumes where the
 * receiver's TransferAccept says.
 *
 *   idle --start()--> awaiting-accept --Accept--> sending --(last block sent: End)--> awaiting-done
 *   awaiting-done --Done{Ok}--> done        awaiting-done --Done{other}--> failed
 *   awaiting-accept --Done{Ok}--> done      (the receiver already holds this exact content)
 *   awaiting-accept|sending|awaiting-done --TransferAbort / cancel()--> aborted
 *
 * Every handler validates the whole message before changing anything: a refused message throws a
 * TransferError and leaves the sender as it was (the driver then calls `cancel(transferStatusFor(err))`
 * and sends that TransferAbort).
 */
import { type BlockSpan, planBlocks } from '../container/container.js';
import { sha256 } from '../crypto.js';
import { TransferError } from '../errors.js';
import type { RandomSource } from '../random.js';
import type {
  BlockAck,
  TransferAbort,
  TransferAccept,
  TransferDone,
  TransferInit,
  TransferMessage,
} from './codec.js';
import { MAX_BLOCK_BYTES, MIN_BLOCK_BYTES, minWindow, TransferCodec, TransferStatus } from './constants.js';
import { asTransferError, contentFormat } from './content.js';

export type SenderState =
  | 'idle'
  | 'awaiting-accept'
  | 'sending'
  | 'awaiting-done'
  | 'done'
  | 'failed'
  | 'aborted';

export interface SenderOptions {
  /** u32 chosen by whoever starts the transfer (`newTransferId`), reused to resume. */
  transferId: number;
  /** TransferDirection.Upload from a phone, TransferDirection.Download from the toy. */
  direction: number;
  /** Default TransferCodec.VoiceContainer. */
  codec?: number;
  /** The whole content (copied): for codec 1 a valid voice container. */
  content: Uint8Array;
  /** What the sender believes the receiver has committed (advisory; default 0). */
  startOffset?: number;
  /** The sender's own cap on block size (default and maximum MAX_BLOCK_BYTES). */
  maxBlock?: number;
}

/** Bytes the receiver has confirmed as persisted, for a progress bar. */
export interface TransferProgress {
  committedBytes: number;
  totalBytes: number;
  /** committedBytes / totalBytes, in [0, 1]. */
  fraction: number;
}

const ACTIVE: ReadonlySet<SenderState> = new Set(['awaiting-accept', 'sending', 'awaiting-done']);

export class TransferSender {
  readonly transferId: number;
  readonly direction: number;
  readonly codec: number;
  readonly totalBytes: number;
  /** SHA-256 of the content, sent in TransferInit. */
  readonly sha256: Uint8Array;

  private readonly content: Uint8Array;
  private readonly boundaries: number[];
  private readonly ownMaxBlock: number;
  private readonly believedOffset: number;
  private current: SenderState = 'idle';
  private acked = 0;
  private sent = 0;
  private window = 0;
  private blocks: BlockSpan[] = [];
  private nextBlock = 0;
  private finalStatus: number | undefined;
  private doneMessageId: number | undefined;

  /** Validates the options and the content. Throws TransferError (INVALID_CONTENT, TOO_LARGE...). */
  constructor(options: SenderOptions) {
    const codec = options.codec ?? TransferCodec.VoiceContainer;
    const format = contentFormat(codec);
    if (format === undefined) throw new TransferError('UNSUPPORTED_CODEC', `codec ${codec} is not supported`);
    if (options.direction !== 0 && options.direction !== 1) {
      throw new TransferError('BAD_DIRECTION', `direction ${options.direction} (0 upload, 1 download)`);
    }
    if (!isU32(options.transferId)) {
      throw new TransferError('OUT_OF_RANGE', `transferId ${options.transferId} is not a u32`);
    }
    const ownMaxBlock = options.maxBlock ?? MAX_BLOCK_BYTES;
    if (!Number.isInteger(ownMaxBlock) || ownMaxBlock < MIN_BLOCK_BYTES || ownMaxBlock > MAX_BLOCK_BYTES) {
      throw new TransferError(
        'BAD_OPTIONS',
        `maxBlock ${ownMaxBlock} is outside ${MIN_BLOCK_BYTES}..${MAX_BLOCK_BYTES}`,
      );
    }
    const content = options.content.slice();
    if (content.length < format.minBytes) {
      throw new TransferError(
        'TOO_SMALL',
        `content is ${content.length} bytes, less than ${format.minBytes}`,
      );
    }
    if (content.length > format.maxBytes) {
      throw new TransferError(
        'TOO_LARGE',
        `content is ${content.length} bytes, more than ${format.maxBytes}`,
      );
    }
    const boundaries = asTransferError('INVALID_CONTENT', 'content', () => format.boundaries(content));
    const startOffset = options.startOffset ?? 0;
    if (!Number.isInteger(startOffset) || startOffset < 0 || startOffset > content.length) {
      throw new TransferError(
        'BAD_START_OFFSET',
        `startOffset ${startOffset} is outside 0..${content.length}`,
      );
    }
    this.transferId = options.transferId;
    this.direction = options.direction;
    this.codec = codec;
    this.totalBytes = content.length;
    this.sha256 = sha256(content);
    this.content = content;
    this.boundaries = boundaries;
    this.ownMaxBlock = ownMaxBlock;
    this.believedOffset = startOffset;
  }

  get state(): SenderState {
    return this.current;
  }

  get progress(): TransferProgress {
    return {
      committedBytes: this.acked,
      totalBytes: this.totalBytes,
      fraction: this.acked / this.totalBytes,
    };
  }

  /** The receiver's id for the stored message, after Done{Ok}. */
  get messageId(): number | undefined {
    return this.doneMessageId;
  }

  /** The final status: Done's status, or the TransferAbort's (either side's). Undefined while active. */
  get status(): number | undefined {
    return this.finalStatus;
  }

  /** idle -> awaiting-accept: the TransferInit to send. */
  start(): TransferInit {
    if (this.current !== 'idle') throw new TransferError('BAD_STATE', `start() in state ${this.current}`);
    this.current = 'awaiting-accept';
    return {
      type: 'TransferInit',
      transferId: this.transferId,
      direction: this.direction,
      codec: this.codec,
      totalBytes: this.totalBytes,
      sha256: this.sha256.slice(),
      startOffset: this.believedOffset,
    };
  }

  /** Dispatches a received transfer message; returns the messages to send, in order. */
  handle(msg: TransferMessage): TransferMessage[] {
    switch (msg.type) {
      case 'TransferAccept':
        return this.onAccept(msg);
      case 'BlockAck':
        return this.onBlockAck(msg);
      case 'Done':
        return this.onDone(msg);
      case 'TransferAbort':
        return this.onAbort(msg);
      default:
        this.checkId(msg.transferId);
        throw new TransferError('UNEXPECTED_MESSAGE', `a sender does not accept ${msg.type}`);
    }
  }

  /** awaiting-accept -> sending: validates the receiver's terms and sends the first window of blocks. */
  onAccept(msg: TransferAccept): TransferMessage[] {
    this.checkId(msg.transferId);
    this.expectState('awaiting-accept', msg.type);
    if (msg.maxBlock < MIN_BLOCK_BYTES) {
      throw new TransferError('BAD_ACCEPT', `maxBlock ${msg.maxBlock} is below ${MIN_BLOCK_BYTES}`);
    }
    if (msg.window < minWindow(msg.maxBlock)) {
      throw new TransferError(
        'BAD_ACCEPT',
        `window ${msg.window} is below commit interval + maxBlock = ${minWindow(msg.maxBlock)} (could deadlock)`,
      );
    }
    if (msg.startOffset > this.totalBytes) {
      throw new TransferError(
        'BAD_START_OFFSET',
        `startOffset ${msg.startOffset} is past ${this.totalBytes}`,
      );
    }
    const maxBlock = Math.min(msg.maxBlock, this.ownMaxBlock);
    const blocks = asTransferError('BAD_START_OFFSET', `startOffset ${msg.startOffset}`, () =>
      planBlocks(this.boundaries, maxBlock, msg.startOffset),
    );
    this.current = 'sending';
    this.window = msg.window;
    this.acked = msg.startOffset;
    this.sent = msg.startOffset;
    this.blocks = blocks;
    this.nextBlock = 0;
    return this.pump();
  }

  /** Advances the window and sends what now fits. */
  onBlockAck(msg: BlockAck): TransferMessage[] {
    this.checkId(msg.transferId);
    if (this.current !== 'sending' && this.current !== 'awaiting-done') {
      throw new TransferError('UNEXPECTED_MESSAGE', `BlockAck in state ${this.current}`);
    }
    if (msg.committedOffset <= this.acked || msg.committedOffset > this.sent) {
      throw new TransferError(
        'BAD_ACK',
        `committedOffset ${msg.committedOffset} is outside ${this.acked + 1}..${this.sent} (acked..sent)`,
      );
    }
    this.acked = msg.committedOffset;
    return this.pump();
  }

  /** awaiting-done (or awaiting-accept for Ok) -> done | failed. Returns no messages. */
  onDone(msg: TransferDone): TransferMessage[] {
    this.checkId(msg.transferId);
    const ok = msg.status === TransferStatus.Ok;
    if (!(this.current === 'awaiting-done' || (ok && this.current === 'awaiting-accept'))) {
      throw new TransferError('UNEXPECTED_MESSAGE', `Done in state ${this.current}`);
    }
    if (ok !== (msg.messageId !== 0))
      throw new TransferError('BAD_MESSAGE_ID', 'Done messageId/status mismatch');
    this.current = ok ? 'done' : 'failed';
    this.finalStatus = msg.status;
    if (ok) {
      this.doneMessageId = msg.messageId;
      this.acked = this.totalBytes;
    }
    return [];
  }

  /** Any active state -> aborted. Returns no messages. */
  onAbort(msg: TransferAbort): TransferMessage[] {
    this.checkId(msg.transferId);
    if (!ACTIVE.has(this.current))
      throw new TransferError('UNEXPECTED_MESSAGE', `TransferAbort in state ${this.current}`);
    this.current = 'aborted';
    this.finalStatus = msg.status;
    return [];
  }

  /** Stops an active transfer from this side: the TransferAbort to send. */
  cancel(status: number = TransferStatus.Cancelled): TransferAbort {
    if (!ACTIVE.has(this.current)) throw new TransferError('BAD_STATE', `cancel() in state ${this.current}`);
    if (!Number.isInteger(status) || status < 1 || status > 0xff) {
      throw new TransferError('OUT_OF_RANGE', `abort status ${status} is not a failure u8`);
    }
    this.current = 'aborted';
    this.finalStatus = status;
    return { type: 'TransferAbort', transferId: this.transferId, status };
  }

  /** Sends every planned block that fits in the window, then End after the last one. */
  private pump(): TransferMessage[] {
    const out: TransferMessage[] = [];
    if (this.current !== 'sending') return out;
    while (this.nextBlock < this.blocks.length) {
      const b = this.blocks[this.nextBlock]!;
      const end = b.offset + b.length;
      if (end > this.acked + this.window) break;
      out.push({
        type: 'Block',
        transferId: this.transferId,
        offset: b.offset,
        data: this.content.slice(b.offset, end),
      });
      this.sent = end;
      this.nextBlock += 1;
    }
    if (this.nextBlock === this.blocks.length) {
      out.push({ type: 'End', transferId: this.transferId });
      this.current = 'awaiting-done';
    }
    return out;
  }

  private checkId(transferId: number): void {
    if (transferId !== this.transferId) {
      throw new TransferError('UNKNOWN_TRANSFER', `transferId ${transferId}, expected ${this.transferId}`);
    }
  }

  private expectState(state: SenderState, what: string): void {
    if (this.current !== state)
      throw new TransferError('UNEXPECTED_MESSAGE', `${what} in state ${this.current}`);
  }
}

export function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/**
 * A fresh transferId: 4 bytes from the injected RandomSource (u32 LE), never 0. The party that
 * starts a transfer (the phone for an upload, the phone's DownloadRequest for a download) draws it
 * once per content and reuses it to resume.
 */
export function newTransferId(random: RandomSource): number {
  for (;;) {
    const b = random(4);
    const id = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
    if (id !== 0) return id;
  }
}
