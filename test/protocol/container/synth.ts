/**
 * Synthetic voice containers for tests and vectors: random "Opus packets" (random bytes of random
 * lengths; the container never decodes audio, so no encoder is needed) from a seeded RandomSource.
 */

import { LIBOPUS_PRE_SKIP_16K } from '../../../protocol/container/constants.js';
import { encodeContainer } from '../../../protocol/container/container.js';
import type { RandomSource } from '../../../protocol/random.js';

/** `count` packets with lengths uniform in [minLen, maxLen] and random contents. */
export function syntheticPackets(
  random: RandomSource,
  count: number,
  minLen = 20,
  maxLen = 80,
): Uint8Array[] {
  const span = maxLen - minLen + 1;
  const packets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = random(2);
    const len = minLen + ((r[0]! | (r[1]! << 8)) % span);
    packets.push(random(len));
  }
  return packets;
}

/** A valid container of `count` synthetic packets (pre-skip 104, no end trimming). */
export function syntheticContainer(
  random: RandomSource,
  count: number,
  minLen = 20,
  maxLen = 80,
): Uint8Array {
  return encodeContainer({
    preSkip: LIBOPUS_PRE_SKIP_16K,
    packets: syntheticPackets(random, count, minLen, maxLen),
  });
}
