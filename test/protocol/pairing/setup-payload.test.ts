import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairingError } from '../../../protocol/errors.js';
import { decodeSetupPayload, encodeSetupPayload, parseSetupInput } from '../../../protocol/pairing/index.js';
import { fuzzParams } from '../../fuzz/config.js';

describe('setup payload (the QR on the tag)', () => {
  it('encodes the discriminator and code in QR alphanumeric characters and decodes them back', () => {
    const s = encodeSetupPayload({ discriminator: 0xa5c, setupCode: '3141-5926' });
    expect(s).toBe('PAWLINK1-A5C-31415926');
    expect(decodeSetupPayload(s)).toEqual({ discriminator: 0xa5c, setupCode: '31415926' });
    expect(decodeSetupPayload(' pawlink1-00f-31415926 ')).toEqual({
      discriminator: 15,
      setupCode: '31415926',
    });
  });

  it('accepts either a bare code or a payload as user input', () => {
    expect(parseSetupInput('3141 5926')).toEqual({ setupCode: '31415926' });
    expect(parseSetupInput('PAWLINK1-FFF-31415926')).toEqual({ discriminator: 4095, setupCode: '31415926' });
  });

  it('refuses malformed payloads and forbidden codes with typed errors', () => {
    expect(() => decodeSetupPayload('PAWLINK2-A5C-31415926')).toThrowError(
      expect.objectContaining({ code: 'BAD_SETUP_PAYLOAD' }),
    );
    expect(() => decodeSetupPayload('PAWLINK1-A5C-12345678')).toThrowError(
      expect.objectContaining({ code: 'FORBIDDEN_SETUP_CODE' }),
    );
    expect(() => encodeSetupPayload({ discriminator: 4096, setupCode: '31415926' })).toThrow(PairingError);
  });

  it('throws only PairingError on any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `PAWLINK1-${s}`),
        ),
        (s) => {
          try {
            parseSetupInput(s);
          } catch (e) {
            expect(e).toBeInstanceOf(PairingError);
          }
        },
      ),
      fuzzParams(),
    );
  });
});
