/**
 * Fuzzing the flash store's mount (header and index decoders): damaged images make `open` and
 * `get` throw only FlashError, and a value that opens is always exactly what was stored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlashError } from '../../firmware-sim/errors.js';
import { type FlashSealer, FlashStore, MemoryFlash } from '../../firmware-sim/flash.js';
import { toHex } from '../../protocol/bytes.js';
import { fuzzParams } from '../fuzz/config.js';
import { bytesOf, SMALL, SMALL_LAYOUT, smallStore, testSealer } from './flash-helpers.js';

/** Seals nothing: damage to the index reaches its decoder (the real sealer refuses it first). */
const transparent: FlashSealer = {
  keyCheck: new Uint8Array(8),
  overhead: 0,
  seal: (_ad, plaintext) => plaintext.slice(),
  open: (_ad, sealed) => sealed.slice(),
};

function imageWith(sealer: FlashSealer): { image: Uint8Array; values: Map<string, string> } {
  const { device, store } = smallStore(sealer, (s) => {
    s.put('inline', Uint8Array.of(1, 2, 3));
    s.put('paged', bytesOf('paged', 700));
    s.put('dir/x', bytesOf('x', 300));
  });
  return { image: device.dump(), values: new Map(store.keys().map((k) => [k, toHex(store.get(k)!)])) };
}

/** The index slots are the first 4 pages of the small layout. */
const SLOTS_BYTES = 4 * 256;

/** A valid image with a few bytes overwritten (mostly in the index slots), or random index slots. */
function damaged(image: Uint8Array) {
  return fc.oneof(
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.nat(SLOTS_BYTES - 1), fc.nat(image.length - 1)),
          fc.integer({ min: 0, max: 255 }),
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((edits) => {
        const out = image.slice();
        for (const [at, v] of edits) out[at] = v;
        return out;
      }),
    fc.tuple(fc.uint8Array({ maxLength: SLOTS_BYTES }), fc.nat(SLOTS_BYTES)).map(([bytes, at]) => {
      const out = image.slice();
      out.set(bytes.subarray(0, SLOTS_BYTES - Math.min(at, SLOTS_BYTES)), Math.min(at, SLOTS_BYTES));
      return out;
    }),
  );
}

function onlyFlashErrors(run: () => void): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(FlashError);
  }
}

describe('flash store mount under fuzzing', () => {
  it('decodes any damaged index with FlashError only (index unsealed, so the decoder sees the damage)', () => {
    const { image } = imageWith(transparent);
    fc.assert(
      fc.property(damaged(image), (img) => {
        onlyFlashErrors(() => {
          const store = FlashStore.open(
            new MemoryFlash({ image: img, pageSize: SMALL.pageSize }),
            transparent,
            SMALL_LAYOUT,
          );
          for (const k of store.keys()) onlyFlashErrors(() => store.get(k));
        });
      }),
      fuzzParams(),
    );
  });

  it('never returns a value other than the one stored, whatever bytes of the image are damaged', () => {
    const sealer = testSealer('fuzz');
    const { image, values } = imageWith(sealer);
    fc.assert(
      fc.property(damaged(image), (img) => {
        onlyFlashErrors(() => {
          const store = FlashStore.open(
            new MemoryFlash({ image: img, pageSize: SMALL.pageSize }),
            sealer,
            SMALL_LAYOUT,
          );
          for (const k of store.keys()) {
            onlyFlashErrors(() => expect(toHex(store.get(k)!)).toBe(values.get(k)));
          }
        });
      }),
      fuzzParams(),
    );
  });
});
