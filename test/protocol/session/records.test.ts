import { describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { SessionError } from '../../../protocol/errors.js';
import { encodeLink, LinkType } from '../../../protocol/link.js';
import {
  MAX_RECORD_LEN,
  MAX_RECORD_PLAINTEXT_LEN,
  MAX_SDU_LEN,
  RECORD_OVERHEAD,
  RecordChannel,
} from '../../../protocol/session/constants.js';
import { rekey } from '../../../protocol/session/noise.js';
import {
  decodeRecordHeader,
  encodeRecordHeader,
  type OpenedRecord,
  SecureSession,
} from '../../../protocol/session/records.js';
import { bitFlips, establish } from './fixtures.js';

function catchError(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('expected a SessionError');
}

const bytes = (...values: number[]) => Uint8Array.from(values);

/** Opens `record` and expects it to fail with `code`, deliver nothing, and close the session. */
function expectRejected(session: SecureSession, record: Uint8Array, code: string): void {
  let delivered: OpenedRecord | undefined;
  const err = catchError(() => {
    delivered = session.open(record);
  });
  expect(err.code).toBe(code);
  expect(delivered).toBeUndefined();
  expect(session.isClosed).toBe(true);
  expect(session.closeReason).toBe(code);
  expect(catchError(() => session.open(record)).code).toBe('CLOSED');
  expect(catchError(() => session.seal(RecordChannel.Control, bytes(1))).code).toBe('CLOSED');
}

describe('record header', () => {
  it('encodes flags (version 1, bit 7 for the toy), channel and a u64 LE counter', () => {
    expect(
      toHex(encodeRecordHeader({ sender: 'initiator', channel: RecordChannel.Control, counter: 0n })),
    ).toBe('01000000000000000000');
    expect(
      toHex(
        encodeRecordHeader({
          sender: 'responder',
          channel: RecordChannel.Audio,
          counter: 0x0102030405060708n,
        }),
      ),
    ).toBe('81010807060504030201');
  });

  it('decodes what it encodes, given a record long enough to hold a tag', () => {
    const header = { sender: 'responder' as const, channel: RecordChannel.Audio, counter: 2n ** 64n - 2n };
    const record = new Uint8Array(RECORD_OVERHEAD);
    record.set(encodeRecordHeader(header));
    expect(decodeRecordHeader(record)).toEqual(header);
  });

  it('refuses short, oversized, wrong-version and unknown-channel records with their own codes', () => {
    const ok = new Uint8Array(RECORD_OVERHEAD);
    ok.set(encodeRecordHeader({ sender: 'initiator', channel: RecordChannel.Control, counter: 0n }));
    expect(catchError(() => decodeRecordHeader(ok.subarray(0, RECORD_OVERHEAD - 1))).code).toBe('TRUNCATED');
    expect(catchError(() => decodeRecordHeader(new Uint8Array(MAX_RECORD_LEN + 1))).code).toBe(
      'RECORD_TOO_LARGE',
    );
    for (const flags of [0x00, 0x02, 0x7f, 0x82]) {
      const bad = ok.slice();
      bad[0] = flags;
      expect(catchError(() => decodeRecordHeader(bad)).code).toBe('BAD_VERSION');
    }
    const badChannel = ok.slice();
    badChannel[1] = 2;
    expect(catchError(() => decodeRecordHeader(badChannel)).code).toBe('BAD_CHANNEL');
  });
});

describe('SecureSession', () => {
  it('carries records both ways on both channels, in order, with per-direction counters', () => {
    const { phone, toy } = establish();
    expect(toy.peerConfirmed).toBe(false);
    const up1 = phone.seal(RecordChannel.Control, bytes(1, 2, 3));
    const up2 = phone.seal(RecordChannel.Audio, bytes(4));
    const down1 = toy.seal(RecordChannel.Audio, bytes(5, 6));
    expect(toy.open(up1)).toEqual({ channel: RecordChannel.Control, plaintext: bytes(1, 2, 3), counter: 0n });
    expect(toy.peerConfirmed).toBe(true);
    expect(toy.open(up2)).toEqual({ channel: RecordChannel.Audio, plaintext: bytes(4), counter: 1n });
    expect(phone.open(down1)).toEqual({ channel: RecordChannel.Audio, plaintext: bytes(5, 6), counter: 0n });
    expect(phone.sendCounter).toBe(2n);
    expect(toy.receiveCounter).toBe(2n);
    expect(toy.sendCounter).toBe(1n);
    expect(phone.receiveCounter).toBe(1n);
  });

  it('lays a record out as header ‖ ciphertext ‖ 16-byte tag, the header in clear', () => {
    const { phone } = establish();
    phone.seal(RecordChannel.Control, bytes(0));
    const record = phone.seal(RecordChannel.Audio, bytes(9, 9, 9));
    expect(record.length).toBe(3 + RECORD_OVERHEAD);
    expect(toHex(record.subarray(0, 10))).toBe('01010100000000000000');
  });

  it('uses separate keys per direction: the same plaintext and counter encrypt differently each way', () => {
    const { phone, toy } = establish();
    const up = phone.seal(RecordChannel.Control, bytes(1, 2, 3, 4));
    const down = toy.seal(RecordChannel.Control, bytes(1, 2, 3, 4));
    expect(toHex(up.subarray(10))).not.toBe(toHex(down.subarray(10)));
  });

  it('fits the largest record in one framed message with its link envelope', () => {
    const { phone, toy } = establish();
    const plaintext = new Uint8Array(MAX_RECORD_PLAINTEXT_LEN).fill(0x5a);
    const record = phone.seal(RecordChannel.Audio, plaintext);
    expect(record.length).toBe(MAX_RECORD_LEN);
    expect(encodeLink(LinkType.Record, record).length).toBe(MAX_SDU_LEN);
    expect(toy.open(record).plaintext).toEqual(plaintext);
  });

  it('refuses to seal an oversized plaintext or an unknown channel without using a counter', () => {
    const { phone, toy } = establish();
    expect(
      catchError(() => phone.seal(RecordChannel.Control, new Uint8Array(MAX_RECORD_PLAINTEXT_LEN + 1))).code,
    ).toBe('PLAINTEXT_TOO_LARGE');
    expect(catchError(() => phone.seal(7 as RecordChannel, bytes(1))).code).toBe('BAD_CHANNEL');
    expect(phone.isClosed).toBe(false);
    expect(phone.sendCounter).toBe(0n);
    expect(toy.open(phone.seal(RecordChannel.Control, bytes(1))).counter).toBe(0n);
  });

  it('closes on a replayed record and never delivers it twice', () => {
    const { phone, toy } = establish();
    const record = phone.seal(RecordChannel.Control, bytes(1));
    toy.open(record);
    expectRejected(toy, record, 'REPLAY');
  });

  it('closes on a record replayed from an earlier session (a fresh session expects counter 0 under new keys)', () => {
    const first = establish({ seed: 'session-1' });
    const old = first.phone.seal(RecordChannel.Control, bytes(1));
    first.toy.open(old);
    const second = establish({ seed: 'session-2' });
    expectRejected(second.toy, old, 'AUTH_FAILED');
  });

  it('closes on reordered records (the later one arrives first)', () => {
    const { phone, toy } = establish();
    const r0 = phone.seal(RecordChannel.Control, bytes(0));
    const r1 = phone.seal(RecordChannel.Control, bytes(1));
    expectRejected(toy, r1, 'COUNTER_GAP');
    expect(catchError(() => toy.open(r0)).code).toBe('CLOSED');
  });

  it('closes on a dropped record (skipped counter) and delivers nothing after it', () => {
    const { phone, toy } = establish();
    toy.open(phone.seal(RecordChannel.Control, bytes(0)));
    phone.seal(RecordChannel.Control, bytes(1)); // lost
    const r2 = phone.seal(RecordChannel.Control, bytes(2));
    expectRejected(toy, r2, 'COUNTER_GAP');
  });

  it("closes on a reflected record: the toy's own record sent back to it", () => {
    const { toy } = establish();
    const own = toy.seal(RecordChannel.Audio, bytes(1, 2));
    expectRejected(toy, own, 'REFLECTED');
  });

  it('closes on a reflected record at the phone too, and on a reflection with the direction bit forged', () => {
    const { phone } = establish();
    expectRejected(phone, phone.seal(RecordChannel.Control, bytes(3)), 'REFLECTED');
    const other = establish();
    const own = other.toy.seal(RecordChannel.Control, bytes(3));
    own[0] = 0x01; // claims to come from the phone: the header is authenticated, so the tag fails
    expectRejected(other.toy, own, 'AUTH_FAILED');
  });

  it('closes on a truncated record', () => {
    const { phone, toy } = establish();
    const record = phone.seal(RecordChannel.Control, bytes(1, 2, 3));
    expectRejected(toy, record.subarray(0, record.length - 1), 'AUTH_FAILED');
    const { phone: p2, toy: t2 } = establish();
    expectRejected(t2, p2.seal(RecordChannel.Control, bytes(1)).subarray(0, 20), 'TRUNCATED');
  });

  it('closes on a wrong version or an unknown channel', () => {
    const a = establish();
    const record = a.phone.seal(RecordChannel.Control, bytes(1));
    record[0] = 0x02;
    expectRejected(a.toy, record, 'BAD_VERSION');
    const b = establish();
    const other = b.phone.seal(RecordChannel.Control, bytes(1));
    other[1] = 0x09;
    expectRejected(b.toy, other, 'BAD_CHANNEL');
  });

  it('closes on a channel changed from control to audio (the header is authenticated)', () => {
    const { phone, toy } = establish();
    const record = phone.seal(RecordChannel.Control, bytes(1));
    record[1] = RecordChannel.Audio;
    expectRejected(toy, record, 'AUTH_FAILED');
  });

  it('refuses a record with any single bit flipped: typed error, closed, nothing delivered', () => {
    // Same seed, same keys: every fresh toy session accepts r0, then gets a flipped r1.
    const { phone } = establish({ seed: 'flip-record' });
    const r0 = phone.seal(RecordChannel.Control, bytes(0));
    const r1 = phone.seal(RecordChannel.Audio, bytes(1, 2, 3, 4, 5));
    const codes = new Set<string>();
    for (const { bit, bytes: flipped } of bitFlips(r1)) {
      const { toy } = establish({ seed: 'flip-record' });
      toy.open(r0);
      let delivered: OpenedRecord | undefined;
      const err = catchError(() => {
        delivered = toy.open(flipped);
      });
      expect(delivered, `bit ${bit}`).toBeUndefined();
      expect(toy.isClosed, `bit ${bit}`).toBe(true);
      codes.add(err.code);
    }
    expect([...codes].sort()).toEqual([
      'AUTH_FAILED',
      'BAD_CHANNEL',
      'BAD_VERSION',
      'COUNTER_GAP',
      'REFLECTED',
      'REPLAY',
    ]);
    const { toy } = establish({ seed: 'flip-record' });
    toy.open(r0);
    expect(toy.open(r1).plaintext).toEqual(bytes(1, 2, 3, 4, 5));
  });

  it('close() ends the session for good and overwrites nothing the caller owns', () => {
    const { phone } = establish();
    phone.close();
    phone.close();
    expect(phone.closeReason).toBe('CLOSED');
    expect(catchError(() => phone.seal(RecordChannel.Control, bytes(1))).code).toBe('CLOSED');
  });

  it('rejects a bad configuration with BAD_KEY or BAD_CONFIG', () => {
    const base = {
      role: 'initiator' as const,
      sendKey: new Uint8Array(32),
      receiveKey: new Uint8Array(32),
      handshakeHash: new Uint8Array(32),
      remoteStaticKey: new Uint8Array(32),
    };
    expect(catchError(() => new SecureSession({ ...base, sendKey: new Uint8Array(16) })).code).toBe(
      'BAD_KEY',
    );
    expect(catchError(() => new SecureSession({ ...base, rekeyInterval: 0n })).code).toBe('BAD_CONFIG');
    expect(catchError(() => new SecureSession({ ...base, rekeyInterval: 2n ** 64n })).code).toBe(
      'BAD_CONFIG',
    );
  });
});

describe('rekey', () => {
  const KEY_A = new Uint8Array(32).fill(0xa1);
  const KEY_B = new Uint8Array(32).fill(0xb2);

  function pair(phoneInterval: bigint, toyInterval: bigint) {
    const common = { handshakeHash: new Uint8Array(32), remoteStaticKey: new Uint8Array(32) };
    const phone = new SecureSession({
      ...common,
      role: 'initiator',
      sendKey: KEY_A,
      receiveKey: KEY_B,
      rekeyInterval: phoneInterval,
    });
    const toy = new SecureSession({
      ...common,
      role: 'responder',
      sendKey: KEY_B,
      receiveKey: KEY_A,
      rekeyInterval: toyInterval,
    });
    return { phone, toy };
  }

  it('switches both directions to REKEY(k) after every `interval` records, on both sides', () => {
    const { phone, toy } = pair(3n, 3n);
    for (let i = 0; i < 10; i++) {
      expect(toy.open(phone.seal(RecordChannel.Control, bytes(i))).plaintext).toEqual(bytes(i));
      expect(phone.open(toy.seal(RecordChannel.Audio, bytes(100 + i))).plaintext).toEqual(bytes(100 + i));
    }
    expect(phone.sendCounter).toBe(10n);
    expect(toy.receiveCounter).toBe(10n);
  });

  it('encrypts record `interval` under REKEY(k) and the records before it under k', () => {
    const { phone } = pair(2n, 2n);
    const records = [0, 1, 2].map((i) => phone.seal(RecordChannel.Control, bytes(i)));
    const k = new SecureSession({
      role: 'initiator',
      sendKey: KEY_A,
      receiveKey: KEY_B,
      handshakeHash: new Uint8Array(32),
      remoteStaticKey: new Uint8Array(32),
      rekeyInterval: 2n ** 64n - 1n,
    });
    const underK = [0, 1, 2].map((i) => k.seal(RecordChannel.Control, bytes(i)));
    expect(toHex(records[0]!)).toBe(toHex(underK[0]!));
    expect(toHex(records[1]!)).toBe(toHex(underK[1]!));
    expect(toHex(records[2]!)).not.toBe(toHex(underK[2]!));
    // Record 2 opens under REKEY(k) with nonce 2 (the counter is not reset by REKEY, Noise §11.3).
    const receiver = new SecureSession({
      role: 'responder',
      sendKey: KEY_B,
      receiveKey: KEY_A,
      handshakeHash: new Uint8Array(32),
      remoteStaticKey: new Uint8Array(32),
      rekeyInterval: 2n,
    });
    receiver.open(records[0]!);
    receiver.open(records[1]!);
    expect(receiver.open(records[2]!).plaintext).toEqual(bytes(2));
    expect(toHex(rekey(KEY_A))).not.toBe(toHex(KEY_A));
  });

  it('fails with AUTH_FAILED at the first record after the boundary when the intervals differ', () => {
    const { phone, toy } = pair(4n, 8n);
    for (let i = 0; i < 4; i++) toy.open(phone.seal(RecordChannel.Control, bytes(i)));
    expectRejected(toy, phone.seal(RecordChannel.Control, bytes(4)), 'AUTH_FAILED');
  });
});
