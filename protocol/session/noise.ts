/**
 * The pieces of the Noise Protocol Framework (revision 34) that Noise_IK_25519_ChaChaPoly_SHA256
 * needs: CipherState (§5.1), SymmetricState (§5.2) with Noise's HKDF (§4.3), and a HandshakeState
 * (§5.3) for the IK pattern only:
 *
 *     IK:
 *       <- s
 *       ...
 *       -> e, es, s, ss
 *       <- e, ee, se
 *
 * Written from the specification's text; checked bit for bit against the published cacophony test
 * vector (test/vectors/noise-ik-cacophony.json). Pure: ephemeral keys come from an injected
 * RandomSource, primitives from protocol/crypto.ts. Every failure is a SessionError; a handshake
 * method that throws leaves the HandshakeState exactly as it was (work is done on a copy and
 * committed only on success). PawLink's wrappers (handshake.ts) then abandon the handshake, as Noise
 * §5 requires after any error.
 */
import { concat } from '../bytes.js';
import { aeadOpen, aeadSeal, hmacSha256, sha256, x25519, x25519PublicKey } from '../crypto.js';
import { SessionError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  AEAD_NONCE_LEN,
  CIPHER_KEY_LEN,
  DHLEN,
  HASHLEN,
  IK_MESSAGE1_OVERHEAD,
  IK_MESSAGE2_OVERHEAD,
  MAX_NOISE_MESSAGE_LEN,
  MAX_NONCE,
  NOISE_PROTOCOL_NAME,
  TAG_LEN,
} from './constants.js';

const EMPTY = new Uint8Array(0);

/** An X25519 key pair (Noise §12.1). */
export interface KeyPair {
  /** 32-byte private key (any 32 bytes; X25519 clamps it, RFC 7748 §5). */
  readonly privateKey: Uint8Array;
  /** 32-byte public key = X25519(privateKey, 9). */
  readonly publicKey: Uint8Array;
}

/** The key pair for a 32-byte private key. Throws SessionError BAD_KEY for any other length. */
export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  if (privateKey.length !== DHLEN) {
    throw new SessionError('BAD_KEY', `X25519 private key must be ${DHLEN} bytes, got ${privateKey.length}`);
  }
  const priv = privateKey.slice();
  return { privateKey: priv, publicKey: x25519PublicKey(priv) };
}

/** GENERATE_KEYPAIR() (Noise §4.1): 32 bytes from `random` as the private key. */
export function generateKeyPair(random: RandomSource): KeyPair {
  const drawn = random(DHLEN);
  try {
    return keyPairFromPrivateKey(drawn);
  } finally {
    drawn.fill(0);
  }
}

/**
 * DH(key_pair, public_key) (Noise §4.1, §12.1). Noise lets an implementation signal an error for a
 * peer key that gives an all-zero output instead of using the zeros (§12.1); PawLink does, so a
 * low-order point is refused up front as LOW_ORDER_POINT (crypto.ts returns null for it).
 */
export function dh(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== DHLEN) {
    throw new SessionError('BAD_KEY', `X25519 public key must be ${DHLEN} bytes, got ${publicKey.length}`);
  }
  const out = x25519(keyPair.privateKey, publicKey);
  if (out === null) {
    throw new SessionError('LOW_ORDER_POINT', 'peer X25519 key is a low-order point (all-zero DH output)');
  }
  return out;
}

/** The 12-byte ChaChaPoly nonce for counter n: 32 zero bits, then n as u64 little-endian (Noise §12.3). */
export function noiseNonce(n: bigint): Uint8Array {
  const nonce = new Uint8Array(AEAD_NONCE_LEN);
  new DataView(nonce.buffer).setBigUint64(4, n, true);
  return nonce;
}

/** ENCRYPT(k, n, ad, plaintext) (Noise §4.2): AEAD_CHACHA20_POLY1305, returns ciphertext ‖ 16-byte tag. */
export function encrypt(k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return aeadSeal(k, noiseNonce(n), plaintext, ad);
}

/** DECRYPT(k, n, ad, ciphertext) (Noise §4.2): the plaintext, or SessionError AUTH_FAILED. */
export function decrypt(k: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const out = aeadOpen(k, noiseNonce(n), ciphertext, ad);
  if (out === null) throw new SessionError('AUTH_FAILED', 'ciphertext failed authentication');
  return out;
}

/**
 * REKEY(k) (Noise §4.2, §11.3): the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). A
 * one-way function of k, so a later key does not reveal an earlier one.
 */
export function rekey(k: Uint8Array): Uint8Array {
  return encrypt(k, MAX_NONCE, EMPTY, new Uint8Array(CIPHER_KEY_LEN)).slice(0, CIPHER_KEY_LEN);
}

/**
 * HKDF(chaining_key, input_key_material, 2) (Noise §4.3): HMAC-SHA256 based; equal to RFC 5869 HKDF
 * with the chaining key as salt and empty info, taking the first two 32-byte blocks.
 */
export function noiseHkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
  const tempKey = hmacSha256(chainingKey, inputKeyMaterial);
  const output1 = hmacSha256(tempKey, Uint8Array.of(0x01));
  const output2 = hmacSha256(tempKey, output1, Uint8Array.of(0x02));
  tempKey.fill(0);
  return [output1, output2];
}

/** Noise CipherState (§5.1): a key k (which may be empty) and a 64-bit nonce n. */
export class CipherState {
  private k: Uint8Array | undefined;
  private n: bigint;

  /** InitializeKey(key): an empty state when `key` is undefined. The key is copied. */
  constructor(key?: Uint8Array, nonce = 0n) {
    if (key !== undefined && key.length !== CIPHER_KEY_LEN) {
      throw new SessionError('BAD_KEY', `cipher key must be ${CIPHER_KEY_LEN} bytes, got ${key.length}`);
    }
    this.k = key?.slice();
    this.n = nonce;
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  /** The next nonce this state will use. */
  get nonce(): bigint {
    return this.n;
  }

  /**
   * EncryptWithAd(ad, plaintext): ENCRYPT(k, n++, ad, plaintext), or the plaintext itself while k is
   * empty. Refuses with NONCE_EXHAUSTED once n has reached the reserved 2^64-1.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.k === undefined) return plaintext.slice();
    this.checkNonce();
    const out = encrypt(this.k, this.n, ad, plaintext);
    this.n += 1n;
    return out;
  }

  /** DecryptWithAd(ad, ciphertext): on an authentication failure n is not incremented (§5.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.k === undefined) return ciphertext.slice();
    this.checkNonce();
    const out = decrypt(this.k, this.n, ad, ciphertext);
    this.n += 1n;
    return out;
  }

  /** Rekey(): k = REKEY(k); n is unchanged (§11.3). */
  rekey(): void {
    if (this.k === undefined) throw new SessionError('BAD_STATE', 'cannot rekey an empty CipherState');
    const old = this.k;
    this.k = rekey(old);
    old.fill(0);
  }

  /** A copy of the key (for the record layer, which keeps its own key and counter). */
  exportKey(): Uint8Array {
    if (this.k === undefined) throw new SessionError('BAD_STATE', 'CipherState has no key');
    return this.k.slice();
  }

  clone(): CipherState {
    return new CipherState(this.k, this.n);
  }

  /** Overwrites the key; the state becomes empty. */
  destroy(): void {
    this.k?.fill(0);
    this.k = undefined;
  }

  private checkNonce(): void {
    if (this.n >= MAX_NONCE) throw new SessionError('NONCE_EXHAUSTED', 'nonce 2^64-1 is reserved');
  }
}

/** Noise SymmetricState (§5.2): a CipherState plus the chaining key ck and the handshake hash h. */
export class SymmetricState {
  private constructor(
    private ck: Uint8Array,
    private h: Uint8Array,
    private cipher: CipherState,
  ) {}

  /**
   * InitializeSymmetric(protocol_name): h = the name zero-padded to HASHLEN if it fits, else
   * HASH(name); ck = h; empty key.
   */
  static initialize(protocolName: string): SymmetricState {
    const name = new TextEncoder().encode(protocolName);
    let h: Uint8Array;
    if (name.length <= HASHLEN) {
      h = new Uint8Array(HASHLEN);
      h.set(name);
    } else {
      h = sha256(name);
    }
    return new SymmetricState(h.slice(), h, new CipherState());
  }

  /** MixKey(ikm): ck, temp_k = HKDF(ck, ikm); InitializeKey(temp_k). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.ck, inputKeyMaterial);
    this.ck.fill(0);
    this.ck = ck;
    this.cipher.destroy();
    this.cipher = new CipherState(tempK);
    tempK.fill(0);
  }

  /** MixHash(data): h = HASH(h ‖ data). */
  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  /** EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  hasKey(): boolean {
    return this.cipher.hasKey();
  }

  /** GetHandshakeHash(): h (a copy). Used for channel binding (§11.2). */
  handshakeHash(): Uint8Array {
    return this.h.slice();
  }

  /** Split(): temp_k1, temp_k2 = HKDF(ck, empty); c1 (initiator → responder), c2 (responder → initiator). */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.ck, EMPTY);
    const pair: [CipherState, CipherState] = [new CipherState(k1), new CipherState(k2)];
    k1.fill(0);
    k2.fill(0);
    return pair;
  }

  clone(): SymmetricState {
    return new SymmetricState(this.ck.slice(), this.h.slice(), this.cipher.clone());
  }

  /** Overwrites ck and the handshake key. */
  destroy(): void {
    this.ck.fill(0);
    this.cipher.destroy();
  }
}

/** Where a NoiseIkHandshake is in the IK pattern. */
export type NoiseIkStep = 'message1' | 'message2' | 'complete';

export interface NoiseIkOptions {
  /** true for the party that sends message 1 (PawLink: the phone). */
  initiator: boolean;
  /** Prologue bytes both parties must agree on (Noise §6); PawLink builds it with `sessionPrologue`. */
  prologue: Uint8Array;
  /** This party's static key pair s. */
  staticKeyPair: KeyPair;
  /** Initiator only: the responder's static public key rs, known in advance (IK pre-message `<- s`). */
  remoteStaticKey?: Uint8Array;
  /** Source of the ephemeral private key (32 bytes drawn when this party writes its message). */
  random: RandomSource;
}

interface IkWorking {
  sym: SymmetricState;
  e: KeyPair | undefined;
  re: Uint8Array | undefined;
  rs: Uint8Array | undefined;
}

/**
 * Noise HandshakeState (§5.3) specialised to IK. Initiator: writeMessage() then readMessage().
 * Responder: readMessage() then writeMessage(). After message 2 both call split().
 */
export class NoiseIkHandshake {
  private sym: SymmetricState;
  private readonly s: KeyPair;
  private e: KeyPair | undefined;
  private rs: Uint8Array | undefined;
  private re: Uint8Array | undefined;
  private readonly initiator: boolean;
  private readonly random: RandomSource;
  private stepValue: NoiseIkStep = 'message1';

  /** Initialize(IK, initiator, prologue, s, rs) (§5.3): name, MixHash(prologue), MixHash(responder's s). */
  constructor(options: NoiseIkOptions) {
    const s = options.staticKeyPair;
    if (s.privateKey.length !== DHLEN || s.publicKey.length !== DHLEN) {
      throw new SessionError('BAD_KEY', `static key pair must be two ${DHLEN}-byte keys`);
    }
    if (options.initiator) {
      if (options.remoteStaticKey === undefined || options.remoteStaticKey.length !== DHLEN) {
        throw new SessionError('BAD_KEY', `IK initiator needs the responder's ${DHLEN}-byte static key`);
      }
    } else if (options.remoteStaticKey !== undefined) {
      throw new SessionError('BAD_KEY', 'IK responder learns the initiator static key from message 1');
    }
    this.initiator = options.initiator;
    this.random = options.random;
    this.s = { privateKey: s.privateKey.slice(), publicKey: s.publicKey.slice() };
    this.rs = options.remoteStaticKey?.slice();
    this.sym = SymmetricState.initialize(NOISE_PROTOCOL_NAME);
    this.sym.mixHash(options.prologue);
    // Pre-message `<- s`: the responder's static public key, known to the initiator beforehand.
    this.sym.mixHash(this.initiator ? this.rs! : this.s.publicKey);
  }

  get isInitiator(): boolean {
    return this.initiator;
  }

  /** The next message of the pattern, or 'complete'. */
  get step(): NoiseIkStep {
    return this.stepValue;
  }

  /** rs: for the initiator from the start, for the responder once message 1 has been read. */
  get remoteStaticKey(): Uint8Array | undefined {
    return this.rs?.slice();
  }

  /** h so far (after message 2: the handshake hash of §11.2). */
  get handshakeHash(): Uint8Array {
    return this.sym.handshakeHash();
  }

  /** WriteMessage(payload) (§5.3): message 1 for the initiator, message 2 for the responder. */
  writeMessage(payload: Uint8Array): Uint8Array {
    const expected = this.initiator ? 'message1' : 'message2';
    if (this.stepValue !== expected) {
      throw new SessionError('BAD_STATE', `cannot write now: the handshake expects ${this.stepValue}`);
    }
    const overhead = this.initiator ? IK_MESSAGE1_OVERHEAD : IK_MESSAGE2_OVERHEAD;
    if (payload.length + overhead > MAX_NOISE_MESSAGE_LEN) {
      throw new SessionError('PAYLOAD_TOO_LARGE', 'Noise messages are at most 65535 bytes (Noise §3)');
    }
    const w = this.working();
    try {
      const parts: Uint8Array[] = [];
      // "e": a fresh ephemeral key pair, public key in clear, MixHash(e.public_key).
      const e = generateKeyPair(this.random);
      w.e = e;
      parts.push(e.publicKey);
      w.sym.mixHash(e.publicKey);
      if (this.initiator) {
        // -> e, es, s, ss
        w.sym.mixKey(dh(e, w.rs!)); // es
        parts.push(w.sym.encryptAndHash(this.s.publicKey)); // s
        w.sym.mixKey(dh(this.s, w.rs!)); // ss
      } else {
        // <- e, ee, se
        w.sym.mixKey(dh(e, w.re!)); // ee
        w.sym.mixKey(dh(e, w.rs!)); // se (responder: DH(e, rs))
      }
      parts.push(w.sym.encryptAndHash(payload));
      this.commit(w);
      return concat(...parts);
    } catch (err) {
      this.discard(w);
      throw err;
    }
  }

  /**
   * ReadMessage(message) (§5.3): message 1 for the responder, message 2 for the initiator. Returns the
   * payload. On any error (length, low-order key, failed decryption) the state is unchanged.
   */
  readMessage(message: Uint8Array): Uint8Array {
    const expected = this.initiator ? 'message2' : 'message1';
    if (this.stepValue !== expected) {
      throw new SessionError('BAD_STATE', `cannot read now: the handshake expects ${this.stepValue}`);
    }
    const overhead = this.initiator ? IK_MESSAGE2_OVERHEAD : IK_MESSAGE1_OVERHEAD;
    if (message.length < overhead) {
      throw new SessionError(
        'TRUNCATED',
        `IK ${expected} needs at least ${overhead} bytes, got ${message.length}`,
      );
    }
    if (message.length > MAX_NOISE_MESSAGE_LEN) {
      throw new SessionError('MESSAGE_TOO_LARGE', 'Noise messages are at most 65535 bytes (Noise §3)');
    }
    const w = this.working();
    try {
      // "e": re = the next DHLEN bytes; MixHash(re).
      const re = message.slice(0, DHLEN);
      let offset = DHLEN;
      w.re = re;
      w.sym.mixHash(re);
      if (this.initiator) {
        // <- e, ee, se
        w.sym.mixKey(dh(w.e!, re)); // ee
        w.sym.mixKey(dh(this.s, re)); // se (initiator: DH(s, re))
      } else {
        // -> e, es, s, ss
        w.sym.mixKey(dh(this.s, re)); // es (responder: DH(s, re))
        const rs = w.sym.decryptAndHash(message.subarray(offset, offset + DHLEN + TAG_LEN)); // s
        offset += DHLEN + TAG_LEN;
        w.rs = rs;
        w.sym.mixKey(dh(this.s, rs)); // ss
      }
      const payload = w.sym.decryptAndHash(message.subarray(offset));
      this.commit(w);
      return payload;
    } catch (err) {
      this.discard(w);
      throw err;
    }
  }

  /**
   * Split() (§5.2) once both messages are done: [c1, c2] with c1 for initiator → responder and c2 for
   * responder → initiator. The handshake's own secrets are overwritten.
   */
  split(): [CipherState, CipherState] {
    if (this.stepValue !== 'complete') {
      throw new SessionError('BAD_STATE', 'the handshake is not complete');
    }
    const pair = this.sym.split();
    this.destroyEphemeral();
    return pair;
  }

  /** Overwrites every secret this handshake holds (call when abandoning it). */
  destroy(): void {
    this.destroyEphemeral();
    this.sym.destroy();
    this.s.privateKey.fill(0);
  }

  private destroyEphemeral(): void {
    this.e?.privateKey.fill(0);
  }

  private working(): IkWorking {
    return { sym: this.sym.clone(), e: this.e, re: this.re, rs: this.rs };
  }

  /** Drops a failed working copy: its secrets are overwritten, the committed state is untouched. */
  private discard(w: IkWorking): void {
    w.sym.destroy();
    if (w.e !== this.e) w.e?.privateKey.fill(0);
  }

  private commit(w: IkWorking): void {
    this.sym.destroy();
    this.sym = w.sym;
    this.e = w.e;
    this.re = w.re;
    this.rs = w.rs;
    this.stepValue = this.stepValue === 'message1' ? 'message2' : 'complete';
  }
}
