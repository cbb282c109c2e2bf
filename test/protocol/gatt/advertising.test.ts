import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkError } from '../../../protocol/errors.js';
import {
  type Advertisement,
  decodeAdvertisement,
  encodeAdvertisement,
  makeTag,
  resolveTag,
  tagEpoch,
} from '../../../protocol/gatt/advertising.js';
import { ADV_SERVICE_DATA_MAX, TAG_ROTATION_MS } from '../../../protocol/gatt/constants.js';
import { seededRandom } from '../../../protocol/random.js';
import { fuzzParams } from '../../fuzz/config.js';

const advArb: fc.Arbitrary<Advertisement> = fc
  .record({
    version: fc.integer({ min: 0, max: 255 }),
    pairingWindowOpen: fc.boolean(),
    tag: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
    discriminator: fc.option(fc.integer({ min: 0, max: 0xfff }), { nil: undefined }),
  })
  .map((a) => {
    const adv: Advertisement = { version: a.version, pairingWindowOpen: a.pairingWindowOpen };
    if (a.tag) adv.tag = a.tag;
    if (a.pairingWindowOpen && a.discriminator !== undefined) adv.discriminator = a.discriminator;
    return adv;
  });

describe('advertisement service data', () => {
  it('round-trips every valid advertisement and fits a legacy scan response', () => {
    fc.assert(
      fc.property(advArb, (adv) => {
        const bytes = encodeAdvertisement(adv);
        expect(bytes.length).toBeLessThanOrEqual(ADV_SERVICE_DATA_MAX);
        expect(decodeAdvertisement(bytes)).toEqual(adv);
      }),
    );
  });

  it('refuses to advertise the discriminator outside the pairing window', () => {
    expect(() =>
      encodeAdvertisement({ version: 1, pairingWindowOpen: false, discriminator: 5 }),
    ).toThrowError(expect.objectContaining({ name: 'LinkError', code: 'OUT_OF_RANGE' }));
  });

  it('throws only LinkError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        try {
          decodeAdvertisement(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(LinkError);
        }
      }),
      fuzzParams(),
    );
  });
});

describe('rotating resolvable tag', () => {
  const random = seededRandom('tag test');
  const keyA = random(16);
  const keyB = random(16);

  it('resolves under its own key and not under another toy key', () => {
    const tag = makeTag(keyA, random);
    expect(resolveTag(tag, keyA)).toBe(true);
    expect(resolveTag(tag, keyB)).toBe(false);
    const forged = tag.slice();
    forged[7]! ^= 1;
    expect(resolveTag(forged, keyA)).toBe(false);
  });

  it('carries no stable bytes across rotations: a scanner cannot link two periods', () => {
    const tags = Array.from({ length: 64 }, () => makeTag(keyA, random));
    for (let i = 0; i < 8; i++) {
      const column = new Set(tags.map((t) => t[i]));
      expect(column.size).toBeGreaterThan(20);
    }
    expect(tags.every((t) => resolveTag(t, keyA))).toBe(true);
  });

  it('changes epoch every 15 minutes', () => {
    expect(tagEpoch(0)).toBe(tagEpoch(TAG_ROTATION_MS - 1));
    expect(tagEpoch(TAG_ROTATION_MS)).toBe(tagEpoch(0) + 1);
  });
});
