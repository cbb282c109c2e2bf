/**
 * Encrypted records: what every message after the Noise IK handshake travels in.
 *
 *     record = header (10 bytes) ‖ ChaCha20-Poly1305(k_dir, nonce(counter), ad = header, plaintext) ‖ tag (16)
 *     header = flags u8 (version 1 in bits 0-6, bit 7 set when sent by the toy)
 *            ‖ channel u8 (0 control, 1 audio) ‖ counter u64 little-endian
 *
 * One key and one counter per direction (Noise Split(): c1 phone → toy, c2 toy → phone). GATT
 * delivers in order, so the receiver accepts exactly the next counter: a replay, reorder, skipped
 * counter, reflected record, bad header, truncation or failed tag throws a SessionError with its own
 * code and closes the session for good (every later seal/open throws CLOSED). Nothing is ever
 * returned from a record that failed. See PROTOCOL.md, "Session layer: records".
 */
import { Reader, Writer } from '../bytes.js';
import { aeadOpen, aeadSeal } from '../crypto.js';
import { SessionError } from '../errors.js';
import {
  CIPHER_KEY_LEN,
  DEFAULT_REKEY_INTERVAL,
  MAX_RECORD_COUNTER,
  MAX_RECORD_LEN,
  MAX_RECORD_PLAINTEXT_LEN,
  RECORD_DIRECTION_RESPONDER,
  RECORD_HEADER_LEN,
  RECORD_OVERHEAD,
  RECORD_VERSION,
  RECORD_VERSION_MASK,
  RecordChannel,
} from './constants.js';
import { noiseNonce, rekey } from './noise.js';

/** Which end of the handshake a party was: the phone initiates, the toy responds. */
export type SessionRole = 'initiator' | 'responder';

/** The decoded 10-byte record header. */
export interface RecordHeader {
  /** Who sent the record (header byte 0, bit 7). */
  sender: SessionRole;
  channel: RecordChannel;
  /** The record's position in its direction: 0, 1, 2 ... (also the AEAD nonce). */
  counter: bigint;
}

const CHANNELS = new Set<number>(Object.values(RecordChannel));

export function isRecordChannel(value: number): value is RecordChannel {
  return CHANNELS.has(value);
}

/** Encodes a record header (the associated data of its record). */
export function encodeRecordHeader(header: RecordHeader): Uint8Array {
  if (!isRecordChannel(header.channel)) {
    throw new SessionError('BAD_CHANNEL', `unknown record channel ${header.channel}`);
  }
  const flags = RECORD_VERSION | (header.sender === 'responder' ? RECORD_DIRECTION_RESPONDER : 0);
  return new Writer(SessionError).u8(flags).u8(header.channel).u64(header.counter).finish();
}

/**
 * Decodes the header at the start of a record, checking the record's length bounds too: TRUNCATED
 * below 26 bytes (header + tag), RECORD_TOO_LARGE above 2047, BAD_VERSION, BAD_CHANNEL.
 */
export function decodeRecordHeader(record: Uint8Array): RecordHeader {
  if (record.length < RECORD_OVERHEAD) {
    throw new SessionError(
      'TRUNCATED',
      `a record is at least ${RECORD_OVERHEAD} bytes (header + tag), got ${record.length}`,
    );
  }
  if (record.length > MAX_RECORD_LEN) {
    throw new SessionError(
      'RECORD_TOO_LARGE',
      `a record is at most ${MAX_RECORD_LEN} bytes, got ${record.length}`,
    );
  }
  const r = new Reader(record.subarray(0, RECORD_HEADER_LEN), SessionError, 'record header');
  const flags = r.u8();
  const channel = r.u8();
  const counter = r.u64();
  if ((flags & RECORD_VERSION_MASK) !== RECORD_VERSION) {
    throw new SessionError('BAD_VERSION', `unsupported record version ${flags & RECORD_VERSION_MASK}`);
  }
  if (!isRecordChannel(channel)) throw new SessionError('BAD_CHANNEL', `unknown record channel ${channel}`);
  return {
    sender: (flags & RECORD_DIRECTION_RESPONDER) !== 0 ? 'responder' : 'initiator',
    channel,
    counter,
  };
}

/** A record that opened: its channel, plaintext and counter. */
export interface OpenedRecord {
  channel: RecordChannel;
  plaintext: Uint8Array;
  counter: bigint;
}

export interface SecureSessionOptions {
  role: SessionRole;
  /** 32-byte key for records this party sends (initiator: Split() c1; responder: c2). Copied. */
  sendKey: Uint8Array;
  /** 32-byte key for records this party receives. Copied. */
  receiveKey: Uint8Array;
  /** The Noise handshake hash h (channel binding, Noise §11.2). */
  handshakeHash: Uint8Array;
  /** The peer's static X25519 public key, authenticated by the handshake. */
  remoteStaticKey: Uint8Array;
  /**
   * Records per direction between REKEYs: 1 ≤ interval ≤ 2^64-1, default 2^32 (DEFAULT_REKEY_INTERVAL).
   * Both sides must use the same value; only tests change it.
   */
  rekeyInterval?: bigint;
}

/**
 * The transport phase of one PawLink connection. Normally made by `SessionInitiator.readMessage2`
 * or `SessionResponder.writeMessage2`; the constructor is public for tests and tools.
 */
export class SecureSession {
  readonly role: SessionRole;
  private sendKey: Uint8Array;
  private receiveKey: Uint8Array;
  private sendCounterValue = 0n;
  private receiveCounterValue = 0n;
  private readonly rekeyInterval: bigint;
  private readonly hash: Uint8Array;
  private readonly remoteStatic: Uint8Array;
  private closeCode: string | undefined;

  constructor(options: SecureSessionOptions) {
    if (options.sendKey.length !== CIPHER_KEY_LEN || options.receiveKey.length !== CIPHER_KEY_LEN) {
      throw new SessionError('BAD_KEY', `record keys must be ${CIPHER_KEY_LEN} bytes`);
    }
    const interval = options.rekeyInterval ?? DEFAULT_REKEY_INTERVAL;
    if (interval < 1n || interval > MAX_RECORD_COUNTER + 1n) {
      throw new SessionError('BAD_CONFIG', `rekey interval ${interval} is outside 1..2^64-1`);
    }
    this.role = options.role;
    this.sendKey = options.sendKey.slice();
    this.receiveKey = options.receiveKey.slice();
    this.rekeyInterval = interval;
    this.hash = options.handshakeHash.slice();
    this.remoteStatic = options.remoteStaticKey.slice();
  }

  /** The Noise handshake hash h: identical on both ends, unique to this session (Noise §11.2). */
  get handshakeHash(): Uint8Array {
    return this.hash.slice();
  }

  /** The peer's static public key (the phone's for the toy, the toy's for the phone). */
  get remoteStaticKey(): Uint8Array {
    return this.remoteStatic.slice();
  }

  /** Counter of the next record this party will seal. */
  get sendCounter(): bigint {
    return this.sendCounterValue;
  }

  /** Counter the next record from the peer must carry. */
  get receiveCounter(): bigint {
    return this.receiveCounterValue;
  }

  /**
   * True once a record from the peer has opened. For the toy this is the moment the phone is proven
   * live: message 1 alone may be a replay (Noise §7.7), but a record needs keys mixed with the toy's
   * fresh ephemeral. The toy's unauthenticated-connection timer keeps running until then.
   */
  get peerConfirmed(): boolean {
    return this.receiveCounterValue > 0n;
  }

  get isClosed(): boolean {
    return this.closeCode !== undefined;
  }

  /** Why the session closed: the code of the error that closed it, or `CLOSED` after `close()`. */
  get closeReason(): string | undefined {
    return this.closeCode;
  }

  /**
   * Encrypts one message into one record. Local mistakes (unknown channel, plaintext over
   * MAX_RECORD_PLAINTEXT_LEN) throw without changing anything; sealing on a closed session throws
   * CLOSED.
   */
  seal(channel: RecordChannel, plaintext: Uint8Array): Uint8Array {
    this.assertOpen();
    if (!isRecordChannel(channel)) throw new SessionError('BAD_CHANNEL', `unknown record channel ${channel}`);
    if (plaintext.length > MAX_RECORD_PLAINTEXT_LEN) {
      throw new SessionError(
        'PLAINTEXT_TOO_LARGE',
        `a record carries at most ${MAX_RECORD_PLAINTEXT_LEN} plaintext bytes, got ${plaintext.length}`,
      );
    }
    const counter = this.sendCounterValue;
    if (counter > MAX_RECORD_COUNTER) this.fail('COUNTER_EXHAUSTED', 'no record counters left: reconnect');
    const header = encodeRecordHeader({ sender: this.role, channel, counter });
    const sealed = aeadSeal(this.sendKey, noiseNonce(counter), plaintext, header);
    const record = new Uint8Array(RECORD_HEADER_LEN + sealed.length);
    record.set(header, 0);
    record.set(sealed, RECORD_HEADER_LEN);
    this.sendCounterValue = counter + 1n;
    if (this.sendCounterValue % this.rekeyInterval === 0n) this.sendKey = this.rekeyed(this.sendKey);
    return record;
  }

  /**
   * Authenticates and decrypts the next record from the peer. Any failure throws a SessionError and
   * closes the session; nothing from a failed record is returned.
   */
  open(record: Uint8Array): OpenedRecord {
    this.assertOpen();
    let header: RecordHeader;
    try {
      header = decodeRecordHeader(record);
    } catch (err) {
      if (err instanceof SessionError) this.fail(err.code, err.message);
      throw err;
    }
    if (header.sender === this.role) {
      this.fail('REFLECTED', 'record was sent by this party (reflected back)');
    }
    const expected = this.receiveCounterValue;
    if (expected > MAX_RECORD_COUNTER) this.fail('COUNTER_EXHAUSTED', 'no record counters left: reconnect');
    if (header.counter < expected) {
      this.fail('REPLAY', `record counter ${header.counter} was already received (expected ${expected})`);
    }
    if (header.counter > expected) {
      this.fail(
        'COUNTER_GAP',
        `record counter ${header.counter} skips ahead of ${expected} (lost or reordered)`,
      );
    }
    const plaintext = aeadOpen(
      this.receiveKey,
      noiseNonce(expected),
      record.subarray(RECORD_HEADER_LEN),
      record.subarray(0, RECORD_HEADER_LEN),
    );
    if (plaintext === null) this.fail('AUTH_FAILED', 'record failed authentication');
    this.receiveCounterValue = expected + 1n;
    if (this.receiveCounterValue % this.rekeyInterval === 0n) this.receiveKey = this.rekeyed(this.receiveKey);
    return { channel: header.channel, plaintext, counter: expected };
  }

  /** Ends the session (e.g. on disconnect): keys are overwritten, later calls throw CLOSED. Idempotent. */
  close(): void {
    if (this.closeCode === undefined) this.closeCode = 'CLOSED';
    this.sendKey.fill(0);
    this.receiveKey.fill(0);
  }

  private assertOpen(): void {
    if (this.closeCode !== undefined) {
      throw new SessionError('CLOSED', `session is closed (${this.closeCode})`);
    }
  }

  /** Closes the session for good with `code`, then throws it. */
  private fail(code: string, message: string): never {
    this.closeCode = code;
    this.sendKey.fill(0);
    this.receiveKey.fill(0);
    throw new SessionError(code, message);
  }

  private rekeyed(key: Uint8Array): Uint8Array {
    const next = rekey(key);
    key.fill(0);
    return next;
  }
}
