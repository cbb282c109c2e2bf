/**
 * Randomness is injected into every protocol state machine: `protocol/` never calls
 * `crypto.randomBytes` or `Math.random` itself. Production code passes `systemRandom` from the
 * layer that owns I/O; tests and test vectors pass `seededRandom(seed)`.
 */
import { createHash } from 'node:crypto';

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/**
 * Deterministic byte stream for tests and vectors only: block i = SHA-256(seed ‖ u64le(i)),
 * concatenated. Never use it for a real toy's keys.
 */
export function seededRandom(seed: string | Uint8Array): RandomSource {
  const seedBytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed;
  let counter = 0n;
  let pool = new Uint8Array(0);
  return (length: number) => {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (pool.length === 0) {
        const ctr = Buffer.alloc(8);
        ctr.writeBigUInt64LE(counter++);
        pool = new Uint8Array(createHash('sha256').update(seedBytes).update(ctr).digest());
      }
      const take = Math.min(pool.length, length - filled);
      out.set(pool.subarray(0, take), filled);
      pool = pool.subarray(take);
      filled += take;
    }
    return out;
  };
}
