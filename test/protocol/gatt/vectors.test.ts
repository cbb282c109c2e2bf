import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { decodeAdvertisement, resolveTag } from '../../../protocol/gatt/advertising.js';
import { decodeInfo } from '../../../protocol/gatt/info.js';
import { generate } from '../../vectors/generate/gatt.js';
import { loadVectors } from '../../vectors/load.js';

describe('GATT vectors (test/vectors/gatt.json)', () => {
  const vectors = loadVectors<ReturnType<typeof generate>>('gatt');

  it('are reproduced bit for bit by the code', () => {
    expect(generate()).toEqual(vectors);
  });

  it('decode back to their fields, and the tag resolves under its key', () => {
    for (const v of vectors.info) {
      const { hex, ...fields } = v;
      expect(decodeInfo(fromHex(hex))).toEqual(fields);
    }
    for (const v of vectors.advertisements) {
      const adv = decodeAdvertisement(fromHex(v.hex));
      expect(adv.discriminator).toBe(v.discriminator);
      expect(adv.tag ? toHex(adv.tag) : undefined).toBe(v.tag);
    }
    expect(resolveTag(fromHex(vectors.tag.tag), fromHex(vectors.tag.tagKey))).toBe(true);
  });
});
