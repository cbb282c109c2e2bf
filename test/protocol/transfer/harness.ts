/**
 * An in-memory transfer link for tests and vectors: a sender driver and a receiver driver exchanging
 * ENCODED transfer messages through one FIFO (what an ordered session channel gives), with a
 * persistent "storage" that survives a cut, and a hook to drop, duplicate, reorder or alter
 * messages in flight. The drivers follow the rules PROTOCOL.md gives a driver: apply outputs in
 * order, answer a refused message with TransferAbort, keep only committed bytes across a reconnect.
 */
import { concat } from '../../../protocol/bytes.js';
import { TransferError } from '../../../protocol/errors.js';
import {
  decodeTransferMessage,
  encodeTransferMessage,
  type TransferMessage,
} from '../../../protocol/transfer/codec.js';
import {
  type PersistedTransfer,
  type ReceiverOptions,
  type ReceiverOutput,
  TransferReceiver,
} from '../../../protocol/transfer/receiver.js';
import { type SenderOptions, TransferSender } from '../../../protocol/transfer/sender.js';
import { abortFor, transferStatusFor } from '../../../protocol/transfer/status.js';

/** What survives a reconnect: partial transfers (Init + committed bytes) and playable messages. */
export interface Storage {
  partials: Map<number, PersistedTransfer>;
  messages: Map<number, Uint8Array>;
  nextMessageId: number;
}

export function newStorage(): Storage {
  return { partials: new Map(), messages: new Map(), nextMessageId: 1 };
}

export type ReceiverDriverOptions = Omit<ReceiverOptions, 'assignMessageId'>;

/** The receiving application: owns storage, creates/resumes receivers from Inits. */
export class ReceiverDriver {
  receiver: TransferReceiver | undefined;
  /** Every output, for assertions. */
  readonly log: ReceiverOutput[] = [];
  /** Errors the receiver threw (each answered with an abort). */
  readonly errors: TransferError[] = [];

  constructor(
    readonly storage: Storage,
    readonly options: ReceiverDriverOptions,
  ) {}

  onBytes(bytes: Uint8Array): Uint8Array[] {
    let msg: TransferMessage;
    try {
      msg = decodeTransferMessage(bytes);
    } catch (e) {
      this.errors.push(e as TransferError);
      return this.receiver?.state === 'receiving'
        ? this.apply(this.receiver.abort(transferStatusFor(e)))
        : [];
    }
    if (msg.type === 'TransferInit') {
      try {
        const { receiver, outputs } = TransferReceiver.open(
          msg,
          { ...this.options, assignMessageId: () => this.storage.nextMessageId++ },
          this.storage.partials.get(msg.transferId),
        );
        this.receiver = receiver;
        return this.apply(outputs);
      } catch (e) {
        if (!(e instanceof TransferError)) throw e;
        this.errors.push(e);
        return [encodeTransferMessage(abortFor(msg.transferId, e))];
      }
    }
    const r = this.receiver;
    if (r === undefined || r.state !== 'receiving') {
      return msg.type === 'TransferAbort' ? [] : [encodeTransferMessage(abortFor(msg.transferId, stray()))];
    }
    try {
      return this.apply(r.handle(msg));
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      this.errors.push(e);
      return msg.type === 'TransferAbort' ? [] : this.apply(r.abort(transferStatusFor(e)));
    }
  }

  private apply(outputs: ReceiverOutput[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const o of outputs) {
      this.log.push(o);
      switch (o.kind) {
        case 'send':
          out.push(encodeTransferMessage(o.message));
          break;
        case 'begin': {
          const old = this.storage.partials.get(o.init.transferId);
          const kept = old === undefined ? new Uint8Array(0) : old.committed.slice(0, o.keepBytes);
          if (kept.length !== o.keepBytes) throw new Error('begin keeps more bytes than are stored');
          this.storage.partials.set(o.init.transferId, { init: o.init, committed: kept });
          break;
        }
        case 'commit': {
          const p = this.storage.partials.get(o.transferId);
          if (p === undefined || p.committed.length !== o.offset)
            throw new Error('commit not at the stored end');
          p.committed = concat(p.committed, o.bytes);
          break;
        }
        case 'complete':
          this.storage.messages.set(o.messageId, o.content);
          this.storage.partials.delete(o.transferId);
          break;
        case 'discard':
          this.storage.partials.delete(o.transferId);
          break;
        case 'aborted':
          if (!o.keepPartial) this.storage.partials.delete(o.transferId);
          break;
      }
    }
    return out;
  }
}

function stray(): TransferError {
  return new TransferError('UNKNOWN_TRANSFER', 'no transfer in progress');
}

/** The sending application: one TransferSender; a refused message cancels it with the mapped status. */
export class SenderDriver {
  readonly sender: TransferSender;
  readonly errors: TransferError[] = [];

  constructor(options: SenderOptions) {
    this.sender = new TransferSender(options);
  }

  start(): Uint8Array {
    return encodeTransferMessage(this.sender.start());
  }

  onBytes(bytes: Uint8Array): Uint8Array[] {
    const active = () => ['awaiting-accept', 'sending', 'awaiting-done'].includes(this.sender.state);
    try {
      return this.sender.handle(decodeTransferMessage(bytes)).map(encodeTransferMessage);
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      this.errors.push(e);
      return active() ? [encodeTransferMessage(this.sender.cancel(transferStatusFor(e)))] : [];
    }
  }
}

export type Side = 'sender' | 'receiver';

/** One message in flight. */
export interface Flight {
  to: Side;
  bytes: Uint8Array;
}

/** Called for each message about to be delivered: returns what is actually delivered (0, 1 or more). */
export type Tamper = (flight: Flight, index: number) => Uint8Array[];

export interface RunResult {
  /** Messages delivered in this connection. */
  delivered: number;
  /** True when the link was cut before both sides went quiet. */
  cut: boolean;
  /** The whole exchange, in delivery order (after tampering). */
  trace: Flight[];
}

/**
 * Runs one connection: the sender's Init, then messages in FIFO order until none is left or `cutAfter`
 * deliveries happened (then everything in flight and the in-memory receiver are lost; storage stays).
 */
export function runConnection(
  senderDriver: SenderDriver,
  receiverDriver: ReceiverDriver,
  options: { cutAfter?: number; tamper?: Tamper; maxDeliveries?: number } = {},
): RunResult {
  const queue: Flight[] = [{ to: 'receiver', bytes: senderDriver.start() }];
  const trace: Flight[] = [];
  const limit = options.maxDeliveries ?? 100_000;
  let delivered = 0;
  let index = 0;
  while (queue.length > 0) {
    if (options.cutAfter !== undefined && delivered >= options.cutAfter) {
      receiverDriver.receiver = undefined;
      return { delivered, cut: true, trace };
    }
    if (delivered >= limit) throw new Error('transfer did not converge (possible deadlock or loop)');
    const flight = queue.shift()!;
    const copies = options.tamper ? options.tamper(flight, index++) : [flight.bytes];
    for (const bytes of copies) {
      delivered += 1;
      trace.push({ to: flight.to, bytes });
      const replies = flight.to === 'receiver' ? receiverDriver.onBytes(bytes) : senderDriver.onBytes(bytes);
      const back: Side = flight.to === 'receiver' ? 'sender' : 'receiver';
      for (const r of replies) queue.push({ to: back, bytes: r });
    }
  }
  receiverDriver.receiver = undefined;
  return { delivered, cut: false, trace };
}
