import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader, Writer } from '../../protocol/bytes.js';
import { FramingError, PawLinkError } from '../../protocol/errors.js';
import { seededRandom } from '../../protocol/random.js';

describe('Reader and Writer', () => {
  it('round-trip every integer width little-endian', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 40 }),
        (a, b, c, d, e) => {
          const bytes = new Writer().u8(a).u16(b).u32(c).u64(d).bytes16(e).finish();
          const r = new Reader(bytes);
          expect([r.u8(), r.u16(), r.u32(), r.u64(), r.bytes(r.u16())]).toEqual([a, b, c, d, e]);
          r.end();
        },
      ),
    );
    expect(new Writer().u32(0x01020304).finish()).toEqual(Uint8Array.of(4, 3, 2, 1));
  });

  it('throws the layer error class for truncation and trailing bytes', () => {
    const r = new Reader(Uint8Array.of(1, 2, 3), FramingError);
    expect(() => r.u32()).toThrowError(expect.objectContaining({ name: 'FramingError', code: 'TRUNCATED' }));
    expect(r.u16()).toBe(0x0201);
    expect(() => r.end()).toThrowError(expect.objectContaining({ code: 'TRAILING_BYTES' }));
  });

  it('rejects out-of-range values with a typed error', () => {
    expect(() => new Writer(FramingError).u8(256)).toThrow(FramingError);
    expect(() => new Writer().u16(-1)).toThrow(PawLinkError);
    expect(() => new Writer().u32(1.5)).toThrow(PawLinkError);
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(seededRandom('a')(50)).toEqual(seededRandom('a')(50));
    expect(seededRandom('a')(32)).not.toEqual(seededRandom('b')(32));
    const r = seededRandom('split');
    const joined = new Uint8Array([...r(10), ...r(40)]);
    expect(joined).toEqual(seededRandom('split')(50));
  });
});

describe('utf8.decode', () => {
  it('keeps a leading byte-order mark so callers see (and can refuse) it, and rejects invalid UTF-8', async () => {
    const { utf8 } = await import('../../protocol/bytes.js');
    expect(utf8.decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))).toBe('\ufeffA');
    expect(() => utf8.decode(Uint8Array.of(0xc3))).toThrowError(
      expect.objectContaining({ code: 'BAD_UTF8' }),
    );
  });
});
