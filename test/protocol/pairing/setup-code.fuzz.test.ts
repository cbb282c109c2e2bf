import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairingError } from '../../../protocol/errors.js';
import { isForbiddenSetupCode, parseSetupCode } from '../../../protocol/pairing/index.js';
import { fuzzParams } from '../../fuzz/config.js';

describe('parseSetupCode fuzz', () => {
  it('any string either yields 8 allowed digits or throws BAD_SETUP_CODE / FORBIDDEN_SETUP_CODE', () => {
    const input = fc.oneof(
      fc.string({ maxLength: 40, unit: 'grapheme' }),
      fc.stringMatching(/^[0-9 -]{0,20}$/),
      fc.stringMatching(/^[0-9]{7,9}$/),
    );
    fc.assert(
      fc.property(input, (s) => {
        try {
          const code = parseSetupCode(s);
          expect(code).toMatch(/^[0-9]{8}$/);
          expect(isForbiddenSetupCode(code)).toBe(false);
          expect(code).toBe(s.replace(/[ -]/g, ''));
        } catch (e) {
          expect(e).toBeInstanceOf(PairingError);
          expect(['BAD_SETUP_CODE', 'FORBIDDEN_SETUP_CODE']).toContain((e as PairingError).code);
        }
      }),
      fuzzParams(),
    );
  });
});
