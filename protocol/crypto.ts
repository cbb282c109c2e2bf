/**
 * Cryptographic primitives used by the pairing and session layers, on node:crypto (pure
 * computation: no I/O, no randomness drawn here). Failures that depend on peer input (a bad tag, a
 * low-order X25519 point) return `null` so each layer can throw its own typed error.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  timingSafeEqual as nodeTimingSafeEqual,
  pbkdf2Sync,
} from 'node:crypto';

export const SHA256_LEN = 32;
export const AEAD_KEY_LEN = 32;
export const AEAD_NONCE_LEN = 12;
export const AEAD_TAG_LEN = 16;
export const X25519_KEY_LEN = 32;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** HKDF-SHA256 (RFC 5869): extract with `salt` (empty = zeros), expand with `info`. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** PBKDF2-HMAC-SHA256 (RFC 8018). */
export function pbkdf2Sha256(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Uint8Array {
  return new Uint8Array(pbkdf2Sync(password, salt, iterations, length, 'sha256'));
}

/** Constant-time comparison of two secrets; false (not an exception) when lengths differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nodeTimingSafeEqual(a, b);
}

/** ChaCha20-Poly1305 (RFC 8439) seal: returns ciphertext ‖ 16-byte tag. */
export function aeadSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_LEN });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  const out = new Uint8Array(body.length + AEAD_TAG_LEN);
  out.set(body, 0);
  out.set(c.getAuthTag(), body.length);
  return out;
}

/** ChaCha20-Poly1305 open: the plaintext, or `null` if the input is short or fails authentication. */
export function aeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  if (sealed.length < AEAD_TAG_LEN) return null;
  const bodyLen = sealed.length - AEAD_TAG_LEN;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_LEN });
  d.setAuthTag(sealed.subarray(bodyLen));
  d.setAAD(ad, { plaintextLength: bodyLen });
  const body = d.update(sealed.subarray(0, bodyLen));
  try {
    d.final();
  } catch {
    return null;
  }
  return new Uint8Array(body);
}

// node:crypto takes raw X25519 keys as JWK (RFC 8037); it derives the public part from `d` itself
// (checked against RFC 7748 section 6.1 in test/protocol/crypto.test.ts). JWK import is about 10x
// cheaper than PKCS#8 DER import here, which matters for the Noise handshake budget.
const b64u = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

function privateKeyObject(priv: Uint8Array) {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(priv), x: '' }, format: 'jwk' });
}

/** The X25519 public key (RFC 7748) for a 32-byte private key. */
export function x25519PublicKey(priv: Uint8Array): Uint8Array {
  if (priv.length !== X25519_KEY_LEN) throw new RangeError('X25519 private key must be 32 bytes');
  const x = createPublicKey(privateKeyObject(priv)).export({ format: 'jwk' }).x as string;
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

/**
 * X25519 Diffie-Hellman. Returns `null` when the peer's key is a low-order point (the shared
 * secret would be all zeros), which callers treat as an authentication failure.
 */
export function x25519(priv: Uint8Array, peerPub: Uint8Array): Uint8Array | null {
  if (priv.length !== X25519_KEY_LEN || peerPub.length !== X25519_KEY_LEN) return null;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: b64u(peerPub) },
      format: 'jwk',
    });
    const shared = new Uint8Array(diffieHellman({ privateKey: privateKeyObject(priv), publicKey }));
    return shared.every((v) => v === 0) ? null : shared;
  } catch {
    return null;
  }
}
