/** Shared fixtures for the session-layer tests: seeded keys, a finished handshake, byte mutations. */
import fc from 'fast-check';
import { bytesEqual, concat, fromHex } from '../../../protocol/bytes.js';
import { seededRandom } from '../../../protocol/random.js';
import { SessionInitiator, SessionResponder, sessionPrologue } from '../../../protocol/session/handshake.js';
import { type KeyPair, keyPairFromPrivateKey } from '../../../protocol/session/noise.js';
import type { SecureSession } from '../../../protocol/session/records.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';

/** BTP handshake request (9 bytes) ‖ response (6 bytes), as the framing endpoint's handshakeTranscript. */
export const FRAMING_TRANSCRIPT = fromHex('656c04000000f70020' + '656c04f40010');
/** A 16-byte toy id, as exchanged at pairing. */
export const TOY_ID = fromHex('546f792d303030412d74657374696e67');
export const PROLOGUE = sessionPrologue(PROTOCOL_VERSION, FRAMING_TRANSCRIPT, TOY_ID);

export function keyPair(seed: string): KeyPair {
  return keyPairFromPrivateKey(seededRandom(`test/session/${seed}`)(32));
}

export const PHONE = keyPair('phone');
export const TOY = keyPair('toy');

export interface PairedPhone {
  phoneId: number;
  publicKey: Uint8Array;
}

/** A pairing table lookup over the given phones. */
export function pairingTable(...phones: PairedPhone[]) {
  return (key: Uint8Array): PairedPhone | undefined => phones.find((p) => bytesEqual(p.publicKey, key));
}

export interface HandshakeSetup {
  phone?: KeyPair;
  toy?: KeyPair;
  /** The toy key the phone believes it is talking to (default: `toy`'s). */
  expectedToyKey?: Uint8Array;
  phonePrologue?: Uint8Array;
  toyPrologue?: Uint8Array;
  table?: (key: Uint8Array) => PairedPhone | undefined;
  seed?: string;
  rekeyInterval?: bigint;
  toyRekeyInterval?: bigint;
}

export function makeHandshake(setup: HandshakeSetup = {}) {
  const phoneKeys = setup.phone ?? PHONE;
  const toyKeys = setup.toy ?? TOY;
  const seed = setup.seed ?? 'handshake';
  const initiator = new SessionInitiator({
    staticKeyPair: phoneKeys,
    toyStaticPublicKey: setup.expectedToyKey ?? toyKeys.publicKey,
    prologue: setup.phonePrologue ?? PROLOGUE,
    random: seededRandom(`${seed}/phone-e`),
    rekeyInterval: setup.rekeyInterval,
  });
  const responder = new SessionResponder({
    staticKeyPair: toyKeys,
    prologue: setup.toyPrologue ?? PROLOGUE,
    random: seededRandom(`${seed}/toy-e`),
    lookupPhone: setup.table ?? pairingTable({ phoneId: 7, publicKey: phoneKeys.publicKey }),
    rekeyInterval: setup.toyRekeyInterval ?? setup.rekeyInterval,
  });
  return { initiator, responder };
}

/** Runs the whole handshake and returns both sessions. */
export function establish(setup: HandshakeSetup = {}): { phone: SecureSession; toy: SecureSession } {
  const { initiator, responder } = makeHandshake(setup);
  responder.readMessage1(initiator.writeMessage1());
  const { message, session: toy } = responder.writeMessage2();
  const { session: phone } = initiator.readMessage2(message);
  return { phone, toy };
}

/** One edit applied to a byte string. */
type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; value: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

function applyEdit(bytes: Uint8Array, edit: Edit): Uint8Array {
  const n = bytes.length;
  switch (edit.kind) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[edit.at % n]! ^= 1 << edit.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[edit.at % n] = edit.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, n === 0 ? 0 : edit.at % n);
    case 'append':
      return concat(bytes, edit.bytes);
    case 'insert': {
      const at = edit.at % (n + 1);
      return concat(bytes.subarray(0, at), Uint8Array.of(edit.value), bytes.subarray(at));
    }
  }
}

/** Valid bytes with 1..4 random edits, never equal to the original. */
export function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(editArb, { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce(applyEdit, valid))
    .filter((b) => !bytesEqual(b, valid));
}

/** Random bytes, or a mutation of `valid` (the mutations reach deep into the parser). */
export function hostileBytes(valid: Uint8Array, maxLength = 400): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }).filter((b) => !bytesEqual(b, valid)) },
    { weight: 3, arbitrary: mutated(valid) },
  );
}

/** Every single-bit flip of `bytes`. */
export function* bitFlips(bytes: Uint8Array): Generator<{ bit: number; bytes: Uint8Array }> {
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const out = bytes.slice();
    out[bit >> 3]! ^= 1 << (bit & 7);
    yield { bit, bytes: out };
  }
}
