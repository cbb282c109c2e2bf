/** Vectors for the INFO value, the advertisement service data and the rotating tag (PROTOCOL.md §2–3). */
import { toHex } from '../../../protocol/bytes.js';
import { encodeAdvertisement, makeTag } from '../../../protocol/gatt/advertising.js';
import { encodeInfo } from '../../../protocol/gatt/info.js';
import { seededRandom } from '../../../protocol/random.js';

export function generate() {
  const random = seededRandom('pawlink vectors: gatt');
  const tagKey = random(16);
  const tagRandom = random(4);
  const tag = makeTag(tagKey, () => tagRandom);
  return {
    description: 'INFO values, advertisement service data and a resolvable tag (PROTOCOL.md §2.1, §3)',
    info: [
      { minVersion: 1, maxVersion: 1, pairingWindowOpen: false, maxWindow: 16 },
      { minVersion: 1, maxVersion: 1, pairingWindowOpen: true, maxWindow: 32 },
    ].map((i) => ({ ...i, hex: toHex(encodeInfo(i)) })),
    tag: { tagKey: toHex(tagKey), random: toHex(tagRandom), tag: toHex(tag) },
    advertisements: [
      { version: 1, pairingWindowOpen: true, discriminator: 0xa5c },
      { version: 1, pairingWindowOpen: false, tag: toHex(tag) },
      { version: 1, pairingWindowOpen: true, tag: toHex(tag), discriminator: 0xfff },
    ].map((a) => ({
      ...a,
      hex: toHex(
        encodeAdvertisement({
          version: a.version,
          pairingWindowOpen: a.pairingWindowOpen,
          ...(a.tag ? { tag: Buffer.from(a.tag, 'hex') } : {}),
          ...(a.discriminator !== undefined ? { discriminator: a.discriminator } : {}),
        }),
      ),
    })),
  };
}
