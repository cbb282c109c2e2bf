import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkError } from '../../protocol/errors.js';
import {
  AlertCode,
  decodeAlert,
  decodeLink,
  encodeAlert,
  encodeLink,
  LinkType,
} from '../../protocol/link.js';
import { fuzzParams } from '../fuzz/config.js';

describe('link envelope', () => {
  it('round-trips every link type with any body', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(LinkType)),
        fc.uint8Array({ maxLength: 64 }),
        (type, body) => {
          expect(decodeLink(encodeLink(type, body))).toEqual({ type, body });
        },
      ),
    );
  });

  it('rejects an empty message and unknown types', () => {
    expect(() => decodeLink(new Uint8Array(0))).toThrowError(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => decodeLink(Uint8Array.of(0x04))).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_TYPE' }),
    );
  });

  it('round-trips alerts and refuses unknown codes', () => {
    for (const code of Object.values(AlertCode)) {
      const m = decodeLink(encodeAlert(code));
      expect(m.type).toBe(LinkType.Alert);
      expect(decodeAlert(m.body)).toBe(code);
    }
    expect(() => decodeAlert(Uint8Array.of(99))).toThrowError(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect(() => decodeAlert(Uint8Array.of(1, 1))).toThrowError(
      expect.objectContaining({ code: 'BAD_LENGTH' }),
    );
  });

  it('throws only LinkError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        try {
          const m = decodeLink(bytes);
          if (m.type === LinkType.Alert) decodeAlert(m.body);
        } catch (e) {
          expect(e).toBeInstanceOf(LinkError);
        }
      }),
      fuzzParams(),
    );
  });
});
