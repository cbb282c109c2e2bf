/**
 * The toy's side of pairing (SPAKE2+ verifier): the pairing window, one attempt at a time, the
 * per-window and lifetime failure limits, the pairing table and its persistence. Synchronous and
 * pure: bytes in, outputs out; time is a `now` argument, randomness an injected `RandomSource`,
 * persistence an injected synchronous `persist(bytes)` callback. PROTOCOL.md, "Toy state machine".
 *
 * Error contract:
 * - Rejected input (undecodable bytes, a message the toy never receives, a message not expected from
 *   this connection in this state) throws `PairingError` and changes nothing at all, neither the
 *   volatile window/attempt state nor the persisted state. The attempt (if any) goes on and times out.
 * - A failure inside the attempt's own conversation (invalid share, wrong confirmP, undecryptable
 *   identity, full table, a status from the phone) ends the attempt and is reported as outputs
 *   (a PairingStatus to send and an `attempt-failed` event), never thrown.
 *
 * Failure counting (the lifetime counter is persisted; the window counter is volatile):
 * 1. When a Pake1 is accepted, both counters are incremented ("charged") and the state is persisted
 *    BEFORE Pake2 is returned: Pake2's confirmV already lets the sender test one guess offline.
 * 2. When a Pake3 carries the right confirmP, both counters are decremented again ("credited"),
 *    persisted, because the peer proved it knows the code: it was not guessing.
 * Any other ending of a charged attempt (wrong confirmP, timeout, disconnect, window closing, an
 * invalid PhoneIdentity...) leaves the charge in place. A power cut can only lose a credit, never
 * a charge: a charge is durable before Pake2 exists, a credit only happens after the proof.
 */
import { timingSafeEqual } from '../crypto.js';
import { PairingError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  ATTEMPT_MS,
  LIFETIME_MAX_FAILURES,
  NONCE_LEN,
  PAIRING_VERSION,
  PAW_HOLD_MS,
  TAG_KEY_LEN,
  WINDOW_MAX_FAILURES,
  WINDOW_MS,
} from './constants.js';
import {
  deriveIdentityKeys,
  type IdentityKeys,
  type KeyLog,
  openPhoneIdentity,
  pairingContext,
  pairingParties,
  sealToyIdentity,
} from './keys.js';
import {
  decodePairingMessage,
  encodePairingMessage,
  type PairingMessage,
  PairingMessageType,
  PairingStatusCode,
  type Pake1,
  type Pake3,
  type PbkdfParamRequest,
  type PhoneIdentity,
  STATUS_ERROR_CODES,
} from './messages.js';
import {
  randomScalar,
  type Spake2PlusKeys,
  scalarFromBytes,
  scalarToBytes,
  verifierRespond,
} from './spake2plus.js';
import {
  checkToyPairingState,
  encodeToyPairingState,
  factoryResetState,
  type ToyPairingState,
} from './state.js';
import {
  addPairing,
  findByPhoneId,
  findByStaticKey,
  hasRoom,
  listPairings,
  type PairingEntry,
  type PairingTable,
  type Role,
  removePairing,
  requireAdmin,
} from './table.js';

/** The driver's name for one BLE connection (any value it can compare with `===`). */
export type ConnectionId = number | string;

/** Why the pairing window closed. */
export type WindowCloseReason =
  | 'expired'
  | 'paired'
  | 'too-many-failures'
  | 'locked'
  | 'cancelled'
  | 'table-wiped'
  | 'factory-reset';

/** What the toy's driver must do, in order. */
export type ToyPairingOutput =
  /** Send `body` to `connectionId`, wrapped in a link message of type `LinkType.Pairing`. */
  | { readonly kind: 'send'; readonly connectionId: ConnectionId; readonly body: Uint8Array }
  /** A phone was added to the pairing table (already persisted). */
  | { readonly kind: 'paired'; readonly connectionId: ConnectionId; readonly entry: PairingEntry }
  /** The attempt on `connectionId` ended without pairing; `code` is a PairingError code. */
  | { readonly kind: 'attempt-failed'; readonly connectionId: ConnectionId; readonly code: string }
  /** The pairing window closed (stop the heart LED pulsing, clear the INFO/advertising flag). */
  | { readonly kind: 'window-closed'; readonly reason: WindowCloseReason };

export type PawWindowResult =
  | { readonly opened: true; readonly closesAt: number; readonly outputs: ToyPairingOutput[] }
  | {
      readonly opened: false;
      readonly reason: 'HOLD_TOO_SHORT' | 'TABLE_NOT_EMPTY' | 'LOCKED';
      readonly outputs: ToyPairingOutput[];
    };

export interface ToyPairingOptions {
  /** The persisted state as last written (decodeToyPairingState of the flash copy). */
  readonly state: ToyPairingState;
  readonly random: RandomSource;
  /**
   * Writes the encoded state durably before returning (the firmware writes a new copy, then flips
   * to it, so a torn write leaves the previous copy). If it throws, the operation that called it
   * is undone and the error is rethrown as `PairingError('PERSIST_FAILED')`; nothing is sent.
   */
  readonly persist: (encoded: Uint8Array) => void;
  /** Receives each attempt's secrets (test vectors, debugging). Never set it in production. */
  readonly keyLog?: KeyLog;
}

interface Window {
  readonly closesAt: number;
  readonly openedBy: 'paw' | 'admin';
  /** Role for the phone that pairs in this window (the first phone of a toy is always admin). */
  readonly grantRole: Role;
  /** Charged attempts in this window, net of credits. */
  readonly failures: number;
}

type Attempt =
  | {
      readonly phase: 'await-pake1';
      readonly connectionId: ConnectionId;
      readonly deadline: number;
      readonly context: Uint8Array;
    }
  | {
      readonly phase: 'await-pake3';
      readonly connectionId: ConnectionId;
      readonly deadline: number;
      readonly keys: Spake2PlusKeys;
      readonly identityKeys: IdentityKeys;
    }
  | {
      readonly phase: 'await-phone-identity';
      readonly connectionId: ConnectionId;
      readonly deadline: number;
      readonly identityKeys: IdentityKeys;
    };

function statusBody(code: PairingStatusCode): Uint8Array {
  return encodePairingMessage({ type: PairingMessageType.PairingStatus, code });
}

function withoutTagKey(state: ToyPairingState): ToyPairingState {
  const { tagKey, ...rest } = state;
  return tagKey ? rest : state;
}

function unexpected(what: string): PairingError {
  return new PairingError('UNEXPECTED_MESSAGE', what);
}

export class ToyPairing {
  #state: ToyPairingState;
  #window: Window | undefined;
  #attempt: Attempt | undefined;
  readonly #random: RandomSource;
  readonly #persist: (encoded: Uint8Array) => void;
  readonly #keyLog: KeyLog | undefined;

  /** @throws PairingError `BAD_STATE` if `options.state` breaks an invariant. */
  constructor(options: ToyPairingOptions) {
    checkToyPairingState(options.state);
    this.#state = options.state;
    this.#random = options.random;
    this.#persist = options.persist;
    this.#keyLog = options.keyLog;
  }

  /** The current persisted state (what the last `persist` call wrote). */
  get state(): ToyPairingState {
    return this.#state;
  }

  /** True once 100 attempts failed in the toy's lifetime: pairing refused until factory reset. */
  get locked(): boolean {
    return this.#state.lifetimeFailures >= LIFETIME_MAX_FAILURES;
  }

  /** Whether the window is open (for INFO, the advertisement and the heart LED). Call `tick` first. */
  get windowOpen(): boolean {
    return this.#window !== undefined;
  }

  /** When the open window closes (ms, the driver's clock), or undefined. */
  get windowClosesAt(): number | undefined {
    return this.#window?.closesAt;
  }

  /** The connection whose attempt is in progress, or undefined. */
  get attemptConnection(): ConnectionId | undefined {
    return this.#attempt?.connectionId;
  }

  /** The session layer's lookup: the pairing with this static X25519 public key, if any. */
  lookupByStaticKey(publicKey: Uint8Array): PairingEntry | undefined {
    return findByStaticKey(this.#state.pairings, publicKey);
  }

  /** The pairing with this phone id, if any. */
  lookupByPhoneId(phoneId: Uint8Array): PairingEntry | undefined {
    return findByPhoneId(this.#state.pairings, phoneId);
  }

  /** The earliest time `tick` has something to do, or undefined. */
  nextDeadline(): number | undefined {
    const a = this.#attempt?.deadline;
    const w = this.#window?.closesAt;
    if (a === undefined) return w;
    if (w === undefined) return a;
    return Math.min(a, w);
  }

  /** Applies every timeout due at `now`: the 30 s attempt limit and the 180 s window. */
  tick(now: number): ToyPairingOutput[] {
    return this.#transaction(() => this.#expire(now));
  }

  /**
   * The paw was held for `holdMs`. Opens the window for 180 s (or restarts it) if the hold was
   * at least 3 s, the table is empty and pairing is not locked; otherwise says why not.
   */
  openWindowByPaw(now: number, holdMs: number): PawWindowResult {
    return this.#transaction(() => {
      const outputs = this.#expire(now);
      if (this.locked) return { opened: false, reason: 'LOCKED', outputs };
      if (!(holdMs >= PAW_HOLD_MS)) return { opened: false, reason: 'HOLD_TOO_SHORT', outputs };
      const pairings = this.#state.pairings;
      if (pairings.some((e) => !e.provisional)) return { opened: false, reason: 'TABLE_NOT_EMPTY', outputs };
      // Only phones that never opened a session (their ToyIdentity may never have arrived): the
      // owner holding the paw again starts over, as after a factory reset of the table alone.
      if (pairings.length > 0) this.#commit(withoutTagKey(this.#state), { pairings: [] });
      const closesAt = now + WINDOW_MS;
      this.#window = { closesAt, openedBy: 'paw', grantRole: 'admin', failures: this.#window?.failures ?? 0 };
      return { opened: true, closesAt, outputs };
    });
  }

  /**
   * An admin phone (authenticated by the session layer) opens the window for one more phone, which
   * will get `role`, for `durationMs` (1 s..180 s, whole seconds on the wire; default 180 s).
   * @throws PairingError `UNKNOWN_PHONE`, `NOT_ADMIN`, `BAD_ROLE`, `BAD_VALUE` (duration),
   *   `LOCKED`, `TABLE_FULL` or `WINDOW_ALREADY_OPEN`.
   */
  openWindowByAdmin(
    now: number,
    adminPhoneId: Uint8Array,
    role: Role,
    durationMs: number = WINDOW_MS,
  ): { closesAt: number; outputs: ToyPairingOutput[] } {
    return this.#transaction(() => {
      const outputs = this.#expire(now);
      requireAdmin(this.#state.pairings, adminPhoneId);
      if (role !== 'admin' && role !== 'member')
        throw new PairingError('BAD_ROLE', 'role must be admin or member');
      if (!Number.isInteger(durationMs) || durationMs < 1 || durationMs > WINDOW_MS) {
        throw new PairingError('BAD_VALUE', `window duration must be 1..${WINDOW_MS} ms`);
      }
      if (this.locked) throw new PairingError('LOCKED', 'pairing is locked until factory reset');
      if (!hasRoom(this.#state.pairings)) throw new PairingError('TABLE_FULL', 'the pairing table is full');
      if (this.#window) throw new PairingError('WINDOW_ALREADY_OPEN', 'the pairing window is already open');
      const closesAt = now + durationMs;
      this.#window = { closesAt, openedBy: 'admin', grantRole: role, failures: 0 };
      return { closesAt, outputs };
    });
  }

  /** Closes the window now (an admin cancelled it); an attempt in progress gets WINDOW_CLOSED. */
  closeWindow(): ToyPairingOutput[] {
    return this.#transaction(() => this.#closeWindow('cancelled', PairingStatusCode.WindowClosed));
  }

  /** The connection went away: its attempt (if any) ends, keeping any charge. */
  connectionClosed(connectionId: ConnectionId): ToyPairingOutput[] {
    return this.#transaction(() =>
      this.#attempt?.connectionId === connectionId ? this.#failAttempt('CONNECTION_CLOSED') : [],
    );
  }

  /**
   * One Pairing body received on `connectionId` at `now`.
   * @throws PairingError for rejected input (`TRUNCATED`, `TRAILING_BYTES`, `UNKNOWN_MESSAGE_TYPE`,
   *   `BAD_VALUE`, `UNEXPECTED_MESSAGE`), changing nothing; or `PERSIST_FAILED`, also undone.
   */
  handle(now: number, connectionId: ConnectionId, body: Uint8Array): ToyPairingOutput[] {
    const msg = decodePairingMessage(body);
    return this.#transaction(() => {
      const outputs = this.#expire(now);
      outputs.push(...this.#dispatch(now, connectionId, body, msg));
      return outputs;
    });
  }

  /**
   * The pairings, for an admin. @throws PairingError `UNKNOWN_PHONE` or `NOT_ADMIN`.
   */
  listPairings(requesterPhoneId: Uint8Array): PairingTable {
    return listPairings(this.#state.pairings, requesterPhoneId);
  }

  /**
   * An admin removes a pairing (possibly its own). Removing the last admin wipes the table and
   * deletes the tag key, and closes an open window; the result is persisted.
   * @throws PairingError `UNKNOWN_PHONE`, `NOT_ADMIN` or `PERSIST_FAILED`.
   */
  removePairing(
    requesterPhoneId: Uint8Array,
    targetPhoneId: Uint8Array,
  ): { wiped: boolean; outputs: ToyPairingOutput[] } {
    return this.#transaction(() => {
      const { table, wiped } = removePairing(this.#state.pairings, requesterPhoneId, targetPhoneId);
      // A wiped table takes the tag key with it: removed phones can no longer resolve the toy.
      this.#commit(wiped ? withoutTagKey(this.#state) : this.#state, { pairings: table });
      const outputs = wiped ? this.#closeWindow('table-wiped', PairingStatusCode.WindowClosed) : [];
      return { wiped, outputs };
    });
  }

  /**
   * The phone `phoneId` opened a session (Noise message 1 from it was accepted): it has the toy's
   * static key, so it received ToyIdentity. Its entry stops being provisional; persisted once.
   * @throws PairingError `UNKNOWN_PHONE` or `PERSIST_FAILED`.
   */
  confirmSession(phoneId: Uint8Array): void {
    this.#transaction(() => {
      const entry = findByPhoneId(this.#state.pairings, phoneId);
      if (!entry) throw new PairingError('UNKNOWN_PHONE', 'no such pairing');
      if (!entry.provisional) return;
      const { provisional: _, ...confirmed } = entry;
      this.#commit(this.#state, { pairings: this.#state.pairings.map((e) => (e === entry ? confirmed : e)) });
    });
  }

  /**
   * Factory reset: every pairing, the tag key and the failure counter are gone, the toy gets a new
   * id and the new static key its session layer generated; the verifier and discriminator (printed
   * on the toy) stay. Closes the window and ends any attempt. Persisted.
   */
  factoryReset(toyStaticPublicKey: Uint8Array): ToyPairingOutput[] {
    return this.#transaction(() => {
      const outputs = this.#closeWindow('factory-reset', PairingStatusCode.Aborted);
      this.#commit(factoryResetState(this.#state, toyStaticPublicKey, this.#random), {});
      return outputs;
    });
  }

  // -------------------------------------------------------------------------------------------

  /** Runs `fn`; if it throws, every field is put back as it was. */
  #transaction<T>(fn: () => T): T {
    const saved = { state: this.#state, window: this.#window, attempt: this.#attempt };
    try {
      return fn();
    } catch (e) {
      this.#state = saved.state;
      this.#window = saved.window;
      this.#attempt = saved.attempt;
      throw e;
    }
  }

  /** Persists `next` (with `overrides`) and makes it the current state. */
  #commit(next: ToyPairingState, overrides: Partial<ToyPairingState>): void {
    const state: ToyPairingState = { ...next, ...overrides };
    const encoded = encodeToyPairingState(state);
    try {
      this.#persist(encoded);
    } catch (e) {
      throw new PairingError('PERSIST_FAILED', 'could not persist the pairing state', { cause: e });
    }
    this.#state = state;
  }

  #expire(now: number): ToyPairingOutput[] {
    const outputs: ToyPairingOutput[] = [];
    if (this.#attempt && now >= this.#attempt.deadline) {
      outputs.push(...this.#failAttempt('TIMEOUT', PairingStatusCode.Timeout));
    }
    if (this.#window && now >= this.#window.closesAt) {
      outputs.push(...this.#closeWindow('expired', PairingStatusCode.WindowClosed));
    }
    return outputs;
  }

  #closeWindow(reason: WindowCloseReason, attemptStatus: PairingStatusCode): ToyPairingOutput[] {
    const outputs: ToyPairingOutput[] = [];
    if (this.#attempt) {
      outputs.push(...this.#failAttempt(STATUS_ERROR_CODES[attemptStatus], attemptStatus, false));
    }
    if (this.#window) {
      this.#window = undefined;
      outputs.push({ kind: 'window-closed', reason });
    }
    return outputs;
  }

  /**
   * Ends the attempt in progress: optional status to the phone, an `attempt-failed` event, then the
   * window closes if this was its 20th charged failure or the lifetime lock was reached.
   */
  #failAttempt(code: string, status?: PairingStatusCode, checkLimits = true): ToyPairingOutput[] {
    const attempt = this.#attempt;
    if (!attempt) return [];
    this.#attempt = undefined;
    const outputs: ToyPairingOutput[] = [];
    if (status !== undefined)
      outputs.push({ kind: 'send', connectionId: attempt.connectionId, body: statusBody(status) });
    outputs.push({ kind: 'attempt-failed', connectionId: attempt.connectionId, code });
    if (checkLimits && this.#window) {
      if (this.locked) {
        this.#window = undefined;
        outputs.push({ kind: 'window-closed', reason: 'locked' });
      } else if (this.#window.failures >= WINDOW_MAX_FAILURES) {
        this.#window = undefined;
        outputs.push({ kind: 'window-closed', reason: 'too-many-failures' });
      }
    }
    return outputs;
  }

  #dispatch(now: number, conn: ConnectionId, body: Uint8Array, msg: PairingMessage): ToyPairingOutput[] {
    switch (msg.type) {
      case PairingMessageType.PbkdfParamRequest:
        return this.#onRequest(now, conn, body, msg);
      case PairingMessageType.Pake1:
        return this.#onPake1(conn, msg);
      case PairingMessageType.Pake3:
        return this.#onPake3(conn, msg);
      case PairingMessageType.PhoneIdentity:
        return this.#onPhoneIdentity(conn, msg);
      case PairingMessageType.PairingStatus:
        if (this.#attempt?.connectionId !== conn) throw unexpected('PairingStatus without an attempt');
        return this.#failAttempt(STATUS_ERROR_CODES[msg.code]);
      default:
        throw unexpected('the toy never receives this pairing message');
    }
  }

  #onRequest(now: number, conn: ConnectionId, body: Uint8Array, msg: PbkdfParamRequest): ToyPairingOutput[] {
    if (this.#attempt?.connectionId === conn)
      throw unexpected('an attempt is already running on this connection');
    const refuse = (code: PairingStatusCode): ToyPairingOutput[] => [
      { kind: 'send', connectionId: conn, body: statusBody(code) },
    ];
    if (this.locked) return refuse(PairingStatusCode.Locked);
    if (!this.#window) return refuse(PairingStatusCode.WindowClosed);
    if (this.#attempt) return refuse(PairingStatusCode.Busy);
    if (msg.version !== PAIRING_VERSION) return refuse(PairingStatusCode.UnsupportedVersion);
    const { salt, iterations } = this.#state.verifier;
    const response = encodePairingMessage({
      type: PairingMessageType.PbkdfParamResponse,
      phoneRandom: msg.phoneRandom,
      toyRandom: this.#random(NONCE_LEN),
      iterations,
      salt,
    });
    this.#attempt = {
      phase: 'await-pake1',
      connectionId: conn,
      deadline: now + ATTEMPT_MS,
      context: pairingContext(body, response),
    };
    return [{ kind: 'send', connectionId: conn, body: response }];
  }

  #onPake1(conn: ConnectionId, msg: Pake1): ToyPairingOutput[] {
    const attempt = this.#attempt;
    if (attempt?.connectionId !== conn || attempt.phase !== 'await-pake1')
      throw unexpected('Pake1 not expected');
    if (this.locked) return this.#failAttempt('LOCKED', PairingStatusCode.Locked);
    const { w0: w0Bytes, L } = this.#state.verifier;
    const w0 = scalarFromBytes(w0Bytes);
    const y = randomScalar(this.#random);
    let response: ReturnType<typeof verifierRespond>;
    try {
      response = verifierRespond({ parties: pairingParties(attempt.context), w0, L, y, shareP: msg.shareP });
    } catch (e) {
      if (e instanceof PairingError) return this.#failAttempt(e.code, PairingStatusCode.InvalidMessage);
      throw e;
    }
    const { shareV, keys } = response;
    // Charge before Pake2 leaves: its confirmV lets the sender check one guess offline.
    this.#commit(this.#state, { lifetimeFailures: this.#state.lifetimeFailures + 1 });
    if (this.#window) this.#window = { ...this.#window, failures: this.#window.failures + 1 };
    const identityKeys = deriveIdentityKeys(keys.kShared);
    this.#attempt = {
      phase: 'await-pake3',
      connectionId: conn,
      deadline: attempt.deadline,
      keys,
      identityKeys,
    };
    this.#keyLog?.({
      side: 'toy',
      context: attempt.context,
      w0: w0Bytes,
      ephemeral: scalarToBytes(y),
      shareP: msg.shareP,
      shareV,
      ...keys,
      ...identityKeys,
    });
    const pake2 = encodePairingMessage({ type: PairingMessageType.Pake2, shareV, confirmV: keys.confirmV });
    return [{ kind: 'send', connectionId: conn, body: pake2 }];
  }

  #onPake3(conn: ConnectionId, msg: Pake3): ToyPairingOutput[] {
    const attempt = this.#attempt;
    if (attempt?.connectionId !== conn || attempt.phase !== 'await-pake3')
      throw unexpected('Pake3 not expected');
    if (!timingSafeEqual(msg.confirmP, attempt.keys.confirmP)) {
      return this.#failAttempt('BAD_CONFIRMATION', PairingStatusCode.BadConfirmation);
    }
    // The phone proved the code: credit the charge back.
    this.#commit(this.#state, { lifetimeFailures: Math.max(0, this.#state.lifetimeFailures - 1) });
    if (this.#window) this.#window = { ...this.#window, failures: Math.max(0, this.#window.failures - 1) };
    this.#attempt = {
      phase: 'await-phone-identity',
      connectionId: conn,
      deadline: attempt.deadline,
      identityKeys: attempt.identityKeys,
    };
    return [];
  }

  #onPhoneIdentity(conn: ConnectionId, msg: PhoneIdentity): ToyPairingOutput[] {
    const attempt = this.#attempt;
    if (attempt?.connectionId !== conn || attempt.phase !== 'await-phone-identity') {
      throw unexpected('PhoneIdentity not expected');
    }
    const window = this.#window;
    if (!window) return this.#failAttempt('WINDOW_CLOSED', PairingStatusCode.WindowClosed);
    let phone: ReturnType<typeof openPhoneIdentity>;
    try {
      phone = openPhoneIdentity(attempt.identityKeys, msg.sealed);
    } catch (e) {
      if (e instanceof PairingError) return this.#failAttempt(e.code, PairingStatusCode.InvalidMessage);
      throw e;
    }
    const table = this.#state.pairings;
    // The first phone of an empty table is admin whoever opened the window.
    const role: Role = table.length === 0 ? 'admin' : window.grantRole;
    let pairings: PairingTable;
    try {
      pairings = addPairing(table, { ...phone, role, provisional: true });
    } catch (e) {
      if (e instanceof PairingError && e.code === 'TABLE_FULL') {
        return this.#failAttempt('TABLE_FULL', PairingStatusCode.TableFull);
      }
      throw e;
    }
    const tagKey = this.#state.tagKey ?? this.#random(TAG_KEY_LEN);
    this.#commit(this.#state, { pairings, tagKey });
    const entry = findByPhoneId(pairings, phone.phoneId)!;
    const sealed = sealToyIdentity(attempt.identityKeys, {
      toyId: this.#state.toyId,
      toyStaticPublicKey: this.#state.toyStaticPublicKey,
      tagKey,
      role: entry.role,
    });
    this.#attempt = undefined;
    this.#window = undefined;
    return [
      {
        kind: 'send',
        connectionId: conn,
        body: encodePairingMessage({ type: PairingMessageType.ToyIdentity, sealed }),
      },
      { kind: 'paired', connectionId: conn, entry },
      { kind: 'window-closed', reason: 'paired' },
    ];
  }
}
