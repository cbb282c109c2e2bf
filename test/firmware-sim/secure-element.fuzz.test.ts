/**
 * Fuzzing the secure element's key file decoder: any content other than a valid key file is
 * SECURE_ELEMENT_CORRUPT (a ToyError), never another exception; a valid file gives its key.
 * (Opening a damaged file on disk, which leaves it untouched, is in secure-element.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ToyError } from '../../firmware-sim/errors.js';
import { decodeKeyFile, encodeKeyFile } from '../../firmware-sim/secure-element.js';
import { seededRandom } from '../../protocol/random.js';
import { fuzzParams } from '../fuzz/config.js';

const key = seededRandom('fuzz key')(32);
const valid = encodeKeyFile(key);

const input = fc.oneof(
  fc.uint8Array({ maxLength: 60 }),
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.nat(valid.length),
    )
    .map(([edits, cut]) => {
      const out = valid.slice(0, cut);
      for (const [at, v] of edits) if (at < out.length) out[at] = v;
      return out;
    }),
);

describe('secure element key file under fuzzing', () => {
  it('decodes only a valid file (to its key) and refuses anything else with SECURE_ELEMENT_CORRUPT', () => {
    expect(decodeKeyFile(valid)).toEqual(key);
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const decoded = decodeKeyFile(bytes, '/state/secure-element.key');
          expect(Buffer.from(bytes).equals(Buffer.from(valid))).toBe(true);
          expect(decoded).toEqual(key);
        } catch (e) {
          expect(e).toBeInstanceOf(ToyError);
          expect((e as ToyError).code).toBe('SECURE_ELEMENT_CORRUPT');
        }
      }),
      fuzzParams(),
    );
  });
});
