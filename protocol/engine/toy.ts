/**
 * The toy's protocol engine: everything a PawLink toy does on the wire, composed from the layers
 * (framing → link envelope → pairing | session → application messages | transfers), as one pure,
 * synchronous state machine. The firmware (or the simulator) drives it:
 *
 *   - radio events in: `connect`, `write` (a value written to RX), `disconnected`, `tick`;
 *   - outputs out (`takeOutputs`): notifications to send on TX, connections to drop, and events for
 *     the toy's behaviour (a message stored, a phone paired, a session opened...);
 *   - storage and application behaviour are injected (`ToyStorage`, `ToyApp`); they are called
 *     synchronously, and a storage call must be durable when it returns.
 *
 * Connection rules (PROTOCOL.md §4.3): a connection that has neither begun a pairing attempt nor
 * opened a session within 10 s is dropped; after that only pairing messages (while the pairing
 * window is open) or a Noise handshake are accepted; after the handshake only records. Any
 * protocol error before a session costs the central an Alert and the link; any error inside a
 * session closes it without a word (an unauthenticated reason could be forged).
 */
import { bytesEqual } from '../bytes.js';
import { PairingError, PawLinkError, TransferError } from '../errors.js';
import { BtpEndpoint } from '../framing/endpoint.js';
import {
  AlertCode as Alert,
  type AlertCode,
  decodeLink,
  encodeAlert,
  encodeLink,
  LinkType,
} from '../link.js';
import {
  type AppMessage,
  type AppRequest,
  decodeAppMessage,
  encodeAppMessage,
  errorResponseFor,
  isAppRequest,
  messageSpec,
} from '../messages/index.js';
import type { AppEvent, PairingEntry as AppPairingEntry } from '../messages/types.js';
import type { PairingEntry, ToyPairing, ToyPairingOutput } from '../pairing/index.js';
import type { RandomSource } from '../random.js';
import {
  type KeyPair,
  RecordChannel,
  type SecureSession,
  SessionResponder,
  sessionPrologue,
} from '../session/index.js';
import {
  abortFor,
  decodeTransferMessage,
  encodeTransferMessage,
  isTransferPlaintext,
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
import { AUTH_TIMEOUT_MS, ENGINE_MAX_QUEUED_BYTES } from './constants.js';

/** The toy's durable storage, as the engine needs it. Every call is durable when it returns. */
export interface ToyStorage {
  /** The unfinished upload stored for `transferId`, if any (its Init and committed bytes). */
  loadPartial(transferId: number): PersistedTransfer | undefined;
  /** Record `init` as the partial for its transferId, keeping only its first `keepBytes` bytes. */
  beginPartial(init: TransferInit, keepBytes: number): void;
  /** Append committed bytes to a partial (offset = its current stored length). */
  appendPartial(transferId: number, offset: number, bytes: Uint8Array): void;
  /**
   * Atomically: store `content` as complete message `messageId`, delete the partial, and remember
   * (transferId → messageId, sha256) so that a sender that missed our Done and offers the same
   * transfer again is answered Done without storing the message twice. Keep at least the last
   * `COMPLETED_TRANSFERS_KEPT` completions.
   */
  completePartial(transferId: number, messageId: number, content: Uint8Array, sha256: Uint8Array): void;
  /** A remembered completion for `transferId`, if any (see completePartial). */
  completedTransfer(transferId: number): { messageId: number; sha256: Uint8Array } | undefined;
  /** Delete a partial and everything stored for it. */
  dropPartial(transferId: number): void;
  /** Allocates a new message id (u32, never 0, never reused until factory reset). */
  allocateMessageId(): number;
  /** Can `bytes` more bytes be stored? */
  hasSpace(bytes: number): boolean;
  /** The content of a complete stored message, for a download; undefined if there is none. */
  readMessage(messageId: number): Uint8Array | undefined;
}

/** Who a session belongs to, as the application sees it. */
export interface SessionPeer {
  connectionId: ConnectionId;
  phoneId: Uint8Array;
  role: 'admin' | 'member';
  name: string;
}

/** The toy's behaviour for authenticated application requests (volume, status, messages...). */
export interface ToyApp {
  /**
   * Answers one authenticated request from a paired phone. The engine has already checked the
   * phone's role for admin-only requests and handles the pairing requests (list, open window,
   * remove) itself. Return the response (Ok, Error, Status, MessageList...), echoing requestId.
   */
  handleRequest(request: AppRequest, peer: SessionPeer, now: number): AppMessage;
}

export type ConnectionId = number;

export type ToyEvent =
  | { type: 'connected'; connectionId: ConnectionId }
  | { type: 'disconnected'; connectionId: ConnectionId; reason: string }
  | { type: 'paired'; connectionId: ConnectionId; entry: PairingEntry }
  | { type: 'pairing-failed'; connectionId: ConnectionId; code: string }
  | { type: 'pairing-window-closed'; reason: string }
  | { type: 'pairings-wiped' }
  | { type: 'session-opened'; peer: SessionPeer }
  | { type: 'message-stored'; connectionId: ConnectionId; messageId: number; bytes: number }
  | {
      type: 'upload-progress';
      connectionId: ConnectionId;
      transferId: number;
      committed: number;
      total: number;
    }
  | { type: 'upload-discarded'; connectionId: ConnectionId; transferId: number; status: number }
  /** Storage failed during a transfer: it ended with StorageFailed; what was stored before stays. */
  | { type: 'storage-failed'; connectionId: ConnectionId; transferId: number }
  | { type: 'download-finished'; connectionId: ConnectionId; messageId: number; status: number };

export type ToyOutput =
  /** Send `value` as a notification on TX of this connection. */
  | { kind: 'notify'; connectionId: ConnectionId; value: Uint8Array }
  /** Drop this BLE connection (after sending the notifications before it). */
  | { kind: 'disconnect'; connectionId: ConnectionId; reason: string }
  | { kind: 'event'; event: ToyEvent };

export interface ToyEngineOptions {
  /** The toy's static X25519 key pair (its public key is in the pairing state). */
  staticKeyPair: KeyPair;
  pairing: ToyPairing;
  storage: ToyStorage;
  app: ToyApp;
  random: RandomSource;
  /** Framing window the toy offers (3–32, default 16). */
  window?: number;
}

type Phase = 'open' | 'session' | 'closed';

interface Connection {
  readonly id: ConnectionId;
  readonly btp: BtpEndpoint;
  phase: Phase;
  /** Drop the connection at this time unless it has authenticated (or begun pairing) by then. */
  authDeadline: number | undefined;
  session?: SecureSession;
  peer?: SessionPeer;
  /** The phone's static key, to re-check the pairing table on every request. */
  phoneStaticKey?: Uint8Array;
  receivers: Map<number, TransferReceiver>;
  senders: Map<number, { sender: TransferSender; messageId: number }>;
  pumping: boolean;
  /** Set by a close decided during a pump; the pump finishes it. */
  closeReason?: string | undefined;
}

export class ToyEngine {
  readonly #opts: ToyEngineOptions;
  readonly #connections = new Map<ConnectionId, Connection>();
  #outputs: ToyOutput[] = [];

  constructor(options: ToyEngineOptions) {
    this.#opts = options;
  }

  get pairing(): ToyPairing {
    return this.#opts.pairing;
  }

  /** Connections with an open, authenticated session. */
  get sessions(): SessionPeer[] {
    return [...this.#connections.values()].flatMap((c) => (c.peer && c.phase === 'session' ? [c.peer] : []));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** A central connected; `attMtu` is the connection's ATT MTU as negotiated so far (23 if unknown). */
  connect(connectionId: ConnectionId, attMtu: number, now: number): void {
    if (this.#connections.has(connectionId)) {
      throw new PawLinkError('DUPLICATE_CONNECTION', `connection ${connectionId} is already open`);
    }
    const btp = BtpEndpoint.peripheral(
      {
        attMtu,
        maxQueuedBytes: ENGINE_MAX_QUEUED_BYTES,
        ...(this.#opts.window ? { window: this.#opts.window } : {}),
      },
      now,
    );
    this.#connections.set(connectionId, {
      id: connectionId,
      btp,
      phase: 'open',
      authDeadline: now + AUTH_TIMEOUT_MS,
      receivers: new Map(),
      senders: new Map(),
      pumping: false,
    });
    this.#event({ type: 'connected', connectionId });
  }

  /** A value the central wrote to RX. Never throws for peer input: errors close the connection. */
  write(connectionId: ConnectionId, value: Uint8Array, now: number): void {
    const c = this.#connections.get(connectionId);
    if (!c || c.phase === 'closed') return;
    c.btp.receive(value, now);
    this.#pump(c, now);
  }

  /** The BLE link went down (either side). Unfinished uploads stay stored for a resume. */
  disconnected(connectionId: ConnectionId, _now: number): void {
    const c = this.#connections.get(connectionId);
    if (!c) return;
    if (c.phase !== 'closed') c.btp.close('LINK_LOST');
    this.#forget(c, 'link lost');
  }

  /** Runs every timer due at `now` (framing, pairing attempt/window, unauthenticated limit). */
  tick(now: number): void {
    this.#handlePairingOutputs(this.#opts.pairing.tick(now), now);
    for (const c of [...this.#connections.values()]) {
      if (c.phase === 'closed') continue;
      if (c.authDeadline !== undefined && now >= c.authDeadline) {
        this.#refuse(c, Alert.AuthTimeout, 'not authenticated within 10 s', now);
        continue;
      }
      c.btp.tick(now);
      this.#pump(c, now);
    }
  }

  nextDeadline(): number | undefined {
    let next = this.#opts.pairing.nextDeadline();
    for (const c of this.#connections.values()) {
      for (const d of [c.authDeadline, c.btp.nextDeadline()]) {
        if (d !== undefined && (next === undefined || d < next)) next = d;
      }
    }
    return next;
  }

  takeOutputs(): ToyOutput[] {
    const out = this.#outputs;
    this.#outputs = [];
    return out;
  }

  /** Sends an unsolicited event (a paw press in game mode, a stored recording...) to one session or all. */
  sendEvent(event: AppEvent, now: number, connectionId?: ConnectionId): void {
    for (const c of this.#connections.values()) {
      if (c.phase !== 'session' || (connectionId !== undefined && c.id !== connectionId)) continue;
      this.#sendRecord(c, RecordChannel.Control, encodeAppMessage(event, 'toPhone'), now);
    }
  }

  /** Drops every connection (factory reset, power off). */
  disconnectAll(reason: string, now: number): void {
    for (const c of [...this.#connections.values()]) this.#close(c, reason, now);
  }

  /** Drops the sessions of phones no longer in the pairing table (after a removal or a wipe). */
  dropUnpairedSessions(now: number): void {
    for (const c of [...this.#connections.values()]) {
      if (c.phoneStaticKey && !this.#opts.pairing.lookupByStaticKey(c.phoneStaticKey)) {
        this.#close(c, 'pairing removed', now);
      }
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  #event(event: ToyEvent): void {
    this.#outputs.push({ kind: 'event', event });
  }

  /** Moves framing events to outputs and handles delivered messages, until nothing is left. */
  #pump(c: Connection, now: number): void {
    // Not re-entrant: a handler below may send, and its segments must follow the transmits
    // already taken from this batch, so nested calls leave the work to the loop that is running.
    if (c.pumping) return;
    c.pumping = true;
    try {
      this.#pumpLoop(c, now);
    } finally {
      c.pumping = false;
    }
    if (c.closeReason !== undefined) this.#finishClose(c, c.closeReason);
  }

  #pumpLoop(c: Connection, now: number): void {
    for (;;) {
      const events = c.btp.takeEvents();
      if (events.length === 0) return;
      for (const e of events) {
        if (c.phase === 'closed' && e.type !== 'transmit') continue;
        switch (e.type) {
          case 'transmit':
            this.#outputs.push({ kind: 'notify', connectionId: c.id, value: e.value });
            break;
          case 'message':
            this.#onMessage(c, e.message, now);
            break;
          case 'closed':
            this.#close(c, `framing: ${e.reason.code}`, now);
            break;
          case 'open':
            break;
        }
      }
    }
  }

  #onMessage(c: Connection, sdu: Uint8Array, now: number): void {
    let link: ReturnType<typeof decodeLink>;
    try {
      link = decodeLink(sdu);
    } catch {
      this.#protocolError(c, 'malformed link message', now);
      return;
    }
    if (c.phase === 'session') {
      if (link.type !== LinkType.Record) {
        this.#close(c, 'non-record message inside a session', now);
        return;
      }
      this.#onRecord(c, link.body, now);
      return;
    }
    switch (link.type) {
      case LinkType.Pairing:
        this.#onPairing(c, link.body, now);
        return;
      case LinkType.Handshake:
        this.#onHandshake(c, link.body, now);
        return;
      default:
        this.#protocolError(c, 'record or alert before a session', now);
    }
  }

  #onPairing(c: Connection, body: Uint8Array, now: number): void {
    let outputs: ToyPairingOutput[];
    try {
      outputs = this.#opts.pairing.handle(now, c.id, body);
    } catch (e) {
      this.#protocolError(c, `pairing: ${e instanceof PawLinkError ? e.code : 'error'}`, now);
      return;
    }
    // An attempt under way has its own 30 s limit (the pairing layer's); stop the 10 s one.
    if (this.#opts.pairing.attemptConnection === c.id) c.authDeadline = undefined;
    this.#handlePairingOutputs(outputs, now);
  }

  #handlePairingOutputs(outputs: ToyPairingOutput[], now: number): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'send': {
          const c = this.#connections.get(o.connectionId as ConnectionId);
          if (c && c.phase !== 'closed') this.#sendLink(c, LinkType.Pairing, o.body, now);
          break;
        }
        case 'paired': {
          const id = o.connectionId as ConnectionId;
          this.#event({ type: 'paired', connectionId: id, entry: o.entry });
          // The new phone goes on to a Noise handshake on this connection: a fresh 10 s limit.
          const c = this.#connections.get(id);
          if (c) c.authDeadline = now + AUTH_TIMEOUT_MS;
          break;
        }
        case 'attempt-failed': {
          const id = o.connectionId as ConnectionId;
          this.#event({ type: 'pairing-failed', connectionId: id, code: o.code });
          const c = this.#connections.get(id);
          if (c && c.phase === 'open') c.authDeadline = now + AUTH_TIMEOUT_MS;
          break;
        }
        case 'window-closed':
          this.#event({ type: 'pairing-window-closed', reason: o.reason });
          break;
      }
    }
  }

  #onHandshake(c: Connection, body: Uint8Array, now: number): void {
    const transcript = c.btp.handshakeTranscript;
    if (!transcript) {
      this.#protocolError(c, 'handshake before framing', now);
      return;
    }
    const pairing = this.#opts.pairing;
    const responder = new SessionResponder({
      staticKeyPair: this.#opts.staticKeyPair,
      prologue: sessionPrologue(PROTOCOL_VERSION, transcript, pairing.state.toyId),
      random: this.#opts.random,
      lookupPhone: (key) => pairing.lookupByStaticKey(key),
    });
    let entry: PairingEntry;
    let message: Uint8Array;
    let session: SecureSession;
    try {
      entry = responder.readMessage1(body).phone;
      ({ message, session } = responder.writeMessage2());
      // A valid message 1 is encrypted to the toy's static key, which a phone learns only from
      // ToyIdentity: the phone finished pairing, so its entry stops being provisional (persisted).
      this.#opts.pairing.confirmSession(entry.phoneId);
    } catch (e) {
      const code = e instanceof PawLinkError ? e.code : 'error';
      this.#refuse(
        c,
        code === 'UNKNOWN_PHONE' ? Alert.UnknownPhone : Alert.ProtocolError,
        `handshake: ${code}`,
        now,
      );
      return;
    }
    this.#sendLink(c, LinkType.Handshake, message, now);
    c.phase = 'session';
    c.session = session;
    c.phoneStaticKey = entry.phoneStaticPublicKey;
    c.peer = { connectionId: c.id, phoneId: entry.phoneId, role: entry.role, name: entry.name };
    // Message 1 can be replayed by anyone who recorded it; the connection counts as authenticated
    // only once the phone's first record opens (it proves the phone holds the session key).
  }

  #onRecord(c: Connection, record: Uint8Array, now: number): void {
    const session = c.session!;
    let plaintext: Uint8Array;
    let channel: RecordChannel;
    try {
      ({ plaintext, channel } = session.open(record));
    } catch (e) {
      this.#close(c, `session: ${e instanceof PawLinkError ? e.code : 'error'}`, now);
      return;
    }
    if (channel !== channelFor(plaintext)) {
      this.#close(c, 'session: record on the wrong channel for its content', now);
      return;
    }
    if (c.authDeadline !== undefined) {
      c.authDeadline = undefined;
      this.#event({ type: 'session-opened', peer: c.peer! });
    }
    // The phone may have been removed by another session since this one opened.
    if (!this.#opts.pairing.lookupByStaticKey(c.phoneStaticKey!)) {
      this.#close(c, 'pairing removed', now);
      return;
    }

    if (isTransferPlaintext(plaintext)) this.#onTransfer(c, plaintext, now);
    else this.#onAppMessage(c, plaintext, now);
  }

  #onAppMessage(c: Connection, plaintext: Uint8Array, now: number): void {
    let msg: AppMessage;
    try {
      msg = decodeAppMessage(plaintext, 'toToy');
    } catch (e) {
      if (!(e instanceof PawLinkError) || e.name !== 'MessageError') throw e;
      this.#reply(c, errorResponseFor(plaintext, e), now);
      return;
    }
    if (!isAppRequest(msg)) {
      this.#reply(c, { type: 'Error', requestId: msg.requestId || 1, code: 'BAD_REQUEST' }, now);
      return;
    }
    const peer = c.peer!;
    if (messageSpec(msg.type).adminOnly && peer.role !== 'admin') {
      this.#reply(c, { type: 'Error', requestId: msg.requestId, code: 'NOT_ADMIN' }, now);
      return;
    }
    this.#reply(c, this.#answer(msg, peer, now), now);
    // After the reply has gone out: sessions of phones that are no longer paired end (maybe this one).
    if (msg.type === 'RemovePairing') this.dropUnpairedSessions(now);
  }

  #answer(msg: AppRequest, peer: SessionPeer, now: number): AppMessage {
    const pairing = this.#opts.pairing;
    const requestId = msg.requestId;
    try {
      switch (msg.type) {
        case 'ListPairings':
          return {
            type: 'Pairings',
            requestId,
            entries: pairing.listPairings(peer.phoneId).map(
              (e): AppPairingEntry => ({
                phoneId: e.phoneId,
                role: e.role,
                name: e.name,
                thisPhone: Buffer.compare(e.phoneId, peer.phoneId) === 0,
              }),
            ),
          };
        case 'OpenPairingWindow': {
          const r = pairing.openWindowByAdmin(now, peer.phoneId, msg.role, msg.seconds * 1000);
          this.#handlePairingOutputs(r.outputs, now);
          return { type: 'Ok', requestId };
        }
        case 'RemovePairing': {
          const r = pairing.removePairing(peer.phoneId, msg.phoneId);
          this.#handlePairingOutputs(r.outputs, now);
          if (r.wiped) this.#event({ type: 'pairings-wiped' });
          return { type: 'Ok', requestId };
        }
        default:
          return this.#opts.app.handleRequest(msg, peer, now);
      }
    } catch (e) {
      if (!(e instanceof PawLinkError)) throw e;
      // Pairing refusals keep their meaning; anything else (a storage failure) is the toy's own fault.
      return { type: 'Error', requestId, code: e instanceof PairingError ? appErrorFor(e.code) : 'INTERNAL' };
    }
  }

  #reply(c: Connection, msg: AppMessage, now: number): void {
    this.#sendRecord(c, RecordChannel.Control, encodeAppMessage(msg, 'toPhone'), now);
  }

  // ---- transfers ----

  #onTransfer(c: Connection, plaintext: Uint8Array, now: number): void {
    let msg: TransferMessage;
    try {
      msg = decodeTransferMessage(plaintext);
    } catch (e) {
      const id =
        plaintext.length >= 5 ? new DataView(plaintext.buffer, plaintext.byteOffset).getUint32(1, true) : 0;
      this.#sendTransfer(c, abortFor(id, e), now);
      return;
    }
    switch (msg.type) {
      case 'TransferInit':
        this.#onTransferInit(c, msg, now);
        return;
      case 'DownloadRequest':
        this.#onDownloadRequest(c, msg.transferId, msg.messageId, now);
        return;
      case 'TransferAccept':
      case 'BlockAck':
      case 'Done':
        this.#toSender(c, msg, now);
        return;
      case 'TransferAbort':
        if (c.senders.has(msg.transferId)) this.#toSender(c, msg, now);
        else if (c.receivers.has(msg.transferId)) this.#toReceiver(c, msg, now);
        return;
      default:
        this.#toReceiver(c, msg, now);
    }
  }

  #onTransferInit(c: Connection, init: TransferInit, now: number): void {
    const { storage } = this.#opts;
    // A sender that lost our Done (the link dropped just after it) offers the transfer again:
    // answer Done with the stored message instead of storing it twice.
    let completed: ReturnType<ToyStorage['completedTransfer']>;
    try {
      completed = storage.completedTransfer(init.transferId);
    } catch (e) {
      if (!(e instanceof PawLinkError)) throw e;
      this.#storageFailed(c, init.transferId, now);
      return;
    }
    if (
      completed &&
      init.direction === TransferDirection.Upload &&
      bytesEqual(completed.sha256, init.sha256)
    ) {
      const done: TransferMessage = {
        type: 'Done',
        transferId: init.transferId,
        status: TransferStatus.Ok,
        messageId: completed.messageId,
      };
      this.#sendTransfer(c, done, now);
      return;
    }
    // A second Init for a transfer in progress on this connection restarts it (a sender that
    // lost our Accept); any other receiver on this connection is replaced: one upload at a time.
    c.receivers.clear();
    let opened: ReturnType<typeof TransferReceiver.open>;
    try {
      opened = TransferReceiver.open(
        init,
        {
          direction: TransferDirection.Upload,
          assignMessageId: () => storage.allocateMessageId(),
          hasSpace: (n) => storage.hasSpace(n),
        },
        storage.loadPartial(init.transferId),
      );
    } catch (e) {
      this.#sendTransfer(c, abortFor(init.transferId, e), now);
      return;
    }
    c.receivers.set(init.transferId, opened.receiver);
    this.#receiverOutputs(c, opened.outputs, now);
  }

  #toReceiver(c: Connection, msg: TransferMessage, now: number): void {
    const receiver = c.receivers.get(msg.transferId);
    if (!receiver) {
      // Blocks and End still in flight after the toy ended a transfer (it told the sender then)
      // are dropped quietly: answering each would abort the sender's retry of the same transfer.
      if (msg.type === 'Block' || msg.type === 'End') return;
      this.#sendTransfer(
        c,
        { type: 'TransferAbort', transferId: msg.transferId, status: TransferStatus.UnknownTransfer },
        now,
      );
      return;
    }
    let outputs: ReceiverOutput[];
    try {
      outputs = receiver.handle(msg);
    } catch (e) {
      outputs = receiver.state === 'receiving' ? receiver.abort(transferStatusOf(e)) : [];
    }
    this.#receiverOutputs(c, outputs, now);
  }

  #receiverOutputs(c: Connection, outputs: ReceiverOutput[], now: number): void {
    // Storage is durable when a call returns, and throws when it cannot be (flash full or failing).
    // Then nothing after the failed step may go out (a BlockAck promises the bytes are stored):
    // the transfer ends with StorageFailed and what was stored before stays for a resume.
    for (const o of outputs) {
      try {
        this.#applyReceiverOutput(c, o, now);
      } catch (e) {
        if (!(e instanceof PawLinkError)) throw e;
        const transferId =
          o.kind === 'send' ? o.message.transferId : o.kind === 'begin' ? o.init.transferId : o.transferId;
        this.#storageFailed(c, transferId, now);
        return;
      }
    }
  }

  #storageFailed(c: Connection, transferId: number, now: number): void {
    c.receivers.delete(transferId);
    c.senders.delete(transferId);
    this.#sendTransfer(c, { type: 'TransferAbort', transferId, status: TransferStatus.StorageFailed }, now);
    this.#event({ type: 'storage-failed', connectionId: c.id, transferId });
  }

  #applyReceiverOutput(c: Connection, o: ReceiverOutput, now: number): void {
    const { storage } = this.#opts;
    switch (o.kind) {
      case 'send':
        this.#sendTransfer(c, o.message, now);
        break;
      case 'begin':
        storage.beginPartial(o.init, o.keepBytes);
        break;
      case 'commit': {
        storage.appendPartial(o.transferId, o.offset, o.bytes);
        const r = c.receivers.get(o.transferId);
        if (r) {
          const p = r.progress;
          this.#event({
            type: 'upload-progress',
            connectionId: c.id,
            transferId: o.transferId,
            committed: p.committedBytes,
            total: p.totalBytes,
          });
        }
        break;
      }
      case 'complete':
        storage.completePartial(o.transferId, o.messageId, o.content, o.sha256);
        c.receivers.delete(o.transferId);
        this.#event({
          type: 'message-stored',
          connectionId: c.id,
          messageId: o.messageId,
          bytes: o.content.length,
        });
        break;
      case 'discard':
        storage.dropPartial(o.transferId);
        c.receivers.delete(o.transferId);
        this.#event({
          type: 'upload-discarded',
          connectionId: c.id,
          transferId: o.transferId,
          status: o.status,
        });
        break;
      case 'aborted':
        if (!o.keepPartial) storage.dropPartial(o.transferId);
        c.receivers.delete(o.transferId);
        break;
    }
  }

  #onDownloadRequest(c: Connection, transferId: number, messageId: number, now: number): void {
    let content: Uint8Array | undefined;
    try {
      content = this.#opts.storage.readMessage(messageId);
    } catch (e) {
      // A damaged stored message is never sent: the phone hears StorageFailed.
      if (!(e instanceof PawLinkError)) throw e;
      this.#storageFailed(c, transferId, now);
      return;
    }
    if (!content) {
      this.#sendTransfer(c, { type: 'TransferAbort', transferId, status: TransferStatus.NotFound }, now);
      return;
    }
    let sender: TransferSender;
    try {
      sender = new TransferSender({ transferId, direction: TransferDirection.Download, content });
    } catch (e) {
      this.#sendTransfer(c, abortFor(transferId, e), now);
      return;
    }
    c.senders.clear();
    c.senders.set(transferId, { sender, messageId });
    this.#sendTransfer(c, sender.start(), now);
  }

  #toSender(c: Connection, msg: TransferMessage, now: number): void {
    const s = c.senders.get(msg.transferId);
    if (!s) {
      if (msg.type !== 'TransferAbort') {
        this.#sendTransfer(
          c,
          { type: 'TransferAbort', transferId: msg.transferId, status: TransferStatus.UnknownTransfer },
          now,
        );
      }
      return;
    }
    let replies: TransferMessage[];
    try {
      replies = s.sender.handle(msg);
    } catch (e) {
      replies = [s.sender.cancel(transferStatusOf(e))];
    }
    for (const m of replies) this.#sendTransfer(c, m, now);
    const state = s.sender.state;
    if (state === 'done' || state === 'failed' || state === 'aborted') {
      c.senders.delete(msg.transferId);
      this.#event({
        type: 'download-finished',
        connectionId: c.id,
        messageId: s.messageId,
        status: s.sender.status ?? TransferStatus.Cancelled,
      });
    }
  }

  #sendTransfer(c: Connection, msg: TransferMessage, now: number): void {
    this.#sendRecord(c, RecordChannel.Audio, encodeTransferMessage(msg), now);
  }

  // ---- sending and closing ----

  #sendRecord(c: Connection, channel: RecordChannel, plaintext: Uint8Array, now: number): void {
    if (c.phase !== 'session' || !c.session) return;
    this.#sendLink(c, LinkType.Record, c.session.seal(channel, plaintext), now);
  }

  #sendLink(c: Connection, type: LinkType, body: Uint8Array, now: number): void {
    if (c.phase === 'closed') return;
    try {
      c.btp.send(encodeLink(type, body), now);
    } catch (e) {
      this.#close(c, `framing: ${e instanceof PawLinkError ? e.code : 'send failed'}`, now);
      return;
    }
    this.#pump(c, now);
  }

  /** Before a session: an Alert, then the link. Inside a session: just the link. */
  #protocolError(c: Connection, reason: string, now: number): void {
    if (c.phase === 'session') this.#close(c, reason, now);
    else this.#refuse(c, Alert.ProtocolError, reason, now);
  }

  #refuse(c: Connection, alert: AlertCode, reason: string, now: number): void {
    if (c.phase === 'closed') return;
    try {
      c.btp.send(encodeAlert(alert), now);
      this.#pump(c, now);
    } catch {
      // The alert is a courtesy; the disconnect below is what matters.
    }
    this.#close(c, reason, now);
  }

  #close(c: Connection, reason: string, _now: number): void {
    if (c.phase === 'closed') return;
    c.phase = 'closed';
    c.closeReason = reason;
    c.session?.close();
    c.btp.close('LOCAL_CLOSE');
    // Inside a pump, the running loop first emits the transmits it already holds.
    if (!c.pumping) this.#finishClose(c, reason);
  }

  /** Flushes what framing produced (an alert's segments), then the disconnect. */
  #finishClose(c: Connection, reason: string): void {
    c.closeReason = undefined;
    for (const e of c.btp.takeEvents()) {
      if (e.type === 'transmit') this.#outputs.push({ kind: 'notify', connectionId: c.id, value: e.value });
    }
    this.#outputs.push({ kind: 'disconnect', connectionId: c.id, reason });
    this.#forget(c, reason);
  }

  #forget(c: Connection, reason: string): void {
    if (!this.#connections.has(c.id)) return;
    this.#connections.delete(c.id);
    c.phase = 'closed';
    // Receivers keep their committed bytes in storage: the phone resumes on its next connection.
    c.receivers.clear();
    c.senders.clear();
    this.#handlePairingOutputs(this.#opts.pairing.connectionClosed(c.id), 0);
    this.#event({ type: 'disconnected', connectionId: c.id, reason });
  }
}

function transferStatusOf(e: unknown): number {
  if (e instanceof TransferError) return abortFor(0, e).status;
  return TransferStatus.UnexpectedMessage;
}

/** Maps a pairing-layer error code to the application error code an admin request gets. */
function appErrorFor(
  code: string,
):
  | 'NOT_ADMIN'
  | 'NOT_FOUND'
  | 'PAIRINGS_FULL'
  | 'PAIRING_LOCKED'
  | 'WINDOW_ALREADY_OPEN'
  | 'BAD_REQUEST'
  | 'INTERNAL' {
  switch (code) {
    case 'NOT_ADMIN':
      return 'NOT_ADMIN';
    case 'UNKNOWN_PHONE':
      return 'NOT_FOUND';
    case 'TABLE_FULL':
      return 'PAIRINGS_FULL';
    case 'LOCKED':
      return 'PAIRING_LOCKED';
    case 'WINDOW_ALREADY_OPEN':
      return 'WINDOW_ALREADY_OPEN';
    case 'PERSIST_FAILED':
      return 'INTERNAL';
    default:
      return 'BAD_REQUEST';
  }
}
