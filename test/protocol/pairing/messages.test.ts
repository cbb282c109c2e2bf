import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  decodePairingMessage,
  decodePhoneIdentityPayload,
  decodeToyIdentityPayload,
  encodePairingMessage,
  encodePhoneIdentityPayload,
  encodeToyIdentityPayload,
  type PairingMessage,
  PairingMessageType,
  PairingStatusCode,
  STATUS_ERROR_CODES,
} from '../../../protocol/pairing/index.js';
import { expectPairingError } from './helpers.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const point = (fill: number) => {
  const p = bytes(65, fill);
  p[0] = 0x04;
  return p;
};

const samples: [string, PairingMessage, string][] = [
  [
    'PbkdfParamRequest',
    { type: PairingMessageType.PbkdfParamRequest, version: 1, phoneRandom: bytes(32, 0xaa) },
    `2001${'aa'.repeat(32)}`,
  ],
  [
    'PbkdfParamResponse',
    {
      type: PairingMessageType.PbkdfParamResponse,
      phoneRandom: bytes(32, 0xaa),
      toyRandom: bytes(32, 0xbb),
      iterations: 100_000,
      salt: bytes(16, 0xcc),
    },
    `21${'aa'.repeat(32)}${'bb'.repeat(32)}a0860100` + `10${'cc'.repeat(16)}`,
  ],
  ['Pake1', { type: PairingMessageType.Pake1, shareP: point(0x11) }, `2204${'11'.repeat(64)}`],
  [
    'Pake2',
    { type: PairingMessageType.Pake2, shareV: point(0x22), confirmV: bytes(32, 0x33) },
    `2304${'22'.repeat(64)}${'33'.repeat(32)}`,
  ],
  ['Pake3', { type: PairingMessageType.Pake3, confirmP: bytes(32, 0x44) }, `24${'44'.repeat(32)}`],
  [
    'PhoneIdentity',
    { type: PairingMessageType.PhoneIdentity, sealed: bytes(65, 0x55) },
    `25${'55'.repeat(65)}`,
  ],
  ['ToyIdentity', { type: PairingMessageType.ToyIdentity, sealed: bytes(81, 0x66) }, `26${'66'.repeat(81)}`],
  ['PairingStatus', { type: PairingMessageType.PairingStatus, code: PairingStatusCode.Busy }, '4001'],
];

describe('pairing message codecs', () => {
  for (const [name, msg, hex] of samples) {
    it(`${name} has the documented layout and round-trips`, () => {
      expect(toHex(encodePairingMessage(msg))).toBe(hex);
      expect(decodePairingMessage(fromHex(hex))).toEqual(msg);
    });
  }

  it('numbers every status code 1..9 and maps it to a PairingError code of the same name', () => {
    expect(Object.values(PairingStatusCode)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(STATUS_ERROR_CODES[PairingStatusCode.WindowClosed]).toBe('WINDOW_CLOSED');
    expect(STATUS_ERROR_CODES[PairingStatusCode.BadConfirmation]).toBe('BAD_CONFIRMATION');
    expect(STATUS_ERROR_CODES[PairingStatusCode.Locked]).toBe('LOCKED');
  });

  it('refuses an empty body, an unknown type and trailing bytes', () => {
    expectPairingError(() => decodePairingMessage(new Uint8Array(0)), 'TRUNCATED');
    expectPairingError(() => decodePairingMessage(fromHex('27')), 'UNKNOWN_MESSAGE_TYPE');
    expectPairingError(() => decodePairingMessage(fromHex('00')), 'UNKNOWN_MESSAGE_TYPE');
    expectPairingError(() => decodePairingMessage(fromHex('400100')), 'TRAILING_BYTES');
    expectPairingError(() => decodePairingMessage(fromHex(`24${'44'.repeat(31)}`)), 'TRUNCATED');
  });

  it('refuses out-of-range fields with BAD_VALUE', () => {
    const resp = (iterHex: string, saltLen: number) =>
      fromHex(
        `21${'aa'.repeat(64)}${iterHex}${saltLen.toString(16).padStart(2, '0')}${'cc'.repeat(saltLen)}`,
      );
    expect(() => decodePairingMessage(resp('e8030000', 16))).not.toThrow(); // 1000, 16
    expect(() => decodePairingMessage(resp('a0860100', 32))).not.toThrow(); // 100000, 32
    expectPairingError(() => decodePairingMessage(resp('e7030000', 16)), 'BAD_VALUE'); // 999
    expectPairingError(() => decodePairingMessage(resp('a1860100', 16)), 'BAD_VALUE'); // 100001
    expectPairingError(() => decodePairingMessage(resp('e8030000', 15)), 'BAD_VALUE');
    expectPairingError(() => decodePairingMessage(resp('e8030000', 33)), 'BAD_VALUE');
    expectPairingError(() => decodePairingMessage(fromHex(`2000${'aa'.repeat(32)}`)), 'BAD_VALUE'); // version 0
    expectPairingError(() => decodePairingMessage(fromHex(`2202${'11'.repeat(64)}`)), 'BAD_VALUE'); // not 0x04
    expectPairingError(() => decodePairingMessage(fromHex('4000')), 'BAD_VALUE'); // status 0 reserved
    expectPairingError(() => decodePairingMessage(fromHex('400a')), 'BAD_VALUE');
    expectPairingError(() => decodePairingMessage(fromHex(`25${'55'.repeat(64)}`)), 'BAD_VALUE');
    expectPairingError(() => decodePairingMessage(fromHex(`25${'55'.repeat(98)}`)), 'BAD_VALUE');
    expectPairingError(() => decodePairingMessage(fromHex(`26${'66'.repeat(80)}`)), 'BAD_VALUE');
  });

  it('refuses to encode what it would refuse to decode', () => {
    expectPairingError(
      () =>
        encodePairingMessage({
          type: PairingMessageType.PbkdfParamRequest,
          version: 1,
          phoneRandom: bytes(31, 0),
        }),
      'BAD_VALUE',
    );
    expectPairingError(
      () => encodePairingMessage({ type: PairingMessageType.PairingStatus, code: 0 as PairingStatusCode }),
      'BAD_VALUE',
    );
  });

  it('copies decoded fields out of the input buffer', () => {
    const input = fromHex(`24${'44'.repeat(32)}`);
    const m = decodePairingMessage(input);
    input[1] = 0;
    expect(m.type === PairingMessageType.Pake3 && m.confirmP[0]).toBe(0x44);
  });
});

describe('identity payloads', () => {
  it('PhoneIdentity plaintext = phoneId(16) ‖ static key(32) ‖ u8 name length ‖ UTF-8 name', () => {
    const p = { phoneId: bytes(16, 1), phoneStaticPublicKey: bytes(32, 2), name: 'é' };
    const hex = `${'01'.repeat(16)}${'02'.repeat(32)}02c3a9`;
    expect(toHex(encodePhoneIdentityPayload(p))).toBe(hex);
    expect(decodePhoneIdentityPayload(fromHex(hex))).toEqual(p);
  });

  it('allows an empty name and names up to 32 UTF-8 bytes, no more', () => {
    const base = { phoneId: bytes(16, 1), phoneStaticPublicKey: bytes(32, 2) };
    expect(decodePhoneIdentityPayload(encodePhoneIdentityPayload({ ...base, name: '' })).name).toBe('');
    expect(
      decodePhoneIdentityPayload(encodePhoneIdentityPayload({ ...base, name: 'x'.repeat(32) })).name,
    ).toHaveLength(32);
    expectPairingError(() => encodePhoneIdentityPayload({ ...base, name: 'é'.repeat(17) }), 'BAD_VALUE');
    expectPairingError(
      () => decodePhoneIdentityPayload(fromHex(`${'01'.repeat(48)}21${'78'.repeat(33)}`)),
      'BAD_VALUE',
    );
    expectPairingError(() => decodePhoneIdentityPayload(fromHex(`${'01'.repeat(48)}01ff`)), 'BAD_UTF8');
  });

  it('ToyIdentity plaintext = toyId(16) ‖ static key(32) ‖ tag key(16) ‖ role (1 admin, 2 member)', () => {
    const t = {
      toyId: bytes(16, 1),
      toyStaticPublicKey: bytes(32, 2),
      tagKey: bytes(16, 3),
      role: 'member' as const,
    };
    const hex = `${'01'.repeat(16)}${'02'.repeat(32)}${'03'.repeat(16)}02`;
    expect(toHex(encodeToyIdentityPayload(t))).toBe(hex);
    expect(decodeToyIdentityPayload(fromHex(hex))).toEqual(t);
    expect(decodeToyIdentityPayload(fromHex(`${hex.slice(0, -2)}01`)).role).toBe('admin');
    expectPairingError(() => decodeToyIdentityPayload(fromHex(`${hex.slice(0, -2)}00`)), 'BAD_ROLE');
    expectPairingError(() => decodeToyIdentityPayload(fromHex(`${hex.slice(0, -2)}03`)), 'BAD_ROLE');
  });
});
