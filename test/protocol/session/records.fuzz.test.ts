/**
 * Fuzzing the record layer's parsing surfaces with random and mutated bytes (fuzzParams(): 10,000
 * inputs per surface in `npm test`): only SessionError escapes, nothing is delivered, the session is
 * closed for good and its receive counter has not moved.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../protocol/bytes.js';
import { SessionError } from '../../../protocol/errors.js';
import { RecordChannel } from '../../../protocol/session/constants.js';
import {
  decodeRecordHeader,
  encodeRecordHeader,
  type OpenedRecord,
  SecureSession,
} from '../../../protocol/session/records.js';
import { fuzzParams } from '../../fuzz/config.js';
import { hostileBytes } from './fixtures.js';

const PHONE_TO_TOY = new Uint8Array(32).fill(0x11);
const TOY_TO_PHONE = new Uint8Array(32).fill(0x22);

function session(role: 'initiator' | 'responder'): SecureSession {
  const initiator = role === 'initiator';
  return new SecureSession({
    role,
    sendKey: initiator ? PHONE_TO_TOY : TOY_TO_PHONE,
    receiveKey: initiator ? TOY_TO_PHONE : PHONE_TO_TOY,
    handshakeHash: new Uint8Array(32),
    remoteStaticKey: new Uint8Array(32),
  });
}

const phone = session('initiator');
const r0 = phone.seal(RecordChannel.Control, Uint8Array.of(0));
const r1 = phone.seal(RecordChannel.Audio, new Uint8Array(60).fill(7));

describe('record fuzzing', () => {
  it('decodeRecordHeader: random and mutated records decode consistently or throw SessionError', () => {
    fc.assert(
      fc.property(hostileBytes(r1, 2100), (record) => {
        let header: ReturnType<typeof decodeRecordHeader> | undefined;
        try {
          header = decodeRecordHeader(record);
        } catch (err) {
          expect(err).toBeInstanceOf(SessionError);
          return;
        }
        expect(bytesEqual(encodeRecordHeader(header), record.subarray(0, 10))).toBe(true);
      }),
      fuzzParams(),
    );
  });

  it('SecureSession.open: random and mutated records never deliver, close the session, keep the counter', () => {
    fc.assert(
      fc.property(hostileBytes(r1, 2100), (record) => {
        const toy = session('responder');
        toy.open(r0);
        let delivered: OpenedRecord | undefined;
        try {
          delivered = toy.open(record);
        } catch (err) {
          expect(err).toBeInstanceOf(SessionError);
        }
        expect(delivered).toBeUndefined();
        expect(toy.isClosed).toBe(true);
        expect(toy.receiveCounter).toBe(1n);
      }),
      fuzzParams(),
    );
  });
});
