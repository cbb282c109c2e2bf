/**
 * The phone's protocol engine for one connection to a toy: framing, pairing, the Noise session,
 * application requests and transfers, composed as one pure, synchronous state machine. The SDK
 * drives it from its radio (write to RX, notifications from TX, disconnects, timers) and turns its
 * events into promises and progress callbacks.
 *
 *   const c = new PhoneConnection({ identity, attMtu, random }, now);   // writes the framing handshake
 *   c.pair('1234-5670', now);            // or c.openSession(toy, now) for a paired toy
 *   c.receive(notification, now);        // every TX notification
 *   for (const o of c.takeOutputs()) …   // write values to RX, events to the app
 */
import { concat } from '../bytes.js';
import { PawLinkError, SessionError } from '../errors.js';
import { BtpEndpoint } from '../framing/endpoint.js';
import { decodeAlert, decodeLink, encodeLink, LinkType } from '../link.js';
import {
  type AppEvent,
  type AppMessage,
  type AppRequest,
  decodeAppMessage,
  encodeAppMessage,
  isAppEvent,
  nextRequestId,
} from '../messages/index.js';
import { PairingInitiator, type PairingResult } from '../pairing/index.js';
import type { RandomSource } from '../random.js';
import {
  type KeyPair,
  RecordChannel,
  type SecureSession,
  SessionInitiator,
  sessionPrologue,
} from '../session/index.js';
import {
  abortFor,
  decodeTransferMessage,
  encodeTransferMessage,
  isTransferPlaintext,
  newTransferId,
  type PersistedTransfer,
  type ReceiverOutput,
  TransferDirection,
  type TransferInit,
  type TransferMessage,
  TransferReceiver,
  TransferSender,
  TransferStatus,
} from '../transfer/index.js';
import { PROTOCOL_VERSION } from '../version.js';
import { channelFor } from './channels.js';
import { ENGINE_MAX_QUEUED_BYTES } from './constants.js';

/** This phone, as every toy it pairs with knows it. */
export interface PhoneIdentity {
  /** 16 random bytes. */
  phoneId: Uint8Array;
  /** Static X25519 key pair: the Noise IK initiator key. */
  staticKeyPair: KeyPair;
  /** Shown in the admin's pairing list; ≤ 32 UTF-8 bytes. */
  name: string;
}

/** What the phone keeps about a paired toy (the result of pairing). */
export interface PairedToy {
  toyId: Uint8Array;
  toyStaticPublicKey: Uint8Array;
  tagKey: Uint8Array;
  role: 'admin' | 'member';
}

/** Where unfinished downloads are kept between connections (the SDK may persist them). */
export interface PhonePartialStore {
  load(transferId: number): PersistedTransfer | undefined;
  save(transfer: PersistedTransfer): void;
  drop(transferId: number): void;
}

/** In-memory partial store: resumes downloads across connections of one app run. */
export class MemoryPartialStore implements PhonePartialStore {
  readonly #map = new Map<number, PersistedTransfer>();
  load(transferId: number): PersistedTransfer | undefined {
    const p = this.#map.get(transferId);
    return p && { init: p.init, committed: p.committed.slice() };
  }
  save(transfer: PersistedTransfer): void {
    this.#map.set(transfer.init.transferId, { init: transfer.init, committed: transfer.committed.slice() });
  }
  drop(transferId: number): void {
    this.#map.delete(transferId);
  }
}

export type PhoneState = 'framing' | 'ready' | 'pairing' | 'handshake' | 'session' | 'closed';

export type PhoneEvent =
  | { type: 'framing-open'; segmentSize: number; window: number }
  | { type: 'paired'; toy: PairedToy }
  | { type: 'pairing-failed'; error: PawLinkError }
  | { type: 'session-open' }
  | { type: 'response'; requestId: number; message: AppMessage }
  | { type: 'app-event'; message: AppEvent }
  | { type: 'transfer-progress'; transferId: number; committed: number; total: number }
  | { type: 'upload-done'; transferId: number; messageId: number }
  | { type: 'download-done'; transferId: number; messageId: number; content: Uint8Array }
  | { type: 'transfer-failed'; transferId: number; status: number }
  | { type: 'alert'; code: number }
  | { type: 'closed'; reason: PawLinkError };

export type PhoneOutput =
  /** Write `value` to RX: with response (Write) for the framing handshake, else Write Without Response. */
  | { kind: 'write'; value: Uint8Array; withResponse: boolean }
  /** Drop the BLE link. */
  | { kind: 'disconnect'; reason: PawLinkError }
  | { kind: 'event'; event: PhoneEvent };

export interface PhoneConnectionOptions {
  identity: PhoneIdentity;
  /** ATT MTU of this connection (23 if unknown). */
  attMtu: number;
  random: RandomSource;
  /** Framing window offered (3–32, default 32). */
  window?: number;
  /** Where unfinished downloads are kept (default: in memory, this connection only). */
  partials?: PhonePartialStore;
}

type Pending =
  | { kind: 'pair'; setupCode: string }
  | { kind: 'session'; toy: Pick<PairedToy, 'toyId' | 'toyStaticPublicKey'> };

interface Upload {
  sender: TransferSender;
}

interface Download {
  messageId: number;
  receiver?: TransferReceiver;
}

export class PhoneConnection {
  readonly #opts: PhoneConnectionOptions;
  readonly #btp: BtpEndpoint;
  readonly #partials: PhonePartialStore;
  #state: PhoneState = 'framing';
  #pending: Pending | undefined;
  #initiator: PairingInitiator | undefined;
  #handshake: SessionInitiator | undefined;
  #session: SecureSession | undefined;
  #requestId = 0;
  #uploads = new Map<number, Upload>();
  #downloads = new Map<number, Download>();
  #outputs: PhoneOutput[] = [];
  #pumping = false;
  #closing: { reason: PawLinkError; disconnect: boolean } | undefined;

  /** Starts the connection: the framing handshake request is the first output. */
  constructor(options: PhoneConnectionOptions, now: number) {
    this.#opts = options;
    this.#partials = options.partials ?? new MemoryPartialStore();
    this.#btp = BtpEndpoint.central(
      {
        attMtu: options.attMtu,
        maxQueuedBytes: ENGINE_MAX_QUEUED_BYTES,
        ...(options.window ? { window: options.window } : {}),
      },
      now,
    );
    this.#pump(now);
  }

  get state(): PhoneState {
    return this.#state;
  }

  /** Bytes accepted for sending and not yet on the air (for back-pressure in drivers). */
  get queuedBytes(): number {
    return this.#btp.queuedBytes;
  }

  /** Pairs with the toy using the setup code from its tag (only while its pairing window is open). */
  pair(setupCode: string, now: number): void {
    this.#expectIdle('pair');
    // Validates the code at once (typed PairingError for a malformed or forbidden code).
    const initiator = new PairingInitiator({
      setupCode,
      phoneId: this.#opts.identity.phoneId,
      phoneStaticPublicKey: this.#opts.identity.staticKeyPair.publicKey,
      name: this.#opts.identity.name,
      random: this.#opts.random,
    });
    if (this.#state === 'framing') {
      this.#pending = { kind: 'pair', setupCode };
      return;
    }
    this.#startPairing(initiator, now);
  }

  /** Opens the encrypted session with a paired toy (after `paired`, on the same connection too). */
  openSession(toy: Pick<PairedToy, 'toyId' | 'toyStaticPublicKey'>, now: number): void {
    this.#expectIdle('openSession');
    if (this.#state === 'framing') {
      this.#pending = { kind: 'session', toy };
      return;
    }
    this.#startSession(toy, now);
  }

  /** Sends an application request; returns its requestId (the `response` event carries it). */
  request(message: DistributiveOmit<AppRequest, 'requestId'>, now: number): number {
    this.#expectSession();
    this.#requestId = nextRequestId(this.#requestId);
    const full = { ...message, requestId: this.#requestId } as AppRequest;
    const plaintext = encodeAppMessage(full, 'toToy');
    this.#sendRecord(RecordChannel.Control, plaintext, now);
    return full.requestId;
  }

  /**
   * Uploads a voice container. To resume after a reconnect, call again with the same content and
   * the `transferId` of the interrupted upload: the toy answers with the offset it has committed.
   */
  upload(content: Uint8Array, now: number, transferId?: number): number {
    this.#expectSession();
    const id = transferId ?? newTransferId(this.#opts.random);
    const sender = new TransferSender({ transferId: id, direction: TransferDirection.Upload, content });
    this.#uploads.set(id, { sender });
    this.#sendTransfer(sender.start(), now);
    return id;
  }

  /** Downloads stored message `messageId` (a recording); resumes a partial kept under `transferId`. */
  download(messageId: number, now: number, transferId?: number): number {
    this.#expectSession();
    const id = transferId ?? newTransferId(this.#opts.random);
    this.#downloads.set(id, { messageId });
    this.#sendTransfer({ type: 'DownloadRequest', transferId: id, messageId }, now);
    return id;
  }

  /** Cancels a transfer in progress (the toy drops what it stored of an upload). */
  cancelTransfer(transferId: number, now: number): void {
    const up = this.#uploads.get(transferId);
    if (up) {
      this.#uploads.delete(transferId);
      this.#sendTransfer(up.sender.cancel(), now);
      return;
    }
    const down = this.#downloads.get(transferId);
    if (down?.receiver) this.#receiverOutputs(transferId, down.receiver.abort(TransferStatus.Cancelled), now);
    this.#downloads.delete(transferId);
  }

  /** A notification from TX. Never throws for toy input: errors close the connection. */
  receive(value: Uint8Array, now: number): void {
    if (this.#state === 'closed') return;
    this.#btp.receive(value, now);
    this.#pump(now);
  }

  tick(now: number): void {
    if (this.#state === 'closed') return;
    const err = this.#initiator?.tick(now);
    if (err) this.#pairingFailed(err, now);
    this.#btp.tick(now);
    this.#pump(now);
  }

  nextDeadline(): number | undefined {
    if (this.#state === 'closed') return undefined;
    const a = this.#btp.nextDeadline();
    const b = this.#state === 'pairing' ? this.#initiator?.nextDeadline() : undefined;
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /** Closes the connection from this side (the driver then drops the link). */
  close(now: number, reason = 'closed by the app'): void {
    this.#fail(new SessionError('LOCAL_CLOSE', reason), now);
  }

  /** The BLE link went down. */
  linkLost(now: number): void {
    if (this.#state === 'closed') return;
    this.#btp.close('LINK_LOST');
    this.#finish(new SessionError('LINK_LOST', 'the Bluetooth link was lost'), now, false);
  }

  takeOutputs(): PhoneOutput[] {
    const out = this.#outputs;
    this.#outputs = [];
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------

  #expectIdle(what: string): void {
    if (this.#state !== 'framing' && this.#state !== 'ready') {
      throw new SessionError('BAD_STATE', `${what}() needs an idle connection; it is ${this.#state}`);
    }
    if (this.#pending) throw new SessionError('BAD_STATE', `${what}() while another operation is pending`);
  }

  #expectSession(): void {
    if (this.#state !== 'session') {
      throw new SessionError('NO_SESSION', `no session: the connection is ${this.#state}`);
    }
  }

  #event(event: PhoneEvent): void {
    this.#outputs.push({ kind: 'event', event });
  }

  #pump(now: number): void {
    // Not re-entrant (see ToyEngine#pump): segments leave in the order framing produced them.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#pumpLoop(now);
    } finally {
      this.#pumping = false;
    }
    if (this.#closing) this.#flushClose(this.#closing);
  }

  #pumpLoop(now: number): void {
    for (;;) {
      const events = this.#btp.takeEvents();
      if (events.length === 0) return;
      for (const e of events) {
        if (this.#state === 'closed' && e.type !== 'transmit') continue;
        switch (e.type) {
          case 'transmit':
            this.#outputs.push({ kind: 'write', value: e.value, withResponse: e.att === 'write' });
            break;
          case 'open':
            this.#state = 'ready';
            this.#event({ type: 'framing-open', segmentSize: e.segmentSize, window: e.window });
            this.#runPending(now);
            break;
          case 'message':
            if (this.#state !== 'closed') this.#onMessage(e.message, now);
            break;
          case 'closed':
            this.#finish(e.reason, now, true);
            break;
        }
      }
    }
  }

  #runPending(now: number): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) return;
    try {
      if (p.kind === 'pair') this.pair(p.setupCode, now);
      else this.#startSession(p.toy, now);
    } catch (e) {
      this.#fail(e instanceof PawLinkError ? e : new SessionError('BAD_STATE', String(e)), now);
    }
  }

  #startPairing(initiator: PairingInitiator, now: number): void {
    this.#initiator = initiator;
    this.#state = 'pairing';
    this.#sendLink(LinkType.Pairing, initiator.start(now), now);
  }

  #startSession(toy: Pick<PairedToy, 'toyId' | 'toyStaticPublicKey'>, now: number): void {
    const handshake = new SessionInitiator({
      staticKeyPair: this.#opts.identity.staticKeyPair,
      toyStaticPublicKey: toy.toyStaticPublicKey,
      prologue: sessionPrologue(PROTOCOL_VERSION, this.#btp.handshakeTranscript!, toy.toyId),
      random: this.#opts.random,
    });
    this.#handshake = handshake;
    this.#state = 'handshake';
    this.#sendLink(LinkType.Handshake, handshake.writeMessage1(), now);
  }

  #onMessage(sdu: Uint8Array, now: number): void {
    let type: LinkType;
    let body: Uint8Array;
    try {
      ({ type, body } = decodeLink(sdu));
    } catch (e) {
      this.#fail(e as PawLinkError, now);
      return;
    }
    if (type === LinkType.Alert) {
      let code = 0;
      try {
        code = decodeAlert(body);
      } catch {
        // An unknown alert code still ends the connection.
      }
      this.#event({ type: 'alert', code });
      if (this.#state === 'pairing') {
        this.#pairingFailed(new SessionError('ALERT', `the toy refused the connection (alert ${code})`), now);
      }
      this.#fail(new SessionError('ALERT', `the toy refused the connection (alert ${code})`), now);
      return;
    }
    if (type === LinkType.Pairing && this.#state === 'pairing') this.#onPairing(body, now);
    else if (type === LinkType.Handshake && this.#state === 'handshake') this.#onHandshake(body, now);
    else if (type === LinkType.Record && this.#state === 'session') this.#onRecord(body, now);
    else this.#fail(new SessionError('UNEXPECTED_MESSAGE', `link type ${type} in state ${this.#state}`), now);
  }

  #onPairing(body: Uint8Array, now: number): void {
    const initiator = this.#initiator!;
    let step: ReturnType<PairingInitiator['handle']>;
    try {
      step = initiator.handle(now, body);
    } catch (e) {
      this.#pairingFailed(e as PawLinkError, now);
      return;
    }
    for (const b of step.send) this.#sendLink(LinkType.Pairing, b, now);
    if (step.result) {
      this.#initiator = undefined;
      this.#state = 'ready';
      this.#event({ type: 'paired', toy: pairedToy(step.result) });
    }
  }

  #pairingFailed(error: PawLinkError, now: number): void {
    const reply = this.#initiator?.failureReply;
    this.#initiator = undefined;
    if (this.#state === 'pairing') this.#state = 'ready';
    if (reply) this.#sendLink(LinkType.Pairing, reply, now);
    this.#event({ type: 'pairing-failed', error });
  }

  #onHandshake(body: Uint8Array, now: number): void {
    try {
      this.#session = this.#handshake!.readMessage2(body).session;
    } catch (e) {
      this.#fail(e as PawLinkError, now);
      return;
    }
    this.#handshake = undefined;
    this.#state = 'session';
    this.#event({ type: 'session-open' });
  }

  #onRecord(record: Uint8Array, now: number): void {
    let plaintext: Uint8Array;
    let channel: RecordChannel;
    try {
      ({ plaintext, channel } = this.#session!.open(record));
    } catch (e) {
      this.#fail(e as PawLinkError, now);
      return;
    }
    if (channel !== channelFor(plaintext)) {
      this.#fail(new SessionError('WRONG_CHANNEL', 'record on the wrong channel for its content'), now);
      return;
    }
    if (isTransferPlaintext(plaintext)) {
      this.#onTransfer(plaintext, now);
      return;
    }
    let msg: AppMessage;
    try {
      msg = decodeAppMessage(plaintext, 'toPhone');
    } catch (e) {
      // An authenticated but undecodable message means the toy and phone disagree on the protocol.
      this.#fail(e as PawLinkError, now);
      return;
    }
    if (isAppEvent(msg)) this.#event({ type: 'app-event', message: msg });
    else this.#event({ type: 'response', requestId: msg.requestId, message: msg });
  }

  // ---- transfers ----

  #onTransfer(plaintext: Uint8Array, now: number): void {
    let msg: TransferMessage;
    try {
      msg = decodeTransferMessage(plaintext);
    } catch (e) {
      this.#fail(e as PawLinkError, now);
      return;
    }
    const up = this.#uploads.get(msg.transferId);
    if (up) {
      this.#toSender(up, msg, now);
      return;
    }
    const down = this.#downloads.get(msg.transferId);
    if (!down) return; // a late message for a transfer we cancelled
    if (msg.type === 'TransferInit') this.#onDownloadInit(down, msg, now);
    else if (msg.type === 'TransferAbort' && !down.receiver) {
      this.#downloads.delete(msg.transferId);
      this.#event({ type: 'transfer-failed', transferId: msg.transferId, status: msg.status });
    } else if (down.receiver) {
      let outputs: ReceiverOutput[];
      try {
        outputs = down.receiver.handle(msg);
      } catch (e) {
        outputs =
          down.receiver.state === 'receiving' ? down.receiver.abort(abortFor(msg.transferId, e).status) : [];
      }
      this.#receiverOutputs(msg.transferId, outputs, now);
    }
  }

  #toSender(up: Upload, msg: TransferMessage, now: number): void {
    const sender = up.sender;
    let replies: TransferMessage[];
    try {
      replies = sender.handle(msg);
    } catch (e) {
      replies = [sender.cancel(abortFor(msg.transferId, e).status)];
    }
    for (const m of replies) this.#sendTransfer(m, now);
    const p = sender.progress;
    if (msg.type === 'BlockAck' || msg.type === 'TransferAccept') {
      this.#event({
        type: 'transfer-progress',
        transferId: sender.transferId,
        committed: p.committedBytes,
        total: p.totalBytes,
      });
    }
    if (sender.state === 'done') {
      this.#uploads.delete(sender.transferId);
      this.#event({ type: 'upload-done', transferId: sender.transferId, messageId: sender.messageId! });
    } else if (sender.state === 'failed' || sender.state === 'aborted') {
      this.#uploads.delete(sender.transferId);
      this.#event({
        type: 'transfer-failed',
        transferId: sender.transferId,
        status: sender.status ?? TransferStatus.Cancelled,
      });
    }
  }

  #onDownloadInit(down: Download, init: TransferInit, now: number): void {
    let opened: ReturnType<typeof TransferReceiver.open>;
    try {
      opened = TransferReceiver.open(
        init,
        { direction: TransferDirection.Download, assignMessageId: () => down.messageId },
        this.#partials.load(init.transferId),
      );
    } catch (e) {
      this.#downloads.delete(init.transferId);
      this.#sendTransfer(abortFor(init.transferId, e), now);
      this.#event({ type: 'transfer-failed', transferId: init.transferId, status: abortFor(0, e).status });
      return;
    }
    down.receiver = opened.receiver;
    this.#receiverOutputs(init.transferId, opened.outputs, now);
  }

  #receiverOutputs(transferId: number, outputs: ReceiverOutput[], now: number): void {
    const down = this.#downloads.get(transferId);
    for (const o of outputs) {
      switch (o.kind) {
        case 'send':
          this.#sendTransfer(o.message, now);
          break;
        case 'begin':
          this.#partials.save({
            init: o.init,
            committed:
              this.#partials.load(transferId)?.committed.subarray(0, o.keepBytes) ?? new Uint8Array(0),
          });
          break;
        case 'commit': {
          const p = this.#partials.load(transferId);
          if (p) this.#partials.save({ init: p.init, committed: concat(p.committed, o.bytes) });
          if (down?.receiver) {
            const pr = down.receiver.progress;
            this.#event({
              type: 'transfer-progress',
              transferId,
              committed: pr.committedBytes,
              total: pr.totalBytes,
            });
          }
          break;
        }
        case 'complete':
          this.#partials.drop(transferId);
          this.#downloads.delete(transferId);
          this.#event({ type: 'download-done', transferId, messageId: o.messageId, content: o.content });
          break;
        case 'discard':
          this.#partials.drop(transferId);
          this.#downloads.delete(transferId);
          this.#event({ type: 'transfer-failed', transferId, status: o.status });
          break;
        case 'aborted':
          if (!o.keepPartial) this.#partials.drop(transferId);
          this.#downloads.delete(transferId);
          this.#event({ type: 'transfer-failed', transferId, status: o.status });
          break;
      }
    }
  }

  #sendTransfer(msg: TransferMessage, now: number): void {
    this.#sendRecord(RecordChannel.Audio, encodeTransferMessage(msg), now);
  }

  // ---- sending and closing ----

  #sendRecord(channel: RecordChannel, plaintext: Uint8Array, now: number): void {
    if (this.#state !== 'session' || !this.#session) return;
    this.#sendLink(LinkType.Record, this.#session.seal(channel, plaintext), now);
  }

  #sendLink(type: LinkType, body: Uint8Array, now: number): void {
    if (this.#state === 'closed') return;
    this.#btp.send(encodeLink(type, body), now);
    this.#pump(now);
  }

  #fail(reason: PawLinkError, now: number): void {
    if (this.#state === 'closed') return;
    this.#btp.close('LOCAL_CLOSE');
    this.#finish(reason, now, true);
  }

  #finish(reason: PawLinkError, _now: number, disconnect: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#session?.close();
    // Unfinished transfers end here; uploads resume with the same transferId on the next connection.
    for (const [id] of this.#uploads)
      this.#event({ type: 'transfer-failed', transferId: id, status: TransferStatus.Cancelled });
    for (const [id] of this.#downloads)
      this.#event({ type: 'transfer-failed', transferId: id, status: TransferStatus.Cancelled });
    this.#uploads.clear();
    this.#downloads.clear();
    const closing = { reason, disconnect };
    // Inside a pump, the running loop first emits the writes it already holds.
    if (this.#pumping) this.#closing = closing;
    else this.#flushClose(closing);
  }

  #flushClose(closing: { reason: PawLinkError; disconnect: boolean }): void {
    this.#closing = undefined;
    for (const e of this.#btp.takeEvents()) {
      if (e.type === 'transmit')
        this.#outputs.push({ kind: 'write', value: e.value, withResponse: e.att === 'write' });
    }
    if (closing.disconnect) this.#outputs.push({ kind: 'disconnect', reason: closing.reason });
    this.#event({ type: 'closed', reason: closing.reason });
  }
}

function pairedToy(r: PairingResult): PairedToy {
  return { toyId: r.toyId, toyStaticPublicKey: r.toyStaticPublicKey, tagKey: r.tagKey, role: r.role };
}

/** `Omit` that distributes over a union (so each request variant keeps its own fields). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
