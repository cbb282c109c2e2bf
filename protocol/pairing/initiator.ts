/**
 * The phone's side of pairing (SPAKE2+ prover). Single use: one instance runs one attempt.
 * Synchronous and pure: bodies in, bodies out; time is a `now` argument, randomness injected.
 * PROTOCOL.md, Pairing: "Phone state machine".
 *
 *   phone                                  toy
 *   start()        PbkdfParamRequest  ─▶
 *                  ◀─ PbkdfParamResponse
 *   handle() → PBKDF2, x, X
 *                  Pake1 (X)          ─▶
 *                  ◀─ Pake2 (Y, confirmV)
 *   handle() → checks confirmV
 *                  Pake3 (confirmP)   ─▶
 *                  PhoneIdentity      ─▶    (sent together, without waiting)
 *                  ◀─ ToyIdentity
 *   handle() → PairingResult
 *
 * Error contract: rejected input (undecodable bytes, a message not expected now) throws
 * `PairingError` and changes nothing. A terminal failure (the toy's PairingStatus, an invalid share,
 * a wrong confirmV, an identity that does not decrypt, the 30 s deadline) throws `PairingError`
 * with that code and moves to phase `failed`, dropping every secret; `failureReply` then holds the
 * PairingStatus body to send the toy, if one is due.
 */
import { timingSafeEqual } from '../crypto.js';
import { PairingError } from '../errors.js';
import type { RandomSource } from '../random.js';
import { ATTEMPT_MS, NONCE_LEN, PAIRING_VERSION } from './constants.js';
import {
  deriveIdentityKeys,
  deriveSetupScalars,
  type IdentityKeys,
  type KeyLog,
  openToyIdentity,
  pairingContext,
  pairingParties,
  sealPhoneIdentity,
} from './keys.js';
import {
  decodePairingMessage,
  encodePairingMessage,
  encodePhoneIdentityPayload,
  type PairingMessage,
  PairingMessageType,
  PairingStatusCode,
  type Pake2,
  type PbkdfParamResponse,
  type PhoneIdentityPayload,
  STATUS_ERROR_CODES,
  type ToyIdentity,
} from './messages.js';
import { parseSetupCode } from './setup-code.js';
import { computeShareP, proverFinish, randomScalar, scalarToBytes } from './spake2plus.js';
import type { Role } from './table.js';

export interface PairingInitiatorOptions {
  /** The code as the user typed or scanned it; normalised and checked by parseSetupCode. */
  readonly setupCode: string;
  /** This phone's 16-byte id. */
  readonly phoneId: Uint8Array;
  /** This phone's static X25519 public key (its private key stays with the session layer). */
  readonly phoneStaticPublicKey: Uint8Array;
  /** Display name shown in the owner's pairing list, ≤ 32 UTF-8 bytes. Default empty. */
  readonly name?: string;
  readonly random: RandomSource;
  /** Receives the attempt's secrets (test vectors, debugging). Never set it in production. */
  readonly keyLog?: KeyLog;
}

/** What the phone keeps after a successful pairing. */
export interface PairingResult {
  readonly toyId: Uint8Array;
  /** The toy's static X25519 public key: the Noise IK responder key for every later session. */
  readonly toyStaticPublicKey: Uint8Array;
  /** The key that resolves the toy's rotating advertising tag. */
  readonly tagKey: Uint8Array;
  /** The role the toy granted this phone. */
  readonly role: Role;
}

/** Bodies to send (each in a link message of type `LinkType.Pairing`, in order), and the result when done. */
export interface InitiatorStep {
  readonly send: Uint8Array[];
  readonly result?: PairingResult;
}

export type InitiatorPhase =
  | 'idle'
  | 'await-pbkdf-response'
  | 'await-pake2'
  | 'await-toy-identity'
  | 'done'
  | 'failed';

interface Secrets {
  request?: Uint8Array;
  phoneRandom?: Uint8Array;
  context?: Uint8Array;
  w0?: bigint;
  w1?: bigint;
  x?: bigint;
  shareP?: Uint8Array;
  identityKeys?: IdentityKeys;
}

function unexpected(what: string): PairingError {
  return new PairingError('UNEXPECTED_MESSAGE', what);
}

function statusBody(code: PairingStatusCode): Uint8Array {
  return encodePairingMessage({ type: PairingMessageType.PairingStatus, code });
}

export class PairingInitiator {
  #phase: InitiatorPhase = 'idle';
  #deadline: number | undefined;
  #secrets: Secrets = {};
  #failureReply: Uint8Array | undefined;
  readonly #code: string;
  readonly #identity: PhoneIdentityPayload;
  readonly #random: RandomSource;
  readonly #keyLog: KeyLog | undefined;

  /**
   * @throws PairingError `BAD_SETUP_CODE` / `FORBIDDEN_SETUP_CODE` for the code, `BAD_VALUE` for an
   *   identity field of the wrong size or a name over 32 UTF-8 bytes.
   */
  constructor(options: PairingInitiatorOptions) {
    this.#code = parseSetupCode(options.setupCode);
    this.#identity = {
      phoneId: options.phoneId.slice(),
      phoneStaticPublicKey: options.phoneStaticPublicKey.slice(),
      name: options.name ?? '',
    };
    encodePhoneIdentityPayload(this.#identity);
    this.#random = options.random;
    this.#keyLog = options.keyLog;
  }

  get phase(): InitiatorPhase {
    return this.#phase;
  }

  /** After a terminal failure: the PairingStatus body to send the toy, or undefined if none is due. */
  get failureReply(): Uint8Array | undefined {
    return this.#failureReply;
  }

  /** The attempt's deadline (start + 30 s) while it runs. */
  nextDeadline(): number | undefined {
    return this.#phase === 'done' || this.#phase === 'failed' ? undefined : this.#deadline;
  }

  /**
   * Fails the attempt with `TIMEOUT` if its deadline has passed; returns that error (also kept in
   * phase `failed`, with a Timeout status in `failureReply`), or undefined.
   */
  tick(now: number): PairingError | undefined {
    if (this.#deadline === undefined || this.nextDeadline() === undefined || now < this.#deadline)
      return undefined;
    return this.#fail('TIMEOUT', 'pairing took longer than 30 s', PairingStatusCode.Timeout);
  }

  /**
   * Starts the attempt: returns the PbkdfParamRequest body.
   * @throws PairingError `UNEXPECTED_MESSAGE` if already started.
   */
  start(now: number): Uint8Array {
    if (this.#phase !== 'idle') throw unexpected('pairing already started');
    const phoneRandom = this.#random(NONCE_LEN);
    const request = encodePairingMessage({
      type: PairingMessageType.PbkdfParamRequest,
      version: PAIRING_VERSION,
      phoneRandom,
    });
    this.#secrets = { request, phoneRandom };
    this.#deadline = now + ATTEMPT_MS;
    this.#phase = 'await-pbkdf-response';
    return request;
  }

  /** Gives up (user cancelled): the PairingStatus(Aborted) body to send, or undefined if not running. */
  abort(): Uint8Array | undefined {
    if (this.nextDeadline() === undefined) return undefined;
    this.#fail('ABORTED', 'pairing aborted', PairingStatusCode.Aborted);
    return this.#failureReply;
  }

  /** One Pairing body from the toy. See the error contract above. */
  handle(now: number, body: Uint8Array): InitiatorStep {
    const msg = decodePairingMessage(body);
    if (this.#phase === 'idle' || this.#phase === 'done' || this.#phase === 'failed') {
      throw unexpected(`no pairing message expected in phase ${this.#phase}`);
    }
    if (this.#deadline !== undefined && now >= this.#deadline) {
      throw this.#fail('TIMEOUT', 'pairing took longer than 30 s', PairingStatusCode.Timeout);
    }
    return this.#dispatch(body, msg);
  }

  #dispatch(body: Uint8Array, msg: PairingMessage): InitiatorStep {
    switch (msg.type) {
      case PairingMessageType.PairingStatus:
        throw this.#fail(
          STATUS_ERROR_CODES[msg.code],
          `the toy ended pairing: ${STATUS_ERROR_CODES[msg.code]}`,
        );
      case PairingMessageType.PbkdfParamResponse:
        if (this.#phase !== 'await-pbkdf-response') throw unexpected('PbkdfParamResponse not expected');
        return this.#onResponse(body, msg);
      case PairingMessageType.Pake2:
        if (this.#phase !== 'await-pake2') throw unexpected('Pake2 not expected');
        return this.#onPake2(msg);
      case PairingMessageType.ToyIdentity:
        if (this.#phase !== 'await-toy-identity') throw unexpected('ToyIdentity not expected');
        return this.#onToyIdentity(msg);
      default:
        throw unexpected('the phone never receives this pairing message');
    }
  }

  #onResponse(body: Uint8Array, msg: PbkdfParamResponse): InitiatorStep {
    const s = this.#secrets;
    if (!timingSafeEqual(msg.phoneRandom, s.phoneRandom!)) {
      throw unexpected('PbkdfParamResponse does not answer this request');
    }
    const context = pairingContext(s.request!, body);
    const { w0, w1 } = deriveSetupScalars(this.#code, msg.salt, msg.iterations);
    const x = randomScalar(this.#random);
    const shareP = computeShareP(w0, x);
    this.#secrets = { context, w0, w1, x, shareP };
    this.#phase = 'await-pake2';
    return { send: [encodePairingMessage({ type: PairingMessageType.Pake1, shareP })] };
  }

  #onPake2(msg: Pake2): InitiatorStep {
    const { context, w0, w1, x, shareP } = this.#secrets;
    let keys: ReturnType<typeof proverFinish>;
    try {
      keys = proverFinish({
        parties: pairingParties(context!),
        w0: w0!,
        w1: w1!,
        x: x!,
        shareP: shareP!,
        shareV: msg.shareV,
      });
    } catch (e) {
      if (e instanceof PairingError) throw this.#fail(e.code, e.message, PairingStatusCode.InvalidMessage);
      throw e;
    }
    if (!timingSafeEqual(msg.confirmV, keys.confirmV)) {
      throw this.#fail(
        'BAD_CONFIRMATION',
        'the toy could not confirm the key: wrong setup code or a man in the middle',
        PairingStatusCode.BadConfirmation,
      );
    }
    const identityKeys = deriveIdentityKeys(keys.kShared);
    this.#keyLog?.({
      side: 'phone',
      context: context!,
      w0: scalarToBytes(w0!),
      w1: scalarToBytes(w1!),
      ephemeral: scalarToBytes(x!),
      shareP: shareP!,
      shareV: msg.shareV,
      ...keys,
      ...identityKeys,
    });
    this.#secrets = { identityKeys };
    this.#phase = 'await-toy-identity';
    const pake3 = encodePairingMessage({ type: PairingMessageType.Pake3, confirmP: keys.confirmP });
    const phoneIdentity = encodePairingMessage({
      type: PairingMessageType.PhoneIdentity,
      sealed: sealPhoneIdentity(identityKeys, this.#identity),
    });
    return { send: [pake3, phoneIdentity] };
  }

  #onToyIdentity(msg: ToyIdentity): InitiatorStep {
    let toy: ReturnType<typeof openToyIdentity>;
    try {
      toy = openToyIdentity(this.#secrets.identityKeys!, msg.sealed);
    } catch (e) {
      if (e instanceof PairingError) throw this.#fail(e.code, e.message, PairingStatusCode.InvalidMessage);
      throw e;
    }
    this.#secrets = {};
    this.#phase = 'done';
    return { send: [], result: toy };
  }

  /** Terminal failure: drop every secret, remember the reply for the toy, return the error to throw. */
  #fail(code: string, message: string, reply?: PairingStatusCode): PairingError {
    this.#secrets = {};
    this.#phase = 'failed';
    this.#failureReply = reply === undefined ? undefined : statusBody(reply);
    return new PairingError(code, message);
  }
}
