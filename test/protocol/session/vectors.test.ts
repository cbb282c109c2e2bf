import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../../protocol/bytes.js';
import { x25519PublicKey } from '../../../protocol/crypto.js';
import type { RecordChannel } from '../../../protocol/session/constants.js';
import { decodeHandshakeMessage, sessionPrologue } from '../../../protocol/session/handshake.js';
import { rekey } from '../../../protocol/session/noise.js';
import { decodeRecordHeader, SecureSession, type SessionRole } from '../../../protocol/session/records.js';
import { generate } from '../../vectors/generate/session.js';
import { loadVectors } from '../../vectors/load.js';

type SessionVectors = ReturnType<typeof generate>;
const V = loadVectors<SessionVectors>('session');

describe('test/vectors/session.json', () => {
  it('is reproduced bit for bit by test/vectors/generate/session.ts', () => {
    expect(JSON.parse(JSON.stringify(generate()))).toEqual(V);
  });

  it('is self-consistent for an independent implementation: keys, prologue and message layout', () => {
    expect(toHex(x25519PublicKey(fromHex(V.phoneStaticPrivate)))).toBe(V.phoneStaticPublic);
    expect(toHex(x25519PublicKey(fromHex(V.toyStaticPrivate)))).toBe(V.toyStaticPublic);
    const prologue = sessionPrologue(
      V.protocolVersion,
      concat(fromHex(V.framingRequest), fromHex(V.framingResponse)),
      fromHex(V.toyId),
    );
    expect(toHex(prologue)).toBe(V.prologue);
    const m1 = decodeHandshakeMessage(fromHex(V.message1));
    const m2 = decodeHandshakeMessage(fromHex(V.message2));
    // The ephemeral public keys travel in clear at the start of each Noise message.
    expect(toHex(m1.noise.subarray(0, 32))).toBe(toHex(x25519PublicKey(fromHex(V.phoneEphemeralPrivate))));
    expect(toHex(m2.noise.subarray(0, 32))).toBe(toHex(x25519PublicKey(fromHex(V.toyEphemeralPrivate))));
  });

  it('opens every record with the published split keys, in order per direction', () => {
    const common = { handshakeHash: fromHex(V.handshakeHash) };
    const toy = new SecureSession({
      ...common,
      role: 'responder',
      sendKey: fromHex(V.toyToPhoneKey),
      receiveKey: fromHex(V.phoneToToyKey),
      remoteStaticKey: fromHex(V.phoneStaticPublic),
    });
    const phone = new SecureSession({
      ...common,
      role: 'initiator',
      sendKey: fromHex(V.phoneToToyKey),
      receiveKey: fromHex(V.toyToPhoneKey),
      remoteStaticKey: fromHex(V.toyStaticPublic),
    });
    for (const r of V.records) {
      const record = fromHex(r.record);
      const header = decodeRecordHeader(record);
      expect(header).toEqual({ sender: r.sender, channel: r.channel, counter: BigInt(r.counter) });
      const receiver = (r.sender as SessionRole) === 'initiator' ? toy : phone;
      const opened = receiver.open(record);
      expect(opened.channel).toBe(r.channel as RecordChannel);
      expect(toHex(opened.plaintext)).toBe(r.plaintext);
    }
  });

  it('demonstrates REKEY at a test-only interval of 2 records', () => {
    expect(toHex(rekey(fromHex(V.phoneToToyKey)))).toBe(V.rekey.phoneToToyKeyAfterRekey);
    const toy = new SecureSession({
      role: 'responder',
      sendKey: fromHex(V.toyToPhoneKey),
      receiveKey: fromHex(V.phoneToToyKey),
      handshakeHash: fromHex(V.handshakeHash),
      remoteStaticKey: fromHex(V.phoneStaticPublic),
      rekeyInterval: BigInt(V.rekey.interval),
    });
    for (const r of V.rekey.records) {
      expect(toHex(toy.open(fromHex(r.record)).plaintext)).toBe(r.plaintext);
    }
  });
});
