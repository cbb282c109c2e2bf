/**
 * A stranger who got past the framing handshake: the protocol's own BTP endpoint (central role)
 * over the attacker's raw connection, so the attacker can put any link envelope — a pairing message,
 * a Noise message, a record, an alert, an app message in plaintext, an unknown type — in properly
 * framed segments, and read what the toy answers. Nothing here knows a key.
 */

import type { PairedToy, PhoneIdentity } from '../../../protocol/engine/phone.js';
import type { FramingError } from '../../../protocol/errors.js';
import { BtpEndpoint } from '../../../protocol/framing/endpoint.js';
import { decodeLink, encodeLink, type LinkMessage, LinkType } from '../../../protocol/link.js';
import type { RandomSource } from '../../../protocol/random.js';
import {
  type RecordChannel,
  type SecureSession,
  SessionInitiator,
  sessionPrologue,
} from '../../../protocol/session/index.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';
import type { Scheduler } from '../../../radio/clock.js';
import type { RawConnection } from './raw-central.js';

export class FramedLink {
  readonly received: Uint8Array[] = [];
  closedBy: FramingError | undefined;
  #timer: { cancel(): void } | undefined;
  #writes: Promise<void> = Promise.resolve();
  #waiters: Array<() => void> = [];

  private constructor(
    readonly conn: RawConnection,
    readonly endpoint: BtpEndpoint,
    readonly scheduler: Scheduler,
  ) {}

  /** Subscribes to TX and runs the framing handshake (window 32, the connection's MTU). */
  static async open(conn: RawConnection, scheduler: Scheduler): Promise<FramedLink> {
    const endpoint = BtpEndpoint.central({ attMtu: conn.mtu }, scheduler.now());
    const link = new FramedLink(conn, endpoint, scheduler);
    await conn.subscribe((value) => {
      link.endpoint.receive(value, link.scheduler.now());
      link.#pump();
    });
    conn.onDisconnect(() => {
      if (endpoint.state !== 'closed') endpoint.close('LINK_LOST');
      link.#pump();
    });
    link.#pump();
    await link.until(() => endpoint.state !== 'handshake', 10_000);
    if (endpoint.state !== 'open') throw new Error(`framing did not open: ${link.closedBy?.message}`);
    return link;
  }

  get open(): boolean {
    return this.endpoint.state === 'open' && this.conn.connected;
  }

  /** Sends one link message: `type` then `body`, as the framing carries it. */
  send(type: LinkType | number, body: Uint8Array): void {
    this.sendSdu(encodeLink(type as LinkType, body));
  }

  /** Sends any bytes as one framed message (an empty or unknown envelope included). */
  sendSdu(sdu: Uint8Array): void {
    if (this.endpoint.state !== 'open') return;
    this.endpoint.send(sdu, this.scheduler.now());
    this.#pump();
  }

  /**
   * Opens a Noise session as a paired phone (`identity`, `toy` from its pairing): from then on
   * `sendRecord` seals any plaintext, well-formed or not, on either channel, exactly as an app
   * that turned against the toy would. Resolves with the session, or rejects if the toy refused.
   */
  async session(identity: PhoneIdentity, toy: PairedToy, random: RandomSource): Promise<SecureSession> {
    const initiator = new SessionInitiator({
      staticKeyPair: identity.staticKeyPair,
      toyStaticPublicKey: toy.toyStaticPublicKey,
      prologue: sessionPrologue(PROTOCOL_VERSION, this.endpoint.handshakeTranscript!, toy.toyId),
      random,
    });
    const from = this.received.length;
    this.send(LinkType.Handshake, initiator.writeMessage1());
    await this.until(() => this.received.length > from || !this.open, 5_000);
    const reply = this.received[from];
    if (!reply || reply[0] !== LinkType.Handshake) throw new Error('the toy refused the handshake');
    this.#session = initiator.readMessage2(reply.subarray(1)).session;
    return this.#session;
  }

  #session: SecureSession | undefined;

  /** Seals `plaintext` on `channel` in the session and sends it. */
  sendRecord(channel: RecordChannel, plaintext: Uint8Array): void {
    if (!this.#session) throw new Error('no session: call session() first');
    this.send(LinkType.Record, this.#session.seal(channel, plaintext));
  }

  #opened = 0;

  /** Opens, in order, every record received since the last call (each record opens once). */
  openRecords(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (; this.#opened < this.received.length; this.#opened++) {
      const m = this.received[this.#opened]!;
      if (m[0] === LinkType.Record && this.#session) out.push(this.#session.open(m.subarray(1)).plaintext);
    }
    return out;
  }

  /** The received messages as link envelopes (those that decode). */
  messages(): LinkMessage[] {
    const out: LinkMessage[] = [];
    for (const m of this.received) {
      try {
        out.push(decodeLink(m));
      } catch {
        // not an envelope: kept raw in `received`
      }
    }
    return out;
  }

  /** Waits (air time) until `done()` holds or `ms` passed; returns whether it held. */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = this.scheduler.now() + ms;
    while (!done()) {
      if (this.scheduler.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const t = this.scheduler.setTimer(resolve, Math.min(50, deadline - this.scheduler.now()));
        this.#waiters.push(() => {
          t.cancel();
          resolve();
        });
      });
    }
    return true;
  }

  #pump(): void {
    for (const e of this.endpoint.takeEvents()) {
      if (e.type === 'transmit') {
        const value = e.value;
        if (e.att === 'write') {
          this.#writes = this.#writes
            .then(() => this.conn.write(value, { withResponse: true }))
            .catch(() => {});
        } else {
          this.#writes = this.#writes
            .then(() => this.conn.write(value, { withResponse: false }))
            .catch(() => {});
        }
      } else if (e.type === 'message') this.received.push(e.message);
      else if (e.type === 'closed') this.closedBy = e.reason;
    }
    this.#timer?.cancel();
    const next = this.endpoint.nextDeadline();
    if (next !== undefined && this.endpoint.state !== 'closed') {
      this.#timer = this.scheduler.setTimer(
        () => {
          this.endpoint.tick(this.scheduler.now());
          this.#pump();
        },
        Math.max(0, next - this.scheduler.now()),
      );
    }
    for (const w of this.#waiters.splice(0)) w();
  }
}
