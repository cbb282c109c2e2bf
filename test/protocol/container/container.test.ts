import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  CONTAINER_HEADER_LEN,
  MAX_CONTAINER_BYTES,
  MAX_PACKET_BYTES,
  MAX_PACKETS,
  MAX_PRE_SKIP,
  MIN_CONTAINER_BYTES,
  SAMPLES_PER_PACKET,
} from '../../../protocol/container/constants.js';
import { decodeContainer, encodeContainer, packetBoundaries } from '../../../protocol/container/container.js';
import { seededRandom } from '../../../protocol/random.js';
import { syntheticContainer, syntheticPackets } from './synth.js';

const code = (c: string) => expect.objectContaining({ name: 'ContainerError', code: c });

/** fast-check arbitrary of valid container inputs (small, so round-trips stay fast). */
const validInput = fc
  .record({
    packets: fc.array(fc.uint8Array({ minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 30 }),
    preSkip: fc.integer({ min: 0, max: MAX_PRE_SKIP }),
    trim: fc.integer({ min: 0, max: SAMPLES_PER_PACKET - 1 }),
  })
  .filter(({ packets, preSkip, trim }) => packets.length * SAMPLES_PER_PACKET - preSkip - trim >= 1)
  .map(({ packets, preSkip, trim }) => ({
    packets,
    preSkip,
    sampleCount: packets.length * SAMPLES_PER_PACKET - preSkip - trim,
  }));

/** Overwrites `bytes` at `offset` (a copy). */
function patch(bytes: Uint8Array, offset: number, values: number[]): Uint8Array {
  const out = bytes.slice();
  out.set(values, offset);
  return out;
}

describe('voice container encode/decode', () => {
  it('lays out the header exactly as PROTOCOL.md documents', () => {
    const c = encodeContainer({ preSkip: 104, packets: [Uint8Array.of(0xf8, 0x01), Uint8Array.of(0xaa)] });
    // magic "PAWV", version 1, 16000 LE, 1 channel, 20 ms, pre-skip 104, samples 2*320-104 = 536
    expect(toHex(c)).toBe(`50415756 01 803e0000 01 14 6800 18020000 0200f801 0100aa`.replace(/ /g, ''));
  });

  it('round-trips any valid packets, pre-skip and end trimming', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const bytes = encodeContainer(input);
        expect(decodeContainer(bytes)).toEqual(input);
        expect(encodeContainer(decodeContainer(bytes))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('defaults the sample count to packets x 320 - preSkip', () => {
    const packets = syntheticPackets(seededRandom('default-count'), 7);
    const decoded = decodeContainer(encodeContainer({ preSkip: 104, packets }));
    expect(decoded.sampleCount).toBe(7 * 320 - 104);
  });

  it('returns packets that do not alias the input bytes', () => {
    const bytes = encodeContainer({ preSkip: 0, packets: [Uint8Array.of(1, 2, 3)] });
    const decoded = decodeContainer(bytes);
    bytes.fill(0);
    expect(decoded.packets[0]).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('accepts packets of 1 and 1275 bytes and refuses 0 and 1276 on both sides', () => {
    const ok = encodeContainer({
      preSkip: 0,
      packets: [new Uint8Array(1), new Uint8Array(MAX_PACKET_BYTES)],
    });
    expect(decodeContainer(ok).packets.map((p) => p.length)).toEqual([1, 1275]);

    expect(() => encodeContainer({ preSkip: 0, packets: [new Uint8Array(0)] })).toThrowError(
      code('EMPTY_PACKET'),
    );
    expect(() => encodeContainer({ preSkip: 0, packets: [new Uint8Array(1276)] })).toThrowError(
      code('PACKET_TOO_LARGE'),
    );
    // Same refusals from the decoder: rewrite the first prefix of a valid container.
    expect(() => decodeContainer(patch(ok, CONTAINER_HEADER_LEN, [0, 0]))).toThrowError(code('EMPTY_PACKET'));
    expect(() => decodeContainer(patch(ok, CONTAINER_HEADER_LEN, [0xfc, 0x04]))).toThrowError(
      code('PACKET_TOO_LARGE'),
    );
  });

  it('accepts exactly 6000 packets at the byte limit and refuses one byte or one packet more', () => {
    const packets = Array.from({ length: MAX_PACKETS }, () => new Uint8Array(60));
    const full = encodeContainer({ preSkip: 104, packets });
    expect(full.length).toBe(MAX_CONTAINER_BYTES);
    expect(MAX_CONTAINER_BYTES).toBe(372_017);
    expect(decodeContainer(full).packets).toHaveLength(MAX_PACKETS);

    const bigger = packets.slice();
    bigger[0] = new Uint8Array(61);
    expect(() => encodeContainer({ preSkip: 104, packets: bigger })).toThrowError(code('TOO_LARGE'));
    expect(() => encodeContainer({ preSkip: 104, packets: [...packets, new Uint8Array(1)] })).toThrowError(
      code('TOO_MANY_PACKETS'),
    );
    // A header claiming 6001 packets' worth of samples is refused before any packet is read.
    const header6001 = patch(full, 13, [...u32le(MAX_PACKETS * 320 - 104 + 1)]);
    expect(() => decodeContainer(header6001)).toThrowError(code('BAD_SAMPLE_COUNT'));
    // A container longer than the limit is refused as too large even if its packets are valid.
    const longer = new Uint8Array(MAX_CONTAINER_BYTES + 1);
    longer.set(full);
    expect(() => decodeContainer(longer)).toThrowError(code('TOO_LARGE'));
  });

  it('refuses each wrong header field with its own code', () => {
    const c = syntheticContainer(seededRandom('header'), 3);
    expect(() => decodeContainer(patch(c, 0, [0x50, 0x41, 0x57, 0x57]))).toThrowError(code('BAD_MAGIC'));
    expect(() => decodeContainer(patch(c, 4, [2]))).toThrowError(code('UNSUPPORTED_VERSION'));
    expect(() => decodeContainer(patch(c, 5, [0x80, 0xbb, 0, 0]))).toThrowError(
      code('UNSUPPORTED_SAMPLE_RATE'),
    );
    expect(() => decodeContainer(patch(c, 9, [2]))).toThrowError(code('UNSUPPORTED_CHANNELS'));
    expect(() => decodeContainer(patch(c, 10, [40]))).toThrowError(code('UNSUPPORTED_FRAME_DURATION'));
    expect(() => decodeContainer(patch(c, 11, [0xc1, 0x03]))).toThrowError(code('BAD_PRE_SKIP')); // 961
    expect(() => decodeContainer(patch(c, 13, [0, 0, 0, 0]))).toThrowError(code('BAD_SAMPLE_COUNT'));
    expect(() => encodeContainer({ preSkip: MAX_PRE_SKIP + 1, packets: [Uint8Array.of(1)] })).toThrowError(
      code('BAD_PRE_SKIP'),
    );
    expect(() => encodeContainer({ preSkip: 0, packets: [] })).toThrowError(code('NO_PACKETS'));
  });

  it('enforces the sample-count rule: packets = ceil((sampleCount + preSkip) / 320)', () => {
    const packets = syntheticPackets(seededRandom('rule'), 4);
    // 4 packets, pre-skip 104: sampleCount may be 857..1176 (the last packet keeps 1..320 samples).
    expect(decodeContainer(encodeContainer({ preSkip: 104, sampleCount: 857, packets })).sampleCount).toBe(
      857,
    );
    expect(decodeContainer(encodeContainer({ preSkip: 104, sampleCount: 1176, packets })).sampleCount).toBe(
      1176,
    );
    expect(() => encodeContainer({ preSkip: 104, sampleCount: 856, packets })).toThrowError(
      code('PACKET_COUNT_MISMATCH'),
    );
    expect(() => encodeContainer({ preSkip: 104, sampleCount: 1177, packets })).toThrowError(
      code('PACKET_COUNT_MISMATCH'),
    );
    const c = encodeContainer({ preSkip: 104, packets });
    // Header says 3 packets but 4 follow: the 4th prefix is trailing. Says 5: one is missing.
    expect(() => decodeContainer(patch(c, 13, [...u32le(856)]))).toThrowError(code('TRAILING_BYTES'));
    expect(() => decodeContainer(patch(c, 13, [...u32le(1177)]))).toThrowError(code('PACKET_COUNT_MISMATCH'));
  });

  it('reports truncation at every cut point of a valid container', () => {
    const c = syntheticContainer(seededRandom('truncate'), 5);
    const boundaries = new Set(packetBoundaries(c));
    for (let n = 0; n < c.length; n++) {
      // Cut on a packet boundary: whole packets are missing; anywhere else: a unit is cut short.
      const expected = n >= CONTAINER_HEADER_LEN && boundaries.has(n) ? 'PACKET_COUNT_MISMATCH' : 'TRUNCATED';
      expect(() => decodeContainer(c.subarray(0, n))).toThrowError(code(expected));
    }
    expect(() => decodeContainer(fromHex(`${toHex(c)}00`))).toThrowError(code('TRAILING_BYTES'));
  });

  it('has a smallest container of 20 bytes', () => {
    expect(encodeContainer({ preSkip: 0, packets: [Uint8Array.of(7)] }).length).toBe(MIN_CONTAINER_BYTES);
  });
});

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}
