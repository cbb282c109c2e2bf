import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeContainer, packetBoundaries } from '../../../protocol/container/container.js';
import { ContainerScanner } from '../../../protocol/container/scanner.js';
import { ContainerError } from '../../../protocol/errors.js';
import { seededRandom } from '../../../protocol/random.js';
import { syntheticContainer } from './synth.js';

type Outcome =
  | { ok: true; packets: number; sampleCount: number; preSkip: number }
  | { ok: false; code: string };

function fullDecode(bytes: Uint8Array): Outcome {
  try {
    const c = decodeContainer(bytes);
    return { ok: true, packets: c.packets.length, sampleCount: c.sampleCount, preSkip: c.preSkip };
  } catch (e) {
    if (!(e instanceof ContainerError)) throw e;
    return { ok: false, code: e.code };
  }
}

/** Feeds `bytes` to a fresh scanner cut at `cuts` (sorted offsets), then finishes. */
function streamed(bytes: Uint8Array, cuts: number[]): Outcome {
  const s = new ContainerScanner();
  try {
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      s.push(bytes.subarray(from, to));
      from = to;
    }
    const info = s.finish();
    return {
      ok: true,
      packets: info.packetCount,
      sampleCount: info.header.sampleCount,
      preSkip: info.header.preSkip,
    };
  } catch (e) {
    if (!(e instanceof ContainerError)) throw e;
    return { ok: false, code: e.code };
  }
}

const base = syntheticContainer(seededRandom('scanner-base'), 12, 1, 30);

/** Bytes that are often almost-valid: a valid container with a few bytes overwritten, cut or extended. */
const nearContainer = fc
  .tuple(
    fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    fc.oneof(fc.constant(base.length), fc.integer({ min: 0, max: base.length + 4 })),
  )
  .map(([edits, len]) => {
    const out = new Uint8Array(len);
    out.set(base.subarray(0, Math.min(len, base.length)));
    for (const [at, v] of edits) if (at < len) out[at] = v;
    return out;
  });

const cutsFor = (bytes: Uint8Array) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 })
    .map((a) => a.sort((x, y) => x - y));

describe('ContainerScanner (the streaming validator)', () => {
  it('gives the same result as the full decoder on the same bytes, however they are chunked', () => {
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(
        fc
          .oneof(nearContainer, fc.uint8Array({ maxLength: 64 }))
          .chain((bytes) => fc.tuple(fc.constant(bytes), cutsFor(bytes))),
        ([bytes, cuts]) => {
          const expected = fullDecode(bytes);
          expect(streamed(bytes, cuts)).toEqual(expected);
          outcomes.add(expected.ok ? 'ok' : expected.code);
        },
      ),
      { numRuns: 2000 },
    );
    // The property saw valid containers and many distinct refusals, not just one kind of input.
    expect(outcomes.has('ok')).toBe(true);
    expect(outcomes.size).toBeGreaterThan(6);
  });

  it('is at a boundary exactly at 0, the header end and each packet end', () => {
    const boundaries = new Set(packetBoundaries(base));
    const s = new ContainerScanner();
    expect(s.atBoundary).toBe(true);
    for (let i = 0; i < base.length; i++) {
      s.push(base.subarray(i, i + 1));
      expect(s.atBoundary).toBe(boundaries.has(i + 1));
    }
    expect(s.finish().byteLength).toBe(base.length);
  });

  it('reports the boundaries completed by each push', () => {
    const all = packetBoundaries(base);
    const s = new ContainerScanner();
    const first = s.push(base.subarray(0, 40));
    const rest = s.push(base.subarray(40));
    expect([0, ...first, ...rest]).toEqual(all);
  });

  it('refuses a chunk that splits a packet when a boundary is required, and keeps its state', () => {
    const all = packetBoundaries(base);
    const s = new ContainerScanner();
    s.push(base.subarray(0, all[2]!), true);
    expect(() => s.push(base.subarray(all[2]!, all[3]! - 1), true)).toThrowError(
      expect.objectContaining({ code: 'SPLITS_PACKET' }),
    );
    expect(s.offset).toBe(all[2]);
    expect(s.packetCount).toBe(1);
    s.push(base.subarray(all[2]!), true);
    expect(s.finish().packetCount).toBe(12);
  });

  it('leaves its state unchanged when a push fails part-way through', () => {
    const s = new ContainerScanner();
    s.push(base.subarray(0, 20));
    const bad = base.slice(20);
    bad[all3(base) - 20] = 0; // zero a later prefix: the error comes after some valid packets
    bad[all3(base) - 19] = 0;
    expect(() => s.push(bad)).toThrowError(expect.objectContaining({ code: 'EMPTY_PACKET' }));
    expect(s.offset).toBe(20);
    expect(s.packetCount).toBe(0);
    s.push(base.subarray(20));
    expect(s.finish().packetCount).toBe(12);
  });

  it('stops at its byte limit with TOO_LARGE', () => {
    const s = new ContainerScanner(30);
    expect(() => s.push(base.subarray(0, 31))).toThrowError(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(s.offset).toBe(0);
  });
});

/** Offset of the third packet's length prefix in `c`. */
function all3(c: Uint8Array): number {
  return packetBoundaries(c)[3]!;
}
