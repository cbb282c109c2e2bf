import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkError } from '../../../protocol/errors.js';
import { decodeInfo, encodeInfo } from '../../../protocol/gatt/info.js';
import { fuzzParams } from '../../fuzz/config.js';

describe('INFO characteristic', () => {
  it('round-trips and is exactly 5 bytes', () => {
    const info = { minVersion: 1, maxVersion: 1, pairingWindowOpen: true, maxWindow: 16 };
    const bytes = encodeInfo(info);
    expect(bytes).toEqual(Uint8Array.of(1, 1, 1, 1, 16));
    expect(decodeInfo(bytes)).toEqual(info);
  });

  it('rejects bad ranges on encode and decode with LinkError', () => {
    expect(() =>
      encodeInfo({ minVersion: 1, maxVersion: 1, pairingWindowOpen: false, maxWindow: 33 }),
    ).toThrow(LinkError);
    expect(() => decodeInfo(Uint8Array.of(1, 2, 1, 0, 16))).toThrowError(
      expect.objectContaining({ code: 'BAD_VALUE' }),
    );
    expect(() => decodeInfo(Uint8Array.of(1, 1, 1, 2, 16))).toThrowError(
      expect.objectContaining({ code: 'BAD_VALUE' }),
    );
    expect(() => decodeInfo(Uint8Array.of(1, 1, 1, 0))).toThrowError(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
  });

  it('throws only LinkError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        try {
          decodeInfo(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(LinkError);
        }
      }),
      fuzzParams(),
    );
  });
});
