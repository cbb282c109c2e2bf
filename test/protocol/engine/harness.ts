/**
 * Test bench for the engines: an in-memory toy (storage, app handler, persisted pairing state) and
 * a discrete-event link in virtual time between a ToyEngine and PhoneConnections. The link keeps
 * GATT's rules (ordered, lossless while up) and can be cut at any point.
 */
import { concat } from '../../../protocol/bytes.js';
import { encodeContainer } from '../../../protocol/container/index.js';
import { PhoneConnection, type PhoneEvent, type PhoneIdentity } from '../../../protocol/engine/phone.js';
import {
  type SessionPeer,
  type ToyApp,
  ToyEngine,
  type ToyEvent,
  type ToyStorage,
} from '../../../protocol/engine/toy.js';
import type { AppMessage, AppRequest } from '../../../protocol/messages/index.js';
import {
  createToyPairingState,
  decodeToyPairingState,
  encodeToyPairingState,
  provisionToy,
  ToyPairing,
} from '../../../protocol/pairing/index.js';
import { type RandomSource, seededRandom } from '../../../protocol/random.js';
import { generateKeyPair, type KeyPair } from '../../../protocol/session/index.js';
import type { PersistedTransfer, TransferInit } from '../../../protocol/transfer/index.js';

/** A toy's flash in memory: partial uploads and complete messages, with counters for tests. */
export class MemoryToyStorage implements ToyStorage {
  partials = new Map<number, PersistedTransfer>();
  messages = new Map<number, Uint8Array>();
  nextId = 1;
  capacity = 4 * 1024 * 1024;

  loadPartial(transferId: number): PersistedTransfer | undefined {
    const p = this.partials.get(transferId);
    return p && { init: p.init, committed: p.committed.slice() };
  }
  beginPartial(init: TransferInit, keepBytes: number): void {
    const old = this.partials.get(init.transferId);
    this.partials.set(init.transferId, {
      init,
      committed: (old?.committed ?? new Uint8Array(0)).slice(0, keepBytes),
    });
  }
  appendPartial(transferId: number, offset: number, bytes: Uint8Array): void {
    const p = this.partials.get(transferId);
    if (!p || p.committed.length !== offset)
      throw new Error(`append at ${offset} to a partial of ${p?.committed.length}`);
    p.committed = concat(p.committed, bytes);
  }
  completed = new Map<number, { messageId: number; sha256: Uint8Array }>();
  completePartial(transferId: number, messageId: number, content: Uint8Array, sha256: Uint8Array): void {
    this.messages.set(messageId, content.slice());
    this.partials.delete(transferId);
    this.completed.set(transferId, { messageId, sha256: sha256.slice() });
  }
  completedTransfer(transferId: number): { messageId: number; sha256: Uint8Array } | undefined {
    return this.completed.get(transferId);
  }
  dropPartial(transferId: number): void {
    this.partials.delete(transferId);
  }
  allocateMessageId(): number {
    return this.nextId++;
  }
  hasSpace(bytes: number): boolean {
    let used = 0;
    for (const m of this.messages.values()) used += m.length;
    return used + bytes <= this.capacity;
  }
  readMessage(messageId: number): Uint8Array | undefined {
    return this.messages.get(messageId);
  }
}

/** A minimal toy application: volume, and everything else answered Ok. */
export class TestToyApp implements ToyApp {
  volume = 128;
  requests: Array<{ request: AppRequest; peer: SessionPeer }> = [];
  handleRequest(request: AppRequest, peer: SessionPeer): AppMessage {
    this.requests.push({ request, peer });
    if (request.type === 'SetVolume') this.volume = request.volume;
    return { type: 'Ok', requestId: request.requestId };
  }
}

export interface TestToy {
  engine: ToyEngine;
  storage: MemoryToyStorage;
  app: TestToyApp;
  setupCode: string;
  staticKeyPair: KeyPair;
  /** The persisted pairing state as last written (what survives a reboot). */
  flash: { pairing: Uint8Array };
  /** Powers the toy off and on: a new engine on the same flash (volatile state is lost). */
  reboot(): void;
  random: RandomSource;
}

export function makeToy(seed: string, iterations = 1000): TestToy {
  const random = seededRandom(`toy ${seed}`);
  const { setupCode, discriminator, verifier } = provisionToy(random, { iterations });
  const staticKeyPair = generateKeyPair(random);
  const state = createToyPairingState(
    { discriminator, verifier, toyStaticPublicKey: staticKeyPair.publicKey },
    random,
  );
  const flash = { pairing: encodeToyPairingState(state) };
  const storage = new MemoryToyStorage();
  const app = new TestToyApp();
  const build = () =>
    new ToyEngine({
      staticKeyPair,
      storage,
      app,
      random,
      pairing: new ToyPairing({
        state: decodeToyPairingState(flash.pairing),
        random,
        persist: (b) => {
          flash.pairing = b.slice();
        },
      }),
    });
  const toy: TestToy = {
    engine: build(),
    storage,
    app,
    setupCode,
    staticKeyPair,
    flash,
    random,
    reboot: () => {
      toy.engine = build();
    },
  };
  return toy;
}

export function makePhone(seed: string, name = seed): PhoneIdentity & { random: RandomSource } {
  const random = seededRandom(`phone ${seed}`);
  return { phoneId: random(16), staticKeyPair: generateKeyPair(random), name, random };
}

/**
 * A 60-second message: 3000 packets of 20 ms at about 16 kbps VBR (24–48 bytes, mean 36, as
 * audio.md measured: 1790 B/s), as a voice container of about 114 kB. Synthetic packets: the
 * protocol never decodes them.
 */
export function syntheticMessage(seed: string, seconds = 60): Uint8Array {
  const random = seededRandom(`message ${seed}`);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < seconds * 50; i++) {
    const len = 24 + (random(1)[0]! % 25);
    packets.push(random(len));
  }
  return encodeContainer({ preSkip: 104, packets });
}

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

/**
 * Virtual-time link between one toy and one phone connection at a time. Deliveries take
 * `latencyMs` each way; timers fire at the engines' deadlines.
 */
export class LinkSim {
  now = 0;
  readonly toyEvents: ToyEvent[] = [];
  phoneEvents: PhoneEvent[] = [];
  phone: PhoneConnection | undefined;
  connectionId = 0;
  /** Cut the link after this many more values cross it (either direction); undefined = never. */
  cutAfterValues: number | undefined;
  valuesCarried = 0;
  bytesCarried = 0;
  #queue: Scheduled[] = [];
  #seq = 0;
  #up = false;

  constructor(
    readonly toy: TestToy,
    readonly latencyMs = 7.5,
    readonly attMtu = 185,
  ) {}

  get up(): boolean {
    return this.#up;
  }

  /** Connects a new phone connection (the framing handshake starts at once). */
  connect(identity: PhoneIdentity & { random: RandomSource }): PhoneConnection {
    this.connectionId++;
    this.phoneEvents = [];
    this.#up = true;
    this.toy.engine.connect(this.connectionId, this.attMtu, this.now);
    this.phone = new PhoneConnection({ identity, attMtu: this.attMtu, random: identity.random }, this.now);
    this.#drain();
    return this.phone;
  }

  /** Severs the link now: both sides see it go down; values in flight are lost. */
  cut(): void {
    if (!this.#up) return;
    this.#up = false;
    this.#queue = [];
    this.toy.engine.disconnected(this.connectionId, this.now);
    this.phone?.linkLost(this.now);
    this.#drain();
  }

  #cutConnection(conn: number): void {
    if (conn === this.connectionId) this.cut();
  }

  #schedule(delay: number, run: () => void): void {
    this.#queue.push({ at: this.now + delay, seq: this.#seq++, run });
  }

  #carry(value: Uint8Array): boolean {
    if (!this.#up) return false;
    this.valuesCarried++;
    this.bytesCarried += value.length;
    if (this.cutAfterValues !== undefined && --this.cutAfterValues < 0) {
      this.cutAfterValues = undefined;
      this.cut();
      return false;
    }
    return true;
  }

  /** Moves every output of both sides onto the link (or into the event logs). */
  #drain(): void {
    const conn = this.connectionId;
    const phone = this.phone;
    for (const o of this.toy.engine.takeOutputs()) {
      if (o.kind === 'event') this.toyEvents.push(o.event);
      else if (o.connectionId !== conn) continue;
      else if (o.kind === 'notify') {
        const v = o.value;
        if (this.#carry(v)) this.#schedule(this.latencyMs, () => phone?.receive(v, this.now));
      } else if (o.kind === 'disconnect') {
        // The link layer sends what was queued before the disconnect reaches the peer.
        this.#schedule(this.latencyMs, () => this.#cutConnection(conn));
      }
    }
    if (!phone) return;
    for (const o of phone.takeOutputs()) {
      if (o.kind === 'event') this.phoneEvents.push(o.event);
      else if (o.kind === 'write') {
        const v = o.value;
        if (this.#carry(v)) this.#schedule(this.latencyMs, () => this.toy.engine.write(conn, v, this.now));
      } else if (o.kind === 'disconnect') {
        this.#schedule(this.latencyMs, () => this.#cutConnection(conn));
      }
    }
  }

  /** Runs until `done()` holds or virtual time passes `limitMs` from now. Returns whether done. */
  runUntil(done: () => boolean, limitMs = 600_000): boolean {
    const end = this.now + limitMs;
    this.#drain();
    while (!done()) {
      this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#queue[0];
      const deadlines = [
        this.toy.engine.nextDeadline(),
        this.#up ? this.phone?.nextDeadline() : undefined,
      ].filter((d): d is number => d !== undefined);
      const timer = deadlines.length > 0 ? Math.min(...deadlines) : undefined;
      const at = Math.min(next?.at ?? Number.POSITIVE_INFINITY, timer ?? Number.POSITIVE_INFINITY);
      if (!Number.isFinite(at) || at > end) return false;
      this.now = Math.max(this.now, at);
      if (next && next.at <= at) {
        this.#queue.shift();
        next.run();
      } else {
        this.toy.engine.tick(this.now);
        if (this.#up) this.phone?.tick(this.now);
      }
      this.#drain();
    }
    return true;
  }

  /** Runs until the phone reports an event of this type (or fails the test). */
  waitFor<T extends PhoneEvent['type']>(type: T, limitMs = 600_000): Extract<PhoneEvent, { type: T }> {
    let found: PhoneEvent | undefined;
    this.runUntil(() => {
      found = this.phoneEvents.find((e) => e.type === type);
      return found !== undefined;
    }, limitMs);
    if (!found) {
      throw new Error(
        `no '${type}' event by t=${this.now}; phone events: ${this.phoneEvents.map((e) => e.type).join(', ')}`,
      );
    }
    return found as Extract<PhoneEvent, { type: T }>;
  }
}
