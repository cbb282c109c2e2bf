import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContainer } from '../../../protocol/container/container.js';
import { ContainerScanner } from '../../../protocol/container/scanner.js';
import { ContainerError } from '../../../protocol/errors.js';
import { seededRandom } from '../../../protocol/random.js';
import { fuzzParams } from '../../fuzz/config.js';
import { syntheticContainer } from './synth.js';

const valid = syntheticContainer(seededRandom('fuzz-container'), 10, 1, 40);

/** Random bytes, or a valid container with random bytes overwritten, inserted or cut. */
const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(valid.length),
      fc.uint8Array({ maxLength: 6 }),
    )
    .map(([edits, cut, tail]) => {
      const out = valid.slice();
      for (const [at, v] of edits) out[at] = v;
      const joined = new Uint8Array(cut + tail.length);
      joined.set(out.subarray(0, cut));
      joined.set(tail, cut);
      return joined;
    }),
);

function onlyContainerError(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ContainerError);
  }
}

describe('container parsing under fuzzing', () => {
  it('decodeContainer throws only ContainerError on random and mutated bytes', () => {
    fc.assert(
      fc.property(input, (bytes) => onlyContainerError(() => decodeContainer(bytes))),
      fuzzParams(),
    );
  });

  it('ContainerScanner.push throws only ContainerError and leaves its state unchanged when it does', () => {
    fc.assert(
      fc.property(
        input,
        fc.array(fc.nat(300), { maxLength: 5 }),
        fc.boolean(),
        (bytes, cuts, requireBoundary) => {
          const s = new ContainerScanner();
          let from = 0;
          for (const to of [...cuts.sort((a, b) => a - b), bytes.length]) {
            const chunk = bytes.subarray(from, Math.max(from, Math.min(to, bytes.length)));
            from += chunk.length;
            const before = [s.offset, s.packetCount, s.atBoundary, s.header];
            try {
              s.push(chunk, requireBoundary);
            } catch (e) {
              expect(e).toBeInstanceOf(ContainerError);
              expect([s.offset, s.packetCount, s.atBoundary, s.header]).toEqual(before);
              return;
            }
          }
          onlyContainerError(() => s.finish());
        },
      ),
      fuzzParams(),
    );
  });
});
