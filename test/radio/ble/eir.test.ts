/** The toy's advertising payload as AD structures (PROTOCOL.md §3), byte for byte. */
import { describe, expect, it } from 'vitest';
import { SERVICE_UUID } from '../../../protocol/gatt/constants.js';
import { encodeAdvertisingPayload, uuid128Le } from '../../../radio/ble/eir.js';
import { RadioError } from '../../../radio/errors.js';

// a4990001-4bfd-4bef-add0-a8b26841a1b5, little-endian as AD structures carry 128-bit UUIDs.
const SERVICE_LE = 'b5a14168b2a8d0adef4bfd4b0100 99a4'.replaceAll(' ', '');

describe('advertising payload', () => {
  it('puts Flags and the 128-bit service UUID in the advertising data (21 bytes)', () => {
    const { advertisingData } = encodeAdvertisingPayload(SERVICE_UUID, Uint8Array.of(1, 1, 0));
    expect(advertisingData.toString('hex')).toBe(`020106 1107 ${SERVICE_LE}`.replaceAll(' ', ''));
    expect(advertisingData.length).toBe(21);
  });

  it('puts the service data in a 128-bit Service Data AD in the scan response, up to exactly 31 bytes', () => {
    const data = Uint8Array.from({ length: 13 }, (_, i) => i + 1);
    const { scanResponse } = encodeAdvertisingPayload(SERVICE_UUID, data);
    expect(scanResponse.toString('hex')).toBe(`1e21${SERVICE_LE}0102030405060708090a0b0c0d`);
    expect(scanResponse.length).toBe(31);
  });

  it('refuses 14 bytes of service data with ADV_DATA_TOO_LONG, and a malformed UUID with BAD_OPTION', () => {
    expect(() => encodeAdvertisingPayload(SERVICE_UUID, new Uint8Array(14))).toThrow(
      expect.objectContaining({ name: 'RadioError', code: 'ADV_DATA_TOO_LONG' }),
    );
    expect(() => uuid128Le('a499')).toThrow(RadioError);
    expect(() => uuid128Le('a499')).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
