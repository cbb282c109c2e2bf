import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramingError } from '../../../protocol/errors.js';
import { checkHandshakeResponse, negotiate, segmentSizeFor } from '../../../protocol/framing/negotiate.js';

const toy = { versions: [4], attMtu: 247, window: 16 };

describe('segment size', () => {
  it('is min(ATT_MTU) − 3, capped at 244, never below 20', () => {
    expect(segmentSizeFor(23, 247)).toBe(20);
    expect(segmentSizeFor(185, 247)).toBe(182);
    expect(segmentSizeFor(247, 247)).toBe(244);
    expect(segmentSizeFor(517, 512)).toBe(244);
    expect(segmentSizeFor(0, 247)).toBe(20); // "cannot tell" counts as 23
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (a, b) => {
        const s = segmentSizeFor(a, b);
        expect(s).toBeGreaterThanOrEqual(20);
        expect(s).toBeLessThanOrEqual(244);
        expect(s).toBe(segmentSizeFor(b, a));
        expect(s).toBeLessThanOrEqual(Math.max(Math.min(a, b), 23) - 3);
      }),
    );
  });
});

describe('negotiation on the toy', () => {
  it('picks the highest common version, the smaller window and the segment size', () => {
    expect(negotiate({ versions: [4], attMtu: 185, window: 32 }, toy)).toEqual({
      version: 4,
      segmentSize: 182,
      window: 16,
    });
    expect(negotiate({ versions: [9, 5, 4], attMtu: 23, window: 6 }, { ...toy, versions: [5, 4] })).toEqual({
      version: 5,
      segmentSize: 20,
      window: 6,
    });
  });

  it('refuses a request with no common version or a window below 3', () => {
    expect(() => negotiate({ versions: [3, 2], attMtu: 247, window: 16 }, toy)).toThrowError(
      expect.objectContaining({ name: 'FramingError', code: 'NO_COMMON_VERSION' }),
    );
    expect(() => negotiate({ versions: [4], attMtu: 247, window: 2 }, toy)).toThrowError(
      expect.objectContaining({ name: 'FramingError', code: 'BAD_WINDOW' }),
    );
  });
});

describe('response check on the phone', () => {
  const request = { versions: [5, 4], attMtu: 185, window: 32 };
  const ok = { version: 4, segmentSize: 182, window: 16 };

  it('accepts what the toy may choose', () => {
    expect(() => checkHandshakeResponse(ok, request)).not.toThrow();
    expect(() => checkHandshakeResponse({ version: 5, segmentSize: 20, window: 3 }, request)).not.toThrow();
    expect(() => checkHandshakeResponse({ version: 4, segmentSize: 182, window: 32 }, request)).not.toThrow();
  });

  it('rejects a version not offered, a window outside 3..offer, a segment size outside 20..MTU−3', () => {
    const cases: Array<[object, string]> = [
      [{ ...ok, version: 0 }, 'BAD_VERSION'],
      [{ ...ok, version: 3 }, 'BAD_VERSION'],
      [{ ...ok, window: 2 }, 'BAD_WINDOW'],
      [{ ...ok, window: 33 }, 'BAD_WINDOW'],
      [{ ...ok, segmentSize: 19 }, 'BAD_SEGMENT_SIZE'],
      [{ ...ok, segmentSize: 183 }, 'BAD_SEGMENT_SIZE'],
    ];
    for (const [response, code] of cases) {
      expect(() => checkHandshakeResponse({ ...ok, ...response }, request)).toThrowError(
        expect.objectContaining({ code }),
      );
    }
    expect(() => checkHandshakeResponse({ ...ok, window: 9 }, { ...request, window: 8 })).toThrow(
      FramingError,
    );
  });
});
