/**
 * One side of a framing connection (PROTOCOL.md §5.4–5.8): the central (phone, GATT client) or the
 * peripheral (toy, GATT server). A synchronous state machine with no I/O and no clock of its own:
 *
 * - the driver feeds it every ATT value received on RX (toy) or TX (phone) with `receive(value, now)`,
 *   the messages to send with `send(message, now)`, and calls `tick(now)` at or after
 *   `nextDeadline()`;
 * - after each call the driver drains `takeEvents()`, in order: `transmit` (an ATT value to write or
 *   notify), `open` (handshake done), `message` (a complete message, in order, exactly once) and at
 *   most one `closed` (the reason, a `FramingError`), after which the driver drops the BLE link.
 *
 * Peer input never throws: a packet that breaks any rule closes the endpoint with a `closed` event
 * carrying the `FramingError`, and nothing of that packet (no ack, no data) is acted on. Local misuse
 * (`send` on a closed endpoint, an oversize message, a full queue) throws a `FramingError` and
 * changes nothing. Once closed, `receive`, `tick` and `close` do nothing.
 */
import { concat } from '../bytes.js';
import { FramingError } from '../errors.js';
import {
  type BtpPacket,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
  type HandshakeRequest,
} from './codec.js';
import {
  ACK_FIELD_LENGTH,
  ACK_RECEIVED_TIMEOUT_MS,
  ATT_MTU_MAX,
  ATT_MTU_MIN,
  BEGINNING_HEADER_LENGTH,
  CONTINUING_HEADER_LENGTH,
  DEFAULT_MAX_QUEUED_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  KEEPALIVE_ACK_DELAY_MS,
  MAX_MESSAGE_LENGTH,
  MAX_OFFERED_VERSIONS,
  SEND_ACK_DELAY_MS,
  SUPPORTED_VERSIONS,
  WINDOW_DEFAULT_CENTRAL,
  WINDOW_DEFAULT_PERIPHERAL,
  WINDOW_MAX,
  WINDOW_MIN,
} from './constants.js';
import { checkHandshakeResponse, negotiate } from './negotiate.js';

export type BtpRole = 'central' | 'peripheral';

/** `handshake` until the handshake completes, then `open`, and `closed` for good. */
export type BtpState = 'handshake' | 'open' | 'closed';

/**
 * How the driver must put a `transmit` value on the air: the phone writes the handshake request to
 * RX with Write (with response) and data with Write Without Response; the toy notifies on TX.
 */
export type AttOperation = 'write' | 'write-without-response' | 'notify';

export type FramingEvent =
  | { type: 'transmit'; value: Uint8Array; att: AttOperation }
  | { type: 'open'; version: number; segmentSize: number; window: number }
  | { type: 'message'; message: Uint8Array }
  | { type: 'closed'; reason: FramingError };

/** Close codes a driver may give `close()`: its own decision, or the BLE link went down. */
export type LocalCloseCode = 'LOCAL_CLOSE' | 'LINK_LOST';

export interface BtpEndpointOptions {
  /** This side's ATT_MTU for the connection, 23–517 bytes (a central that cannot tell uses 23). */
  attMtu: number;
  /** The window this side offers, 3–32 packets. Default: 16 for the toy, 32 for the phone. */
  window?: number;
  /** Framing versions this side speaks, 1–15 each. Default `SUPPORTED_VERSIONS` ([4]). */
  versions?: readonly number[];
  /** Bound on bytes accepted by `send()` and not yet segmented. Default 16384. */
  maxQueuedBytes?: number;
}

/** Internal counters, for tests and diagnostics. Sequence numbers are 0–255. */
export interface BtpSnapshot {
  state: BtpState;
  /** Sequence number of the next packet this side sends. */
  txNext: number;
  /** Newest of this side's sequence numbers the peer has acknowledged (255 before any). */
  txAcked: number;
  /** Packets sent and not yet acknowledged. */
  outstanding: number;
  /** Newest sequence number received from the peer (255 before any). */
  rxLast: number;
  /** Newest received sequence number this side has acknowledged. */
  rxAcked: number;
  /** Packets received and not yet acknowledged. */
  unacked: number;
  /** Bytes of the message being reassembled, or undefined when none is. */
  reassembling: number | undefined;
  queuedBytes: number;
  deadlines: { handshake?: number; ackReceived?: number; sendAck?: number; idle?: number };
}

const mod = (n: number): number => n & 0xff;

interface Outgoing {
  message: Uint8Array;
  offset: number;
}

interface Incoming {
  messageLength: number;
  parts: Uint8Array[];
  received: number;
}

function checkInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FramingError('OUT_OF_RANGE', `${what} ${value} is outside ${min}..${max}`);
  }
}

export class BtpEndpoint {
  readonly role: BtpRole;
  private readonly local: { versions: number[]; attMtu: number; window: number };
  private readonly maxQueuedBytes: number;

  private current: BtpState = 'handshake';
  private reason: FramingError | undefined;
  private events: FramingEvent[] = [];

  private request: HandshakeRequest | undefined;
  private requestBytes: Uint8Array | undefined;
  private responseBytes: Uint8Array | undefined;
  private negotiated: { version: number; segmentSize: number; window: number } | undefined;

  // Sequence state (PROTOCOL.md §5.5). All arithmetic is mod 256.
  private txNext = 0;
  private txAcked = 255;
  private rxLast = 255;
  private rxAcked = 255;
  /** Some unacknowledged received packet carried data (or is the handshake response). */
  private rxPendingData = false;

  private queue: Uint8Array[] = [];
  private outgoing: Outgoing | undefined;
  private queued = 0;
  private incoming: Incoming | undefined;

  private handshakeDeadline: number | undefined;
  private ackReceivedDeadline: number | undefined;
  private sendAckDeadline: number | undefined;
  private idleDeadline: number | undefined;

  /** The phone's endpoint. Emits the handshake request (a `transmit` with `att: 'write'`) at once. */
  static central(options: BtpEndpointOptions, now: number): BtpEndpoint {
    const endpoint = new BtpEndpoint('central', options);
    const request: HandshakeRequest = {
      versions: [...endpoint.local.versions],
      attMtu: endpoint.local.attMtu,
      window: endpoint.local.window,
    };
    const bytes = encodeHandshakeRequest(request);
    endpoint.request = request;
    endpoint.requestBytes = bytes;
    endpoint.handshakeDeadline = now + HANDSHAKE_TIMEOUT_MS;
    endpoint.emit({ type: 'transmit', value: bytes, att: 'write' });
    return endpoint;
  }

  /** The toy's endpoint, created when a central connects; it waits for the handshake request. */
  static peripheral(options: BtpEndpointOptions, now: number): BtpEndpoint {
    const endpoint = new BtpEndpoint('peripheral', options);
    endpoint.handshakeDeadline = now + HANDSHAKE_TIMEOUT_MS;
    return endpoint;
  }

  private constructor(role: BtpRole, options: BtpEndpointOptions) {
    this.role = role;
    checkInteger(options.attMtu, ATT_MTU_MIN, ATT_MTU_MAX, 'ATT_MTU');
    const window =
      options.window ?? (role === 'peripheral' ? WINDOW_DEFAULT_PERIPHERAL : WINDOW_DEFAULT_CENTRAL);
    checkInteger(window, WINDOW_MIN, WINDOW_MAX, 'window');
    const versions = [...new Set(options.versions ?? SUPPORTED_VERSIONS)].sort((a, b) => b - a);
    checkInteger(versions.length, 1, MAX_OFFERED_VERSIONS, 'number of versions');
    for (const v of versions) checkInteger(v, 1, 15, 'framing version');
    const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    checkInteger(maxQueuedBytes, 0, Number.MAX_SAFE_INTEGER, 'maxQueuedBytes');
    this.local = { versions, attMtu: options.attMtu, window };
    this.maxQueuedBytes = maxQueuedBytes;
  }

  // ---------------------------------------------------------------- public state

  get state(): BtpState {
    return this.current;
  }

  /** Negotiated framing version, once open. */
  get version(): number | undefined {
    return this.negotiated?.version;
  }

  /** Negotiated segment size (largest ATT value either side writes), bytes, once open. */
  get segmentSize(): number | undefined {
    return this.negotiated?.segmentSize;
  }

  /** Negotiated window, packets, once open. */
  get window(): number | undefined {
    return this.negotiated?.window;
  }

  /**
   * The exact handshake request bytes ‖ response bytes (9 + 6), once open. Both sides compute the
   * same 15 bytes; the session layer binds them into the Noise prologue, so a tampered handshake
   * (a downgraded version or window) makes the session handshake fail.
   */
  get handshakeTranscript(): Uint8Array | undefined {
    if (this.requestBytes === undefined || this.responseBytes === undefined) return undefined;
    return concat(this.requestBytes, this.responseBytes);
  }

  /** Why the endpoint closed, once closed. */
  get closeReason(): FramingError | undefined {
    return this.reason;
  }

  /** Bytes accepted by `send()` and not yet cut into segments. */
  get queuedBytes(): number {
    return this.queued;
  }

  snapshot(): BtpSnapshot {
    const deadlines: BtpSnapshot['deadlines'] = {};
    if (this.handshakeDeadline !== undefined) deadlines.handshake = this.handshakeDeadline;
    if (this.ackReceivedDeadline !== undefined) deadlines.ackReceived = this.ackReceivedDeadline;
    if (this.sendAckDeadline !== undefined) deadlines.sendAck = this.sendAckDeadline;
    if (this.idleDeadline !== undefined) deadlines.idle = this.idleDeadline;
    return {
      state: this.current,
      txNext: this.txNext,
      txAcked: this.txAcked,
      outstanding: this.outstanding(),
      rxLast: this.rxLast,
      rxAcked: this.rxAcked,
      unacked: this.unacked(),
      reassembling: this.incoming?.received,
      queuedBytes: this.queued,
      deadlines,
    };
  }

  /** Returns and clears the events produced since the last call, oldest first. */
  takeEvents(): FramingEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  // ---------------------------------------------------------------- driver inputs

  /**
   * Queues a message (0–2048 bytes) for sending; segments go out as the window allows. Allowed
   * before the handshake completes (they wait for it). Throws `FramingError` `CLOSED`,
   * `MESSAGE_TOO_LONG` or `QUEUE_FULL` without changing anything.
   */
  send(message: Uint8Array, now: number): void {
    if (this.current === 'closed') {
      throw new FramingError('CLOSED', `the framing connection is closed (${this.reason?.code})`);
    }
    if (message.length > MAX_MESSAGE_LENGTH) {
      throw new FramingError(
        'MESSAGE_TOO_LONG',
        `message of ${message.length} bytes exceeds ${MAX_MESSAGE_LENGTH}`,
      );
    }
    if (this.queued + message.length > this.maxQueuedBytes) {
      throw new FramingError(
        'QUEUE_FULL',
        `${this.queued} bytes already queued; ${message.length} more exceed ${this.maxQueuedBytes}`,
      );
    }
    this.queue.push(message.slice());
    this.queued += message.length;
    this.pump(now);
  }

  /** Feeds one ATT value received from the peer (RX write on the toy, TX notification on the phone). */
  receive(value: Uint8Array, now: number): void {
    if (this.current === 'closed') return;
    try {
      if (this.current === 'open') this.receivePacket(value, now);
      else if (this.role === 'peripheral') this.receiveRequest(value, now);
      else this.receiveResponse(value, now);
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
      this.fail(e);
    }
  }

  /** Runs the timers: call at or after `nextDeadline()` (calling early is harmless). */
  tick(now: number): void {
    if (this.current === 'closed') return;
    const expired: Array<[number, string, string]> = [];
    if (this.handshakeDeadline !== undefined && this.handshakeDeadline <= now) {
      expired.push([this.handshakeDeadline, 'HANDSHAKE_TIMEOUT', 'no framing handshake within 5 s']);
    }
    if (this.ackReceivedDeadline !== undefined && this.ackReceivedDeadline <= now) {
      expired.push([this.ackReceivedDeadline, 'ACK_TIMEOUT', 'no acknowledgement within 15 s']);
    }
    if (this.idleDeadline !== undefined && this.idleDeadline <= now) {
      expired.push([this.idleDeadline, 'IDLE_TIMEOUT', 'no message segment sent or received for 30 s']);
    }
    if (expired.length > 0) {
      expired.sort((a, b) => a[0] - b[0]);
      const [, code, message] = expired[0]!;
      this.fail(new FramingError(code, message));
      return;
    }
    this.pump(now);
  }

  /**
   * The earliest time at which `tick` has something to do, or undefined (closed, or nothing
   * pending). A stand-alone ack that is due but blocked by a closed window is not a deadline: the
   * peer's next ack, fed through `receive`, unblocks it.
   */
  nextDeadline(): number | undefined {
    if (this.current === 'closed') return undefined;
    let next: number | undefined;
    const consider = (t: number | undefined): void => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    consider(this.handshakeDeadline);
    consider(this.ackReceivedDeadline);
    consider(this.idleDeadline);
    if (this.current === 'open' && this.unacked() > 0 && this.freeSlots() > 0) consider(this.sendAckDeadline);
    return next;
  }

  /**
   * Closes the endpoint: `LOCAL_CLOSE` when the driver decides to (the app is done), `LINK_LOST` when
   * the BLE link went down. Emits `closed`; does nothing if already closed. BTP has no close packet:
   * the phone ends a connection by disconnecting (or unsubscribing from TX), the toy by
   * disconnecting.
   */
  close(code: LocalCloseCode = 'LOCAL_CLOSE'): void {
    if (this.current === 'closed') return;
    this.fail(
      new FramingError(code, code === 'LINK_LOST' ? 'the BLE link went down' : 'closed by the local side'),
    );
  }

  // ---------------------------------------------------------------- handshake

  private receiveRequest(value: Uint8Array, now: number): void {
    const request = decodeHandshakeRequest(value);
    const response = negotiate(request, this.local);
    const responseBytes = encodeHandshakeResponse(response);
    // Every check passed: commit.
    this.requestBytes = value.slice();
    this.responseBytes = responseBytes;
    this.request = request;
    this.negotiated = response;
    this.current = 'open';
    this.handshakeDeadline = undefined;
    // The response counts as the toy's packet 0 (Matter §4.19.4.6): its first data packet is 1, and
    // the phone's first packet acknowledges 0.
    this.txNext = 1;
    this.txAcked = 255;
    this.rxLast = 255;
    this.rxAcked = 255;
    this.ackReceivedDeadline = now + ACK_RECEIVED_TIMEOUT_MS;
    this.idleDeadline = now + IDLE_TIMEOUT_MS;
    this.emit({ type: 'transmit', value: responseBytes, att: 'notify' });
    this.emit({ type: 'open', ...response });
    this.pump(now);
  }

  private receiveResponse(value: Uint8Array, now: number): void {
    const response = decodeHandshakeResponse(value);
    checkHandshakeResponse(response, this.request!);
    this.responseBytes = value.slice();
    this.negotiated = response;
    this.current = 'open';
    this.handshakeDeadline = undefined;
    // The response is the toy's packet 0, pending acknowledgement (Matter §4.19.4.8).
    this.txNext = 0;
    this.txAcked = 255;
    this.rxLast = 0;
    this.rxAcked = 255;
    this.rxPendingData = true;
    this.sendAckDeadline = now + SEND_ACK_DELAY_MS;
    this.idleDeadline = now + IDLE_TIMEOUT_MS;
    this.emit({ type: 'open', ...response });
    this.pump(now);
  }

  // ---------------------------------------------------------------- data phase

  private outstanding(): number {
    return mod(this.txNext - 1 - this.txAcked);
  }

  private unacked(): number {
    return mod(this.rxLast - this.rxAcked);
  }

  private freeSlots(): number {
    return (this.negotiated?.window ?? 0) - this.outstanding();
  }

  private receivePacket(value: Uint8Array, now: number): void {
    const { segmentSize, window } = this.negotiated!;
    if (value.length > segmentSize) {
      throw new FramingError(
        'SEGMENT_TOO_LONG',
        `packet of ${value.length} bytes exceeds the segment size ${segmentSize}`,
      );
    }
    const packet = decodePacket(value);
    const expected = mod(this.rxLast + 1);
    if (packet.seq !== expected) {
      throw new FramingError(
        'OUT_OF_ORDER',
        `sequence number ${packet.seq}, expected ${expected} (lost, duplicated or reordered packet)`,
      );
    }
    const unacked = this.unacked();
    if (unacked >= window) {
      throw new FramingError(
        'WINDOW_VIOLATION',
        `the peer sent into a closed window (${window} unacknowledged)`,
      );
    }
    if (packet.ack === undefined && unacked >= window - 1) {
      throw new FramingError(
        'WINDOW_VIOLATION',
        'the peer used the last window slot for a packet without an ack (Matter deadlock rule)',
      );
    }
    if (packet.ack !== undefined) {
      const advance = mod(packet.ack - this.txAcked);
      if (advance < 1 || advance > this.outstanding()) {
        throw new FramingError(
          'BAD_ACK',
          `ack ${packet.ack} is not one of the ${this.outstanding()} outstanding packets after ${this.txAcked}`,
        );
      }
    }
    const complete = this.checkReassembly(packet);

    // Every check passed: commit.
    this.rxLast = packet.seq;
    if (packet.ack !== undefined) {
      this.txAcked = packet.ack;
      this.ackReceivedDeadline = this.outstanding() === 0 ? undefined : now + ACK_RECEIVED_TIMEOUT_MS;
    }
    const carriesData = packet.kind !== 'ack';
    if (carriesData) this.rxPendingData = true;
    const due = now + (carriesData ? SEND_ACK_DELAY_MS : KEEPALIVE_ACK_DELAY_MS);
    this.sendAckDeadline = this.sendAckDeadline === undefined ? due : Math.min(this.sendAckDeadline, due);
    if (packet.kind === 'beginning') {
      this.incoming = { messageLength: packet.messageLength, parts: [], received: 0 };
    }
    if (packet.kind !== 'ack') {
      this.idleDeadline = now + IDLE_TIMEOUT_MS;
      const incoming = this.incoming!;
      incoming.parts.push(packet.payload);
      incoming.received += packet.payload.length;
      if (complete) {
        this.incoming = undefined;
        this.emit({ type: 'message', message: concat(...incoming.parts) });
      }
    }
    this.pump(now);
  }

  /** Checks a segment against the reassembly state; returns whether it completes a message. */
  private checkReassembly(packet: BtpPacket): boolean {
    if (packet.kind === 'ack') return false;
    let messageLength: number;
    let total: number;
    if (packet.kind === 'beginning') {
      if (this.incoming !== undefined) {
        throw new FramingError(
          'UNEXPECTED_BEGIN',
          'a beginning segment arrived before the previous message ended',
        );
      }
      if (packet.messageLength > MAX_MESSAGE_LENGTH) {
        throw new FramingError(
          'MESSAGE_TOO_LONG',
          `declared message length ${packet.messageLength} exceeds ${MAX_MESSAGE_LENGTH}`,
        );
      }
      messageLength = packet.messageLength;
      total = packet.payload.length;
    } else {
      if (this.incoming === undefined) {
        throw new FramingError('UNEXPECTED_CONTINUE', 'a continuing segment arrived with no message begun');
      }
      messageLength = this.incoming.messageLength;
      total = this.incoming.received + packet.payload.length;
    }
    if (total > messageLength) {
      throw new FramingError(
        'LENGTH_OVERFLOW',
        `segments carry ${total} bytes of a message declared as ${messageLength}`,
      );
    }
    if (packet.ending !== (total === messageLength)) {
      throw new FramingError(
        'LENGTH_MISMATCH',
        packet.ending
          ? `the message ended after ${total} of ${messageLength} declared bytes`
          : `the segments reached the declared ${messageLength} bytes without an ending segment`,
      );
    }
    return packet.ending;
  }

  /**
   * Sends whatever the window allows: message segments first (each piggy-backs any pending ack),
   * else a stand-alone ack when one is due. Never uses the peer's last free slot for a packet
   * without an ack (the deadlock rule, Matter §4.19.4.7).
   */
  private pump(now: number): void {
    if (this.current !== 'open') return;
    for (;;) {
      const free = this.freeSlots();
      if (free <= 0) return;
      const unacked = this.unacked();
      if (this.outgoing !== undefined || this.queue.length > 0) {
        if (free === 1 && unacked === 0) return;
        this.sendSegment(now, unacked > 0);
        continue;
      }
      if (unacked > 0 && this.ackDue(now, unacked)) this.sendStandaloneAck(now);
      return;
    }
  }

  /**
   * A stand-alone ack is due when its timer has run out, or at once when data is pending and half
   * the window is unacknowledged (at most `window − 2`: Matter's "two or fewer free slots" rule),
   * or when only one slot is left in this side's receive window.
   */
  private ackDue(now: number, unacked: number): boolean {
    const window = this.negotiated!.window;
    if (this.sendAckDeadline !== undefined && this.sendAckDeadline <= now) return true;
    if (this.rxPendingData && unacked >= Math.min(Math.ceil(window / 2), window - 2)) return true;
    return unacked >= window - 1;
  }

  private sendSegment(now: number, withAck: boolean): void {
    if (this.outgoing === undefined) {
      this.outgoing = { message: this.queue.shift()!, offset: 0 };
    }
    const out = this.outgoing;
    const first = out.offset === 0;
    const header =
      (first ? BEGINNING_HEADER_LENGTH : CONTINUING_HEADER_LENGTH) + (withAck ? ACK_FIELD_LENGTH : 0);
    const take = Math.min(this.negotiated!.segmentSize - header, out.message.length - out.offset);
    const payload = out.message.subarray(out.offset, out.offset + take);
    const ending = out.offset + take === out.message.length;
    const ack = withAck ? { ack: this.rxLast } : {};
    const packet: BtpPacket = first
      ? { kind: 'beginning', ...ack, seq: this.txNext, messageLength: out.message.length, ending, payload }
      : { kind: 'continuing', ...ack, seq: this.txNext, ending, payload };
    const value = encodePacket(packet);
    out.offset += take;
    this.queued -= take;
    if (ending) this.outgoing = undefined;
    this.idleDeadline = now + IDLE_TIMEOUT_MS;
    this.transmitted(value, now, withAck);
  }

  private sendStandaloneAck(now: number): void {
    this.transmitted(encodePacket({ kind: 'ack', ack: this.rxLast, seq: this.txNext }), now, true);
  }

  private transmitted(value: Uint8Array, now: number, withAck: boolean): void {
    this.txNext = mod(this.txNext + 1);
    if (this.ackReceivedDeadline === undefined) this.ackReceivedDeadline = now + ACK_RECEIVED_TIMEOUT_MS;
    if (withAck) {
      this.rxAcked = this.rxLast;
      this.rxPendingData = false;
      this.sendAckDeadline = undefined;
    }
    this.emit({
      type: 'transmit',
      value,
      att: this.role === 'central' ? 'write-without-response' : 'notify',
    });
  }

  // ---------------------------------------------------------------- closing

  private fail(reason: FramingError): void {
    this.current = 'closed';
    this.reason = reason;
    this.queue = [];
    this.outgoing = undefined;
    this.queued = 0;
    this.incoming = undefined;
    this.handshakeDeadline = undefined;
    this.ackReceivedDeadline = undefined;
    this.sendAckDeadline = undefined;
    this.idleDeadline = undefined;
    this.emit({ type: 'closed', reason });
  }

  private emit(event: FramingEvent): void {
    this.events.push(event);
  }
}
