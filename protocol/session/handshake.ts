/**
 * PawLink's use of Noise_IK_25519_ChaChaPoly_SHA256 on each connection: the phone (initiator) knows
 * the toy's static key from pairing; the toy (responder) learns which paired phone it is from message
 * 1 and refuses a phone that is not in its pairing table.
 *
 *     phone                                            toy
 *     SessionInitiator.writeMessage1() ── Handshake 0x01 ──▶ SessionResponder.readMessage1()
 *     SessionInitiator.readMessage2()  ◀── Handshake 0x02 ── SessionResponder.writeMessage2()
 *     SecureSession (send c1, receive c2)                   SecureSession (send c2, receive c1)
 *
 * Messages here are the *body* of a LinkType.Handshake link message (protocol/link.ts): one type byte,
 * then the Noise message. Both state machines fail closed: any error moves them to `failed`, their
 * secrets are overwritten and every later call throws CLOSED (Noise §5: a failed handshake is deleted).
 * Local argument mistakes (a payload that is too large) throw without changing anything.
 */
import { concat, utf8, Writer } from '../bytes.js';
import { SessionError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  HANDSHAKE_TYPE_LEN,
  HandshakeMessageType,
  IK_MESSAGE1_OVERHEAD,
  IK_MESSAGE2_OVERHEAD,
  MAX_FRAMING_TRANSCRIPT_LEN,
  MAX_HANDSHAKE_PAYLOAD_LEN,
  MAX_TOY_ID_LEN,
  PROLOGUE_LABEL,
} from './constants.js';
import { type KeyPair, NoiseIkHandshake } from './noise.js';
import { SecureSession } from './records.js';

const EMPTY = new Uint8Array(0);

// --- Prologue ------------------------------------------------------------------------------------

/**
 * The Noise prologue for one PawLink connection (Noise §6): both ends must build identical bytes or
 * message 1 fails to decrypt, so a man in the middle cannot downgrade the protocol version, alter the
 * framing negotiation, or splice a handshake meant for another toy.
 *
 *     "PawLink session" (15 ASCII bytes) ‖ protocolVersion u8
 *       ‖ u16 LE length ‖ framingTranscript (BTP handshake request ‖ response, as sent)
 *       ‖ u8 length ‖ toyId
 */
export function sessionPrologue(
  protocolVersion: number,
  framingTranscript: Uint8Array,
  toyId: Uint8Array,
): Uint8Array {
  if (!Number.isInteger(protocolVersion) || protocolVersion < 0 || protocolVersion > 0xff) {
    throw new SessionError('OUT_OF_RANGE', `protocol version ${protocolVersion} is outside 0..255`);
  }
  if (framingTranscript.length > MAX_FRAMING_TRANSCRIPT_LEN) {
    throw new SessionError('OUT_OF_RANGE', 'framing transcript longer than 65535 bytes');
  }
  if (toyId.length < 1 || toyId.length > MAX_TOY_ID_LEN) {
    throw new SessionError('OUT_OF_RANGE', `toy id must be 1..${MAX_TOY_ID_LEN} bytes, got ${toyId.length}`);
  }
  return new Writer(SessionError)
    .bytes(utf8.encode(PROLOGUE_LABEL))
    .u8(protocolVersion)
    .bytes16(framingTranscript)
    .bytes8(toyId)
    .finish();
}

// --- Handshake message codec ---------------------------------------------------------------------

/** A decoded LinkType.Handshake body: which IK message, and the Noise message bytes. */
export interface HandshakeMessage {
  type: HandshakeMessageType;
  /** The Noise handshake message: message 1 is 96 + payload bytes, message 2 is 48 + payload bytes. */
  noise: Uint8Array;
}

function noiseLengthBounds(type: HandshakeMessageType): [number, number] {
  const overhead = type === HandshakeMessageType.Message1 ? IK_MESSAGE1_OVERHEAD : IK_MESSAGE2_OVERHEAD;
  return [overhead, overhead + MAX_HANDSHAKE_PAYLOAD_LEN];
}

/** Encodes a LinkType.Handshake body: type u8 ‖ Noise message. */
export function encodeHandshakeMessage(message: HandshakeMessage): Uint8Array {
  if (message.type !== HandshakeMessageType.Message1 && message.type !== HandshakeMessageType.Message2) {
    throw new SessionError('BAD_MESSAGE_TYPE', `unknown handshake message type ${message.type}`);
  }
  const [min, max] = noiseLengthBounds(message.type);
  if (message.noise.length < min || message.noise.length > max) {
    throw new SessionError('BAD_LENGTH', `handshake message ${message.type} must be ${min}..${max} bytes`);
  }
  return concat(Uint8Array.of(message.type), message.noise);
}

/**
 * Decodes a LinkType.Handshake body. Checks the type byte and that the Noise message length fits
 * the IK pattern with a payload of at most MAX_HANDSHAKE_PAYLOAD_LEN bytes.
 */
export function decodeHandshakeMessage(body: Uint8Array): HandshakeMessage {
  if (body.length < HANDSHAKE_TYPE_LEN) throw new SessionError('TRUNCATED', 'empty handshake message');
  const type = body[0]!;
  if (type !== HandshakeMessageType.Message1 && type !== HandshakeMessageType.Message2) {
    throw new SessionError('BAD_MESSAGE_TYPE', `unknown handshake message type 0x${type.toString(16)}`);
  }
  const noise = body.slice(HANDSHAKE_TYPE_LEN);
  const [min, max] = noiseLengthBounds(type);
  if (noise.length < min) {
    throw new SessionError(
      'TRUNCATED',
      `handshake message ${type} needs at least ${min} bytes, got ${noise.length}`,
    );
  }
  if (noise.length > max) {
    throw new SessionError('BAD_LENGTH', `handshake message ${type} is longer than ${max} bytes`);
  }
  return { type, noise };
}

function checkPayload(payload: Uint8Array): void {
  if (payload.length > MAX_HANDSHAKE_PAYLOAD_LEN) {
    throw new SessionError(
      'PAYLOAD_TOO_LARGE',
      `handshake payloads are at most ${MAX_HANDSHAKE_PAYLOAD_LEN} bytes, got ${payload.length}`,
    );
  }
}

function expectType(body: Uint8Array, type: HandshakeMessageType): Uint8Array {
  const message = decodeHandshakeMessage(body);
  if (message.type !== type) {
    throw new SessionError('UNEXPECTED_MESSAGE', `expected handshake message ${type}, got ${message.type}`);
  }
  return message.noise;
}

// --- Initiator (phone) ---------------------------------------------------------------------------

export interface SessionInitiatorOptions {
  /** The phone's static X25519 key pair (its identity, given to the toy at pairing). */
  staticKeyPair: KeyPair;
  /** The toy's static X25519 public key, learnt at pairing. */
  toyStaticPublicKey: Uint8Array;
  /** `sessionPrologue(...)` for this connection. */
  prologue: Uint8Array;
  /** Source of the ephemeral key (32 bytes drawn by writeMessage1). */
  random: RandomSource;
  /** Records per direction between rekeys; tests only (default 2^32). */
  rekeyInterval?: bigint;
}

export type SessionInitiatorState = 'start' | 'awaitingMessage2' | 'established' | 'failed';

/** The phone's side of the handshake. */
export class SessionInitiator {
  private noise: NoiseIkHandshake | undefined;
  private stateValue: SessionInitiatorState = 'start';
  private failure: string | undefined;
  private readonly rekeyInterval: bigint | undefined;

  constructor(options: SessionInitiatorOptions) {
    this.noise = new NoiseIkHandshake({
      initiator: true,
      prologue: options.prologue,
      staticKeyPair: options.staticKeyPair,
      remoteStaticKey: options.toyStaticPublicKey,
      random: options.random,
    });
    this.rekeyInterval = options.rekeyInterval;
  }

  get state(): SessionInitiatorState {
    return this.stateValue;
  }

  /** The code of the error that failed the handshake, if it failed. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /** Writes message 1 (`-> e, es, s, ss` + payload) as a LinkType.Handshake body. */
  writeMessage1(payload: Uint8Array = EMPTY): Uint8Array {
    const noise = this.expectState('start');
    checkPayload(payload);
    try {
      const message = encodeHandshakeMessage({
        type: HandshakeMessageType.Message1,
        noise: noise.writeMessage(payload),
      });
      this.stateValue = 'awaitingMessage2';
      return message;
    } catch (err) {
      this.abandon(err);
      throw err;
    }
  }

  /**
   * Reads message 2 (`<- e, ee, se` + payload). On success the toy has proven it holds the static
   * key the phone expected, and the returned session is ready for records.
   */
  readMessage2(body: Uint8Array): { payload: Uint8Array; session: SecureSession } {
    const noise = this.expectState('awaitingMessage2');
    try {
      const payload = noise.readMessage(expectType(body, HandshakeMessageType.Message2));
      const session = establish(noise, 'initiator', this.rekeyInterval);
      this.noise = undefined;
      this.stateValue = 'established';
      return { payload, session };
    } catch (err) {
      this.abandon(err);
      throw err;
    }
  }

  private expectState(state: SessionInitiatorState): NoiseIkHandshake {
    if (this.stateValue === 'failed') {
      throw new SessionError('CLOSED', `handshake failed earlier (${this.failure})`);
    }
    if (this.stateValue !== state || this.noise === undefined) {
      throw new SessionError('BAD_STATE', `initiator is in state ${this.stateValue}, not ${state}`);
    }
    return this.noise;
  }

  private abandon(err: unknown): void {
    this.failure = err instanceof SessionError ? err.code : 'INTERNAL';
    this.stateValue = 'failed';
    this.noise?.destroy();
    this.noise = undefined;
  }
}

// --- Responder (toy) -----------------------------------------------------------------------------

export interface SessionResponderOptions<Phone> {
  /** The toy's static X25519 key pair. */
  staticKeyPair: KeyPair;
  /** `sessionPrologue(...)` for this connection. */
  prologue: Uint8Array;
  /** Source of the ephemeral key (32 bytes drawn by writeMessage2). */
  random: RandomSource;
  /**
   * The pairing table: what the toy knows about the phone with this static public key, or undefined
   * if no such phone is paired (the handshake then fails with UNKNOWN_PHONE).
   */
  lookupPhone: (phoneStaticPublicKey: Uint8Array) => Phone | undefined;
  /** Records per direction between rekeys; tests only (default 2^32). */
  rekeyInterval?: bigint;
}

export type SessionResponderState = 'awaitingMessage1' | 'readyToRespond' | 'established' | 'failed';

/** What message 1 told the toy. */
export interface Message1Result<Phone> {
  /** The pairing-table entry returned by `lookupPhone`. */
  phone: Phone;
  /** The phone's static public key, proven by the `ss` DH and the payload tag. */
  phoneStaticPublicKey: Uint8Array;
  /** Message 1's payload. It can be replayed by an attacker: never act on it (see PROTOCOL.md). */
  payload: Uint8Array;
}

/** The toy's side of the handshake. */
export class SessionResponder<Phone> {
  private noise: NoiseIkHandshake | undefined;
  private stateValue: SessionResponderState = 'awaitingMessage1';
  private failure: string | undefined;
  private readonly lookupPhone: (phoneStaticPublicKey: Uint8Array) => Phone | undefined;
  private readonly rekeyInterval: bigint | undefined;

  constructor(options: SessionResponderOptions<Phone>) {
    this.noise = new NoiseIkHandshake({
      initiator: false,
      prologue: options.prologue,
      staticKeyPair: options.staticKeyPair,
      random: options.random,
    });
    this.lookupPhone = options.lookupPhone;
    this.rekeyInterval = options.rekeyInterval;
  }

  get state(): SessionResponderState {
    return this.stateValue;
  }

  /** The code of the error that failed the handshake, if it failed. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /**
   * Reads message 1 (`-> e, es, s, ss` + payload), then looks the phone's static key up in the
   * pairing table: a phone that is not there fails the handshake with UNKNOWN_PHONE.
   */
  readMessage1(body: Uint8Array): Message1Result<Phone> {
    const noise = this.expectState('awaitingMessage1');
    try {
      const payload = noise.readMessage(expectType(body, HandshakeMessageType.Message1));
      const phoneStaticPublicKey = noise.remoteStaticKey!;
      const phone = this.lookupPhone(phoneStaticPublicKey.slice());
      if (phone === undefined) {
        throw new SessionError('UNKNOWN_PHONE', 'the phone is not in the pairing table');
      }
      this.stateValue = 'readyToRespond';
      return { phone, phoneStaticPublicKey, payload };
    } catch (err) {
      this.abandon(err);
      throw err;
    }
  }

  /** Writes message 2 (`<- e, ee, se` + payload) and returns it with the established session. */
  writeMessage2(payload: Uint8Array = EMPTY): { message: Uint8Array; session: SecureSession } {
    const noise = this.expectState('readyToRespond');
    checkPayload(payload);
    try {
      const message = encodeHandshakeMessage({
        type: HandshakeMessageType.Message2,
        noise: noise.writeMessage(payload),
      });
      const session = establish(noise, 'responder', this.rekeyInterval);
      this.noise = undefined;
      this.stateValue = 'established';
      return { message, session };
    } catch (err) {
      this.abandon(err);
      throw err;
    }
  }

  private expectState(state: SessionResponderState): NoiseIkHandshake {
    if (this.stateValue === 'failed') {
      throw new SessionError('CLOSED', `handshake failed earlier (${this.failure})`);
    }
    if (this.stateValue !== state || this.noise === undefined) {
      throw new SessionError('BAD_STATE', `responder is in state ${this.stateValue}, not ${state}`);
    }
    return this.noise;
  }

  private abandon(err: unknown): void {
    this.failure = err instanceof SessionError ? err.code : 'INTERNAL';
    this.stateValue = 'failed';
    this.noise?.destroy();
    this.noise = undefined;
  }
}

/**
 * Turns a completed handshake into the session: Split() gives c1 (initiator → responder) and c2
 * (responder → initiator), so each side sends with its own direction's key; then every handshake
 * secret is erased.
 */
function establish(
  noise: NoiseIkHandshake,
  role: 'initiator' | 'responder',
  rekeyInterval: bigint | undefined,
): SecureSession {
  const handshakeHash = noise.handshakeHash;
  const remoteStaticKey = noise.remoteStaticKey!;
  const [c1, c2] = noise.split();
  const [send, receive] = role === 'initiator' ? [c1, c2] : [c2, c1];
  const session = new SecureSession({
    role,
    sendKey: send.exportKey(),
    receiveKey: receive.exportKey(),
    handshakeHash,
    remoteStaticKey,
    rekeyInterval,
  });
  c1.destroy();
  c2.destroy();
  noise.destroy();
  return session;
}
