import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, concat, toHex } from '../../../protocol/bytes.js';
import { SessionError } from '../../../protocol/errors.js';
import { decodeLink, encodeLink, LinkType } from '../../../protocol/link.js';
import { seededRandom } from '../../../protocol/random.js';
import {
  HandshakeMessageType,
  MAX_HANDSHAKE_PAYLOAD_LEN,
  RecordChannel,
} from '../../../protocol/session/constants.js';
import {
  decodeHandshakeMessage,
  encodeHandshakeMessage,
  SessionInitiator,
  SessionResponder,
  sessionPrologue,
} from '../../../protocol/session/handshake.js';
import { keyPairFromPrivateKey } from '../../../protocol/session/noise.js';
import {
  bitFlips,
  FRAMING_TRANSCRIPT,
  keyPair,
  makeHandshake,
  PHONE,
  PROLOGUE,
  pairingTable,
  TOY,
  TOY_ID,
} from './fixtures.js';

function catchError(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('expected a SessionError');
}

describe('sessionPrologue', () => {
  it('lays out label ‖ version ‖ u16 LE length ‖ framing transcript ‖ u8 length ‖ toy id', () => {
    const prologue = sessionPrologue(1, Uint8Array.of(0xaa, 0xbb, 0xcc), Uint8Array.of(0x11, 0x22));
    const label = '5061774c696e6b2073657373696f6e'; // "PawLink session"
    expect(toHex(prologue)).toBe([label, '01', '0300', 'aabbcc', '02', '1122'].join(''));
  });

  it('gives different bytes for any different version, transcript or toy id', () => {
    const base = toHex(PROLOGUE);
    expect(toHex(sessionPrologue(2, FRAMING_TRANSCRIPT, TOY_ID))).not.toBe(base);
    const transcript = FRAMING_TRANSCRIPT.slice();
    transcript[14] = 0x08; // a different window in the framing response
    expect(toHex(sessionPrologue(1, transcript, TOY_ID))).not.toBe(base);
    expect(toHex(sessionPrologue(1, FRAMING_TRANSCRIPT, Uint8Array.of(1, 2, 3)))).not.toBe(base);
  });

  it('keeps field boundaries unambiguous: moving a byte between transcript and toy id changes the prologue', () => {
    const a = sessionPrologue(1, Uint8Array.of(1, 2), Uint8Array.of(3));
    const b = sessionPrologue(1, Uint8Array.of(1), Uint8Array.of(2, 3));
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('refuses out-of-range inputs with OUT_OF_RANGE', () => {
    expect(catchError(() => sessionPrologue(256, FRAMING_TRANSCRIPT, TOY_ID)).code).toBe('OUT_OF_RANGE');
    expect(catchError(() => sessionPrologue(-1, FRAMING_TRANSCRIPT, TOY_ID)).code).toBe('OUT_OF_RANGE');
    expect(catchError(() => sessionPrologue(1.5, FRAMING_TRANSCRIPT, TOY_ID)).code).toBe('OUT_OF_RANGE');
    expect(catchError(() => sessionPrologue(1, FRAMING_TRANSCRIPT, new Uint8Array(0))).code).toBe(
      'OUT_OF_RANGE',
    );
    expect(catchError(() => sessionPrologue(1, FRAMING_TRANSCRIPT, new Uint8Array(256))).code).toBe(
      'OUT_OF_RANGE',
    );
    expect(catchError(() => sessionPrologue(1, new Uint8Array(65536), TOY_ID)).code).toBe('OUT_OF_RANGE');
  });
});

describe('handshake message codec', () => {
  it('round-trips both message types and rides in a LinkType.Handshake envelope', () => {
    for (const [type, size] of [
      [HandshakeMessageType.Message1, 96],
      [HandshakeMessageType.Message2, 48 + 5],
    ] as const) {
      const noise = seededRandom(`codec-${type}`)(size);
      const body = encodeHandshakeMessage({ type, noise });
      expect(body[0]).toBe(type);
      const link = decodeLink(encodeLink(LinkType.Handshake, body));
      expect(link.type).toBe(LinkType.Handshake);
      const decoded = decodeHandshakeMessage(link.body);
      expect(decoded.type).toBe(type);
      expect(toHex(decoded.noise)).toBe(toHex(noise));
    }
  });

  it('refuses unknown types, short and oversized messages with their own codes', () => {
    expect(catchError(() => decodeHandshakeMessage(new Uint8Array(0))).code).toBe('TRUNCATED');
    expect(catchError(() => decodeHandshakeMessage(concat(Uint8Array.of(3), new Uint8Array(96)))).code).toBe(
      'BAD_MESSAGE_TYPE',
    );
    expect(catchError(() => decodeHandshakeMessage(concat(Uint8Array.of(1), new Uint8Array(95)))).code).toBe(
      'TRUNCATED',
    );
    expect(catchError(() => decodeHandshakeMessage(concat(Uint8Array.of(2), new Uint8Array(47)))).code).toBe(
      'TRUNCATED',
    );
    const tooLong = new Uint8Array(1 + 48 + MAX_HANDSHAKE_PAYLOAD_LEN + 1);
    tooLong[0] = 2;
    expect(catchError(() => decodeHandshakeMessage(tooLong)).code).toBe('BAD_LENGTH');
    expect(
      catchError(() =>
        encodeHandshakeMessage({ type: HandshakeMessageType.Message1, noise: new Uint8Array(10) }),
      ).code,
    ).toBe('BAD_LENGTH');
  });
});

describe('PawLink handshake', () => {
  it('establishes matching sessions both ways for random key pairs, payloads delivered', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        (phonePriv, toyPriv, p1, p2) => {
          const phone = keyPairFromPrivateKey(phonePriv);
          const toy = keyPairFromPrivateKey(toyPriv);
          const { initiator, responder } = makeHandshake({ phone, toy, seed: toHex(phonePriv) });
          const m1 = responder.readMessage1(initiator.writeMessage1(p1));
          expect(toHex(m1.payload)).toBe(toHex(p1));
          expect(m1.phone.phoneId).toBe(7);
          expect(toHex(m1.phoneStaticPublicKey)).toBe(toHex(phone.publicKey));
          const { message, session: toySession } = responder.writeMessage2(p2);
          const { payload, session: phoneSession } = initiator.readMessage2(message);
          expect(toHex(payload)).toBe(toHex(p2));
          expect(toHex(phoneSession.handshakeHash)).toBe(toHex(toySession.handshakeHash));
          expect(toHex(phoneSession.remoteStaticKey)).toBe(toHex(toy.publicKey));
          expect(toHex(toySession.remoteStaticKey)).toBe(toHex(phone.publicKey));
          const up = toySession.open(phoneSession.seal(RecordChannel.Control, p1));
          expect(toHex(up.plaintext)).toBe(toHex(p1));
          const down = phoneSession.open(toySession.seal(RecordChannel.Audio, p2));
          expect(toHex(down.plaintext)).toBe(toHex(p2));
          expect(initiator.state).toBe('established');
          expect(responder.state).toBe('established');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('sizes message 1 at 1 + 96 + payload bytes and message 2 at 1 + 48 + payload bytes', () => {
    const { initiator, responder } = makeHandshake();
    const m1 = initiator.writeMessage1(new Uint8Array(10));
    expect(m1.length).toBe(1 + 96 + 10);
    responder.readMessage1(m1);
    expect(responder.writeMessage2().message.length).toBe(1 + 48);
  });

  it('draws fresh ephemerals: two connections with the same keys give different messages and hashes', () => {
    const a = makeHandshake({ seed: 'connection-a' });
    const b = makeHandshake({ seed: 'connection-b' });
    expect(toHex(a.initiator.writeMessage1())).not.toBe(toHex(b.initiator.writeMessage1()));
  });

  it('fails when the framing transcript differs between phone and toy', () => {
    const transcript = FRAMING_TRANSCRIPT.slice();
    transcript[8] = 0x06; // the phone saw a different window offer (tampered in flight)
    const { initiator, responder } = makeHandshake({ phonePrologue: sessionPrologue(1, transcript, TOY_ID) });
    expect(catchError(() => responder.readMessage1(initiator.writeMessage1())).code).toBe('AUTH_FAILED');
    expect(responder.state).toBe('failed');
  });

  it('fails when the toy id or the protocol version differs', () => {
    for (const phonePrologue of [
      sessionPrologue(1, FRAMING_TRANSCRIPT, Uint8Array.of(1, 2, 3, 4)),
      sessionPrologue(2, FRAMING_TRANSCRIPT, TOY_ID),
    ]) {
      const { initiator, responder } = makeHandshake({ phonePrologue });
      expect(catchError(() => responder.readMessage1(initiator.writeMessage1())).code).toBe('AUTH_FAILED');
      expect(responder.failureReason).toBe('AUTH_FAILED');
    }
  });

  it('refuses a phone that is not in the pairing table with UNKNOWN_PHONE, after checking its key', () => {
    const stranger = keyPair('stranger');
    const seen: string[] = [];
    const table = (key: Uint8Array) => {
      seen.push(toHex(key));
      return pairingTable({ phoneId: 1, publicKey: PHONE.publicKey })(key);
    };
    const { initiator, responder } = makeHandshake({ phone: stranger, table });
    expect(catchError(() => responder.readMessage1(initiator.writeMessage1())).code).toBe('UNKNOWN_PHONE');
    expect(seen).toEqual([toHex(stranger.publicKey)]);
    expect(responder.state).toBe('failed');
    expect(catchError(() => responder.writeMessage2()).code).toBe('CLOSED');
  });

  it("fails when a phone expecting toy A's static key talks to toy B", () => {
    const toyB = keyPair('toy-b');
    const { initiator, responder } = makeHandshake({ toy: toyB, expectedToyKey: TOY.publicKey });
    expect(catchError(() => responder.readMessage1(initiator.writeMessage1())).code).toBe('AUTH_FAILED');
  });

  it('fails at the phone when message 2 comes from a toy without the expected static key', () => {
    // A man in the middle answers the phone's message 1 with its own responder state.
    const phoneSide = makeHandshake();
    const m1 = phoneSide.initiator.writeMessage1();
    const impostor = new SessionResponder({
      staticKeyPair: keyPair('impostor'),
      prologue: PROLOGUE,
      random: seededRandom('impostor-e'),
      lookupPhone: () => ({}),
    });
    // The impostor cannot even read message 1; replaying a genuine message 2 of another connection fails too.
    expect(catchError(() => impostor.readMessage1(m1)).code).toBe('AUTH_FAILED');
    const other = makeHandshake({ seed: 'other-connection' });
    other.responder.readMessage1(other.initiator.writeMessage1());
    const foreignMessage2 = other.responder.writeMessage2().message;
    expect(catchError(() => phoneSide.initiator.readMessage2(foreignMessage2)).code).toBe('AUTH_FAILED');
    expect(phoneSide.initiator.state).toBe('failed');
  });

  it('answers a replayed message 1 with a fresh message 2 whose session the attacker cannot use', () => {
    const original = makeHandshake({ seed: 'original' });
    const m1 = original.initiator.writeMessage1();
    const replayTarget = makeHandshake({ seed: 'replayed' }).responder;
    replayTarget.readMessage1(m1);
    const { session: toySession } = replayTarget.writeMessage2();
    expect(toySession.peerConfirmed).toBe(false); // the toy keeps its unauthenticated timer running
    // Records from the toy in the replayed session do not open in the original phone's session.
    original.responder.readMessage1(m1);
    const { message } = original.responder.writeMessage2();
    const { session: phoneSession } = original.initiator.readMessage2(message);
    expect(
      catchError(() => phoneSession.open(toySession.seal(RecordChannel.Control, Uint8Array.of(1)))).code,
    ).toBe('AUTH_FAILED');
  });

  it('refuses a message 1 sent where message 2 is expected (and the reverse) with UNEXPECTED_MESSAGE', () => {
    const { initiator, responder } = makeHandshake();
    const m1 = initiator.writeMessage1();
    // The phone, waiting for message 2, gets a (well-formed) message 1 back: a reflection.
    expect(catchError(() => initiator.readMessage2(m1)).code).toBe('UNEXPECTED_MESSAGE');
    expect(initiator.state).toBe('failed');
    const fresh = makeHandshake();
    fresh.responder.readMessage1(fresh.initiator.writeMessage1());
    const m2 = fresh.responder.writeMessage2().message;
    // The toy, waiting for message 1, gets a message 2.
    expect(catchError(() => responder.readMessage1(m2)).code).toBe('UNEXPECTED_MESSAGE');
    expect(responder.state).toBe('failed');
  });

  it('throws BAD_STATE for calls out of order and PAYLOAD_TOO_LARGE for a big payload, changing nothing', () => {
    const { initiator, responder } = makeHandshake();
    expect(catchError(() => initiator.readMessage2(new Uint8Array(49))).code).toBe('BAD_STATE');
    expect(catchError(() => responder.writeMessage2()).code).toBe('BAD_STATE');
    expect(
      catchError(() => initiator.writeMessage1(new Uint8Array(MAX_HANDSHAKE_PAYLOAD_LEN + 1))).code,
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(initiator.state).toBe('start');
    const m1 = initiator.writeMessage1(new Uint8Array(MAX_HANDSHAKE_PAYLOAD_LEN));
    responder.readMessage1(m1);
    expect(catchError(() => responder.readMessage1(m1)).code).toBe('BAD_STATE');
    expect(responder.state).toBe('readyToRespond');
    expect(
      catchError(() => responder.writeMessage2(new Uint8Array(MAX_HANDSHAKE_PAYLOAD_LEN + 1))).code,
    ).toBe('PAYLOAD_TOO_LARGE');
    const { message } = responder.writeMessage2();
    initiator.readMessage2(message);
    expect(initiator.state).toBe('established');
    expect(catchError(() => initiator.writeMessage1()).code).toBe('BAD_STATE');
  });

  it('refuses message 1 with any single bit flipped: typed error, handshake failed, nothing returned', () => {
    const { initiator } = makeHandshake();
    const m1 = initiator.writeMessage1(Uint8Array.of(1, 2, 3));
    let count = 0;
    for (const { bit, bytes } of bitFlips(m1)) {
      const { responder } = makeHandshake();
      let result: unknown;
      const err = catchError(() => {
        result = responder.readMessage1(bytes);
      });
      expect(result, `bit ${bit}`).toBeUndefined();
      expect(['AUTH_FAILED', 'BAD_MESSAGE_TYPE', 'UNEXPECTED_MESSAGE', 'LOW_ORDER_POINT']).toContain(
        err.code,
      );
      expect(responder.state, `bit ${bit}`).toBe('failed');
      expect(catchError(() => responder.writeMessage2()).code).toBe('CLOSED');
      count++;
    }
    expect(count).toBe(m1.length * 8);
  });

  it('refuses message 2 with any single bit flipped: typed error, no session, later calls CLOSED', () => {
    const seed = 'flip-message-2';
    const { initiator, responder } = makeHandshake({ seed });
    responder.readMessage1(initiator.writeMessage1());
    const m2 = responder.writeMessage2(Uint8Array.of(4, 5)).message;
    for (const { bit, bytes } of bitFlips(m2)) {
      const phone = makeHandshake({ seed }).initiator;
      phone.writeMessage1();
      let result: unknown;
      const err = catchError(() => {
        result = phone.readMessage2(bytes);
      });
      expect(result, `bit ${bit}`).toBeUndefined();
      expect(['AUTH_FAILED', 'BAD_MESSAGE_TYPE', 'UNEXPECTED_MESSAGE', 'LOW_ORDER_POINT']).toContain(
        err.code,
      );
      expect(phone.state).toBe('failed');
      expect(catchError(() => phone.readMessage2(m2)).code).toBe('CLOSED');
    }
  });

  it('completes with the genuine message 2 when nothing was tampered with (control for the flips above)', () => {
    const seed = 'flip-message-2';
    const { initiator, responder } = makeHandshake({ seed });
    responder.readMessage1(initiator.writeMessage1());
    const m2 = responder.writeMessage2(Uint8Array.of(4, 5)).message;
    const phone = makeHandshake({ seed }).initiator;
    phone.writeMessage1();
    expect(bytesEqual(phone.readMessage2(m2).payload, Uint8Array.of(4, 5))).toBe(true);
  });

  it('does not change the caller key pair when it destroys its own secrets', () => {
    const phone = keyPair('keep-me');
    const before = toHex(phone.privateKey);
    const init = new SessionInitiator({
      staticKeyPair: phone,
      toyStaticPublicKey: TOY.publicKey,
      prologue: PROLOGUE,
      random: seededRandom('keep'),
    });
    expect(catchError(() => init.readMessage2(new Uint8Array(10))).code).toBe('BAD_STATE');
    init.writeMessage1();
    catchError(() => init.readMessage2(new Uint8Array(60)));
    expect(toHex(phone.privateKey)).toBe(before);
  });
});
