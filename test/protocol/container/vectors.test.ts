import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { decodeContainer, encodeContainer, packetBoundaries } from '../../../protocol/container/container.js';
import { sha256 } from '../../../protocol/crypto.js';
import { generate } from '../../vectors/generate/container.js';
import { loadVectors } from '../../vectors/load.js';

interface ContainerVectors {
  source: string;
  valid: {
    name: string;
    preSkip: number;
    sampleCount: number;
    packets: string[];
    container: string;
    sha256: string;
    boundaries: number[];
  }[];
  invalid: { name: string; container: string; error: string }[];
}

const vectors = loadVectors<ContainerVectors>('container');

describe('container vectors (test/vectors/container.json)', () => {
  it('are reproduced bit for bit by the generator', () => {
    expect(generate()).toEqual(vectors);
  });

  it.each(vectors.valid.map((v) => [v.name, v] as const))('decode and re-encode: %s', (_name, v) => {
    const bytes = fromHex(v.container);
    const decoded = decodeContainer(bytes);
    expect({ ...decoded, packets: decoded.packets.map(toHex) }).toEqual({
      preSkip: v.preSkip,
      sampleCount: v.sampleCount,
      packets: v.packets,
    });
    expect(
      toHex(
        encodeContainer({ preSkip: v.preSkip, sampleCount: v.sampleCount, packets: v.packets.map(fromHex) }),
      ),
    ).toBe(v.container);
    expect(toHex(sha256(bytes))).toBe(v.sha256);
    expect(packetBoundaries(bytes)).toEqual(v.boundaries);
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('refuse with the listed code: %s', (_name, v) => {
    expect(() => decodeContainer(fromHex(v.container))).toThrowError(
      expect.objectContaining({ name: 'ContainerError', code: v.error }),
    );
  });
});
