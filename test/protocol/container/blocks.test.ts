import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../../../protocol/bytes.js';
import { MAX_PACKET_UNIT_BYTES } from '../../../protocol/container/constants.js';
import { cutIntoBlocks, packetBoundaries, planBlocks } from '../../../protocol/container/container.js';
import { seededRandom } from '../../../protocol/random.js';
import { syntheticContainer } from './synth.js';

describe('cutting a container into blocks', () => {
  const c = syntheticContainer(seededRandom('blocks'), 200, 1, 200);
  const boundaries = packetBoundaries(c);
  const isBoundary = new Set(boundaries);

  it('makes blocks of at most maxBlock bytes that start and end on boundaries and cover the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 202, max: 3000 }),
        fc.nat(boundaries.length - 1),
        (maxBlock, startIndex) => {
          const start = boundaries[startIndex]!;
          const spans = planBlocks(boundaries, maxBlock, start);
          let at = start;
          for (const s of spans) {
            expect(s.offset).toBe(at);
            expect(s.length).toBeGreaterThan(0);
            expect(s.length).toBeLessThanOrEqual(maxBlock);
            expect(isBoundary.has(s.offset + s.length)).toBe(true);
            // Greedy: the next unit would not have fitted.
            const next = boundaries[boundaries.indexOf(s.offset + s.length) + 1];
            if (next !== undefined) expect(next - s.offset).toBeGreaterThan(maxBlock);
            at += s.length;
          }
          expect(at).toBe(c.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reassembles to the container', () => {
    expect(concat(...cutIntoBlocks(c, 1000))).toEqual(c);
    expect(cutIntoBlocks(c, 1000, c.length)).toEqual([]);
  });

  it('always fits any valid packet in a block of MAX_PACKET_UNIT_BYTES', () => {
    const big = syntheticContainer(seededRandom('big'), 6, 1275, 1275);
    const blocks = cutIntoBlocks(big, MAX_PACKET_UNIT_BYTES);
    expect(blocks.map((b) => b.length)).toEqual([17, 1277, 1277, 1277, 1277, 1277, 1277]);
  });

  it('refuses a start inside a unit and a block size smaller than a unit', () => {
    expect(() => planBlocks(boundaries, 1000, 18)).toThrowError(
      expect.objectContaining({ code: 'NOT_A_BOUNDARY' }),
    );
    expect(() => planBlocks(boundaries, 16, 0)).toThrowError(
      expect.objectContaining({ code: 'BLOCK_TOO_SMALL' }),
    );
    expect(() => planBlocks(boundaries, 0, 0)).toThrowError(
      expect.objectContaining({ code: 'BLOCK_TOO_SMALL' }),
    );
  });
});
