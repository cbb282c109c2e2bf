import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { aeadSeal, hkdfSha256, sha256, x25519PublicKey } from '../../../protocol/crypto.js';
import { SessionError } from '../../../protocol/errors.js';
import type { RandomSource } from '../../../protocol/random.js';
import { MAX_NONCE } from '../../../protocol/session/constants.js';
import {
  CipherState,
  keyPairFromPrivateKey,
  NoiseIkHandshake,
  noiseHkdf,
  noiseNonce,
  rekey,
  SymmetricState,
} from '../../../protocol/session/noise.js';
import { loadVectors } from '../../vectors/load.js';
import { keyPair } from './fixtures.js';

interface CacophonyVector {
  protocol_name: string;
  init_prologue: string;
  init_static: string;
  init_ephemeral: string;
  init_remote_static: string;
  resp_prologue: string;
  resp_static: string;
  resp_ephemeral: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const V = loadVectors<CacophonyVector>('noise-ik-cacophony');
const EMPTY = new Uint8Array(0);

/** A RandomSource that hands out exactly the given 32-byte ephemeral once. */
function fixedEphemeral(hex: string): RandomSource {
  let used = false;
  return (length) => {
    if (used || length !== 32) throw new Error('unexpected draw');
    used = true;
    return fromHex(hex);
  };
}

function cacophonyParties() {
  const initiator = new NoiseIkHandshake({
    initiator: true,
    prologue: fromHex(V.init_prologue),
    staticKeyPair: keyPairFromPrivateKey(fromHex(V.init_static)),
    remoteStaticKey: fromHex(V.init_remote_static),
    random: fixedEphemeral(V.init_ephemeral),
  });
  const responder = new NoiseIkHandshake({
    initiator: false,
    prologue: fromHex(V.resp_prologue),
    staticKeyPair: keyPairFromPrivateKey(fromHex(V.resp_static)),
    random: fixedEphemeral(V.resp_ephemeral),
  });
  return { initiator, responder };
}

function catchError(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('expected a SessionError');
}

describe('cacophony vector Noise_IK_25519_ChaChaPoly_SHA256', () => {
  const m = V.messages;

  it('is the IK vector, with init_remote_static the public key of resp_static', () => {
    expect(V.protocol_name).toBe('Noise_IK_25519_ChaChaPoly_SHA256');
    expect(toHex(x25519PublicKey(fromHex(V.resp_static)))).toBe(V.init_remote_static);
  });

  it('reproduces both handshake messages bit for bit and delivers their payloads', () => {
    const { initiator, responder } = cacophonyParties();
    const message1 = initiator.writeMessage(fromHex(m[0]!.payload));
    expect(toHex(message1)).toBe(m[0]!.ciphertext);
    expect(toHex(responder.readMessage(message1))).toBe(m[0]!.payload);
    expect(toHex(responder.remoteStaticKey!)).toBe(toHex(x25519PublicKey(fromHex(V.init_static))));

    const message2 = responder.writeMessage(fromHex(m[1]!.payload));
    expect(toHex(message2)).toBe(m[1]!.ciphertext);
    expect(toHex(initiator.readMessage(message2))).toBe(m[1]!.payload);
    expect(initiator.step).toBe('complete');
    expect(responder.step).toBe('complete');
  });

  it('matches the published handshake_hash, which the file records as h after message 1', () => {
    const { initiator, responder } = cacophonyParties();
    const message1 = initiator.writeMessage(fromHex(m[0]!.payload));
    expect(toHex(initiator.handshakeHash)).toBe(V.handshake_hash);
    responder.readMessage(message1);
    expect(toHex(responder.handshakeHash)).toBe(V.handshake_hash);
  });

  it('ends, on both sides, with the final h of §11.2: HASH(HASH(h1 ‖ e) ‖ message-2 payload ciphertext)', () => {
    const { initiator, responder } = cacophonyParties();
    responder.readMessage(initiator.writeMessage(fromHex(m[0]!.payload)));
    const message2 = responder.writeMessage(fromHex(m[1]!.payload));
    initiator.readMessage(message2);
    // Message 2 = e ‖ encrypted payload: h = HASH(HASH(h1 ‖ e) ‖ ciphertext); ee/se only touch ck.
    const afterE = sha256(fromHex(V.handshake_hash), message2.subarray(0, 32));
    const expected = sha256(afterE, message2.subarray(32));
    expect(toHex(initiator.handshakeHash)).toBe(toHex(expected));
    expect(toHex(responder.handshakeHash)).toBe(toHex(expected));
  });

  it('reproduces every transport message with Split() c1 (initiator → responder) and c2', () => {
    const { initiator, responder } = cacophonyParties();
    responder.readMessage(initiator.writeMessage(fromHex(m[0]!.payload)));
    initiator.readMessage(responder.writeMessage(fromHex(m[1]!.payload)));
    const [iSend, iReceive] = initiator.split();
    const [rReceive, rSend] = responder.split();
    for (let k = 2; k < m.length; k++) {
      const fromInitiator = k % 2 === 0;
      const [sender, receiver] = fromInitiator ? [iSend, rReceive] : [rSend, iReceive];
      const ciphertext = sender.encryptWithAd(EMPTY, fromHex(m[k]!.payload));
      expect(toHex(ciphertext), `message ${k}`).toBe(m[k]!.ciphertext);
      expect(toHex(receiver.decryptWithAd(EMPTY, ciphertext))).toBe(m[k]!.payload);
    }
  });
});

describe('Noise building blocks', () => {
  it('forms the ChaChaPoly nonce as 4 zero bytes then the counter little-endian (§12.3)', () => {
    expect(toHex(noiseNonce(0x0102030405060708n))).toBe('000000000807060504030201');
    expect(toHex(noiseNonce(MAX_NONCE))).toBe('00000000ffffffffffffffff');
  });

  it("computes Noise's HKDF as RFC 5869 HKDF with ck as salt and empty info (§4.3)", () => {
    const ck = sha256(Uint8Array.of(1));
    for (const ikm of [EMPTY, sha256(Uint8Array.of(2))]) {
      const [out1, out2] = noiseHkdf(ck, ikm);
      expect(toHex(new Uint8Array([...out1, ...out2]))).toBe(toHex(hkdfSha256(ikm, ck, EMPTY, 64)));
    }
  });

  it('defines REKEY(k) as the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros) (§4.2)', () => {
    const k = sha256(Uint8Array.of(3));
    const expected = aeadSeal(k, noiseNonce(MAX_NONCE), new Uint8Array(32), EMPTY).slice(0, 32);
    expect(toHex(rekey(k))).toBe(toHex(expected));
    expect(toHex(rekey(k))).not.toBe(toHex(k));
  });

  it('starts h as the 32-byte protocol name itself, and hashes longer names (§5.2)', () => {
    const ik = SymmetricState.initialize('Noise_IK_25519_ChaChaPoly_SHA256');
    expect(toHex(ik.handshakeHash())).toBe(
      toHex(new TextEncoder().encode('Noise_IK_25519_ChaChaPoly_SHA256')),
    );
    const short = SymmetricState.initialize('Noise_N');
    expect(toHex(short.handshakeHash())).toBe(
      `${toHex(new TextEncoder().encode('Noise_N'))}${'00'.repeat(25)}`,
    );
    const long = SymmetricState.initialize('Noise_IKpsk2_25519_ChaChaPoly_SHA256');
    expect(toHex(long.handshakeHash())).toBe(
      toHex(sha256(new TextEncoder().encode('Noise_IKpsk2_25519_ChaChaPoly_SHA256'))),
    );
  });

  it('passes data through while a CipherState has no key, and encrypts once it has one', () => {
    const empty = new CipherState();
    expect(empty.hasKey()).toBe(false);
    expect(toHex(empty.encryptWithAd(EMPTY, Uint8Array.of(1, 2)))).toBe('0102');
    const keyed = new CipherState(sha256(EMPTY));
    expect(keyed.encryptWithAd(EMPTY, Uint8Array.of(1, 2)).length).toBe(18);
    expect(keyed.nonce).toBe(1n);
  });

  it('does not advance the nonce when decryption fails (§5.1)', () => {
    const key = sha256(EMPTY);
    const sender = new CipherState(key);
    const receiver = new CipherState(key);
    const ct = sender.encryptWithAd(EMPTY, Uint8Array.of(9));
    const bad = ct.slice();
    bad[0]! ^= 1;
    expect(catchError(() => receiver.decryptWithAd(EMPTY, bad)).code).toBe('AUTH_FAILED');
    expect(receiver.nonce).toBe(0n);
    expect(toHex(receiver.decryptWithAd(EMPTY, ct))).toBe('09');
  });

  it('refuses to use the reserved nonce 2^64-1 (§5.1)', () => {
    const cs = new CipherState(sha256(EMPTY), MAX_NONCE);
    expect(catchError(() => cs.encryptWithAd(EMPTY, EMPTY)).code).toBe('NONCE_EXHAUSTED');
    expect(catchError(() => cs.decryptWithAd(EMPTY, new Uint8Array(16))).code).toBe('NONCE_EXHAUSTED');
  });

  it('rejects keys of the wrong length with BAD_KEY, never a RangeError', () => {
    expect(catchError(() => keyPairFromPrivateKey(new Uint8Array(31))).code).toBe('BAD_KEY');
    expect(catchError(() => new CipherState(new Uint8Array(16))).code).toBe('BAD_KEY');
    const s = keyPair('bad-key');
    expect(
      catchError(
        () =>
          new NoiseIkHandshake({
            initiator: true,
            prologue: EMPTY,
            staticKeyPair: s,
            remoteStaticKey: new Uint8Array(31),
            random: fixedEphemeral(V.init_ephemeral),
          }),
      ).code,
    ).toBe('BAD_KEY');
  });
});

describe('NoiseIkHandshake state machine', () => {
  it('enforces the message order with BAD_STATE and no state change', () => {
    const { initiator, responder } = cacophonyParties();
    expect(catchError(() => initiator.readMessage(new Uint8Array(64))).code).toBe('BAD_STATE');
    expect(catchError(() => responder.writeMessage(EMPTY)).code).toBe('BAD_STATE');
    expect(catchError(() => initiator.split()).code).toBe('BAD_STATE');
    const message1 = initiator.writeMessage(fromHex(V.messages[0]!.payload));
    expect(toHex(message1)).toBe(V.messages[0]!.ciphertext);
  });

  it('leaves the state untouched when a message fails, so the genuine message still works', () => {
    const { initiator, responder } = cacophonyParties();
    const message1 = initiator.writeMessage(fromHex(V.messages[0]!.payload));
    const before = toHex(responder.handshakeHash);
    const tampered = message1.slice();
    tampered[40]! ^= 0x01; // inside the encrypted static key
    expect(catchError(() => responder.readMessage(tampered)).code).toBe('AUTH_FAILED');
    expect(catchError(() => responder.readMessage(message1.subarray(0, 95))).code).toBe('TRUNCATED');
    expect(toHex(responder.handshakeHash)).toBe(before);
    expect(responder.step).toBe('message1');
    expect(responder.remoteStaticKey).toBeUndefined();
    expect(toHex(responder.readMessage(message1))).toBe(V.messages[0]!.payload);
    expect(toHex(responder.writeMessage(fromHex(V.messages[1]!.payload)))).toBe(V.messages[1]!.ciphertext);
  });

  it('refuses a low-order ephemeral key with LOW_ORDER_POINT', () => {
    const { initiator, responder } = cacophonyParties();
    const message1 = initiator.writeMessage(EMPTY);
    const zeroE = message1.slice();
    zeroE.fill(0, 0, 32);
    expect(catchError(() => responder.readMessage(zeroE)).code).toBe('LOW_ORDER_POINT');
    const oneE = message1.slice();
    oneE.fill(0, 0, 32);
    oneE[0] = 1; // u = 1 is of order 1 too
    expect(catchError(() => responder.readMessage(oneE)).code).toBe('LOW_ORDER_POINT');
  });

  it('refuses to start as initiator towards a low-order responder key', () => {
    const hs = new NoiseIkHandshake({
      initiator: true,
      prologue: EMPTY,
      staticKeyPair: keyPair('low-order'),
      remoteStaticKey: new Uint8Array(32),
      random: fixedEphemeral(V.init_ephemeral),
    });
    expect(catchError(() => hs.writeMessage(EMPTY)).code).toBe('LOW_ORDER_POINT');
    expect(hs.step).toBe('message1');
  });
});
