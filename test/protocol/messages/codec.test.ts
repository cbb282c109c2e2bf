import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../protocol/bytes.js';
import { MessageError } from '../../../protocol/errors.js';
import {
  type AppMessage,
  type AppMessageOf,
  type AppMessageType,
  appMessageTypeOf,
  decodeAppMessage,
  encodeAppMessage,
  isTransferMessageType,
  MAX_APP_MESSAGE_BYTES,
  MAX_PAIRINGS,
  MAX_STORED_MESSAGES,
  MESSAGE_ENTRY_BYTES,
  MESSAGE_TABLE,
  TYPE_RANGES,
} from '../../../protocol/messages/index.js';
import { messageArbs } from './arbitraries.js';

const TYPES = Object.keys(MESSAGE_TABLE) as AppMessageType[];

/** Asserts that `fn` throws exactly a MessageError (not a subclass of another layer) with `code`. */
function expectMessageError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(MessageError);
  expect((thrown as MessageError).constructor).toBe(MessageError);
  expect((thrown as MessageError).code).toBe(code);
}

const enc = (m: unknown): Uint8Array => encodeAppMessage(m as AppMessage);
const hex = (s: string): Uint8Array => fromHex(s);

/** A valid message of each type, used as the base of boundary cases. */
const BASE = {
  SetVolume: { type: 'SetVolume', requestId: 1, volume: 10 },
  Identify: { type: 'Identify', requestId: 1, seconds: 10 },
  SetLed: { type: 'SetLed', requestId: 1, led: { mode: 'blink', periodMs: 1000, onMs: 500 } },
  Lullaby: { type: 'Lullaby', requestId: 1, messageId: 1, loop: { mode: 'times', times: 1 } },
  OpenPairingWindow: { type: 'OpenPairingWindow', requestId: 1, role: 'member', seconds: 60 },
  Status: {
    type: 'Status',
    requestId: 1,
    batteryPercent: 50,
    charging: true,
    volume: 100,
    led: { mode: 'on' },
    storageFreeBytes: 10,
    storageTotalBytes: 100,
    firmware: { major: 1, minor: 0, patch: 0 },
    incomingCount: 2,
    unplayedCount: 1,
    recordingCount: 1,
    gameMode: false,
    pairingWindowOpen: false,
    lullabyPlaying: true,
    clockSeconds: 5,
  },
} as const;

const withField = (base: object, patch: Record<string, unknown>): unknown => ({ ...base, ...patch });

describe('application message round trip', () => {
  for (const type of TYPES) {
    it(`${type} decodes to a deep-equal fresh object`, () => {
      fc.assert(
        fc.property(messageArbs[type] as fc.Arbitrary<AppMessage>, (m) => {
          const bytes = encodeAppMessage(m);
          expect(bytes[0]).toBe(MESSAGE_TABLE[type].code);
          expect(bytes[1]! | (bytes[2]! << 8)).toBe(m.requestId);
          expect(bytes.length).toBeLessThanOrEqual(MAX_APP_MESSAGE_BYTES);
          expect(decodeAppMessage(bytes, MESSAGE_TABLE[type].direction)).toStrictEqual(m);
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('type byte routing', () => {
  it('refuses every transfer-layer byte 0x40–0x4F with NOT_AN_APP_MESSAGE, whatever follows', () => {
    for (let b = TYPE_RANGES.transfer.first; b <= TYPE_RANGES.transfer.last; b++) {
      expect(isTransferMessageType(b)).toBe(true);
      expect(appMessageTypeOf(b)).toBeUndefined();
      expectMessageError(() => decodeAppMessage(Uint8Array.of(b)), 'NOT_AN_APP_MESSAGE');
      expectMessageError(
        () => decodeAppMessage(Uint8Array.of(b, 1, 0, 1, 2, 3), 'toToy'),
        'NOT_AN_APP_MESSAGE',
      );
    }
    expect(isTransferMessageType(0x3f)).toBe(false);
    expect(isTransferMessageType(0x50)).toBe(false);
  });

  it('refuses every unassigned byte with UNKNOWN_TYPE and maps every assigned one to its name', () => {
    const assigned = new Map(TYPES.map((t) => [MESSAGE_TABLE[t].code, t]));
    expect(assigned.size).toBe(TYPES.length);
    for (let b = 0; b <= 0xff; b++) {
      if (isTransferMessageType(b)) continue;
      const name = assigned.get(b);
      expect(appMessageTypeOf(b)).toBe(name);
      if (name === undefined)
        expectMessageError(() => decodeAppMessage(Uint8Array.of(b, 1, 0)), 'UNKNOWN_TYPE');
    }
  });

  it('puts requests in 0x01–0x3F, responses in 0x80–0xBF and events in 0xC0–0xDF', () => {
    for (const t of TYPES) {
      const { code, class: cls, direction } = MESSAGE_TABLE[t];
      const range = TYPE_RANGES[cls];
      expect(code >= range.first && code <= range.last, t).toBe(true);
      expect(direction).toBe(cls === 'request' ? 'toToy' : 'toPhone');
      expect((code & 0x80) !== 0).toBe(direction === 'toPhone');
    }
  });

  it('refuses an empty input (TRUNCATED) and one over MAX_APP_MESSAGE_BYTES (TOO_LARGE)', () => {
    expectMessageError(() => decodeAppMessage(new Uint8Array(0)), 'TRUNCATED');
    const big = new Uint8Array(MAX_APP_MESSAGE_BYTES + 1);
    big[0] = MESSAGE_TABLE.MessageList.code;
    expectMessageError(() => decodeAppMessage(big), 'TOO_LARGE');
  });

  it('refuses a header cut short and trailing bytes after the body', () => {
    expectMessageError(() => decodeAppMessage(hex('0201')), 'TRUNCATED');
    expectMessageError(() => decodeAppMessage(hex('020100')), 'TRUNCATED');
    expectMessageError(() => decodeAppMessage(hex('020100c8ff')), 'TRAILING_BYTES');
    expectMessageError(() => decodeAppMessage(hex('01010000')), 'TRAILING_BYTES');
  });
});

describe('direction enforcement', () => {
  it('decodes each message only in its own direction when one is given', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES).chain((t) => messageArbs[t] as fc.Arbitrary<AppMessage>),
        (m) => {
          const bytes = encodeAppMessage(m);
          const own = MESSAGE_TABLE[m.type].direction;
          const other = own === 'toToy' ? 'toPhone' : 'toToy';
          expect(decodeAppMessage(bytes, own).type).toBe(m.type);
          expect(decodeAppMessage(bytes).type).toBe(m.type);
          expectMessageError(() => decodeAppMessage(bytes, other), 'WRONG_DIRECTION');
          expectMessageError(() => encodeAppMessage(m, other), 'WRONG_DIRECTION');
          expect(encodeAppMessage(m, own)).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a toy → phone message at the toy before reading its (even malformed) body', () => {
    expectMessageError(() => decodeAppMessage(hex('c10000'), 'toToy'), 'WRONG_DIRECTION');
    expectMessageError(() => decodeAppMessage(hex('800100'), 'toToy'), 'WRONG_DIRECTION');
    expectMessageError(() => decodeAppMessage(hex('0201'), 'toPhone'), 'WRONG_DIRECTION');
  });

  it('refuses a direction argument that is neither toToy nor toPhone', () => {
    expectMessageError(() => decodeAppMessage(hex('010100'), 'sideways' as never), 'INVALID_FIELD');
    expectMessageError(() => encodeAppMessage({ type: 'Ok', requestId: 1 }, 'up' as never), 'INVALID_FIELD');
  });
});

describe('requestId rules', () => {
  it('requests and success responses need 1–65535; events need 0; an Error may carry 0', () => {
    expect(enc({ type: 'StatusRequest', requestId: 65535 })).toEqual(hex('01ffff'));
    expectMessageError(() => enc({ type: 'StatusRequest', requestId: 0 }), 'BAD_REQUEST_ID');
    expectMessageError(() => enc({ type: 'StatusRequest', requestId: 65536 }), 'BAD_REQUEST_ID');
    expectMessageError(() => enc({ type: 'StatusRequest', requestId: 1.5 }), 'BAD_REQUEST_ID');
    expectMessageError(() => enc({ type: 'Ok', requestId: 0 }), 'BAD_REQUEST_ID');
    expect(enc({ type: 'Error', requestId: 0, code: 'BAD_REQUEST' })).toEqual(hex('810000010000'));
    expectMessageError(
      () => enc({ type: 'PlaybackEvent', requestId: 1, messageId: 1, state: 'started', source: 'paw' }),
      'BAD_REQUEST_ID',
    );
    expectMessageError(() => decodeAppMessage(hex('010000')), 'BAD_REQUEST_ID');
    expectMessageError(() => decodeAppMessage(hex('800000')), 'BAD_REQUEST_ID');
    expectMessageError(() => decodeAppMessage(hex('c20100030000000101')), 'BAD_REQUEST_ID');
  });
});

describe('field ranges (encode refuses, decode refuses the same byte values)', () => {
  it('volume: 0 and 255 are accepted, 256, -1 and 1.5 refused on encode', () => {
    expect(enc(withField(BASE.SetVolume, { volume: 0 }))).toEqual(hex('02010000'));
    expect(enc(withField(BASE.SetVolume, { volume: 255 }))).toEqual(hex('020100ff'));
    for (const volume of [256, -1, 1.5, Number.NaN, '5', undefined]) {
      expectMessageError(() => enc(withField(BASE.SetVolume, { volume })), 'OUT_OF_RANGE');
    }
  });

  it('Identify seconds: 1..60', () => {
    expect(decodeAppMessage(enc(withField(BASE.Identify, { seconds: 1 })))).toMatchObject({ seconds: 1 });
    expect(decodeAppMessage(enc(withField(BASE.Identify, { seconds: 60 })))).toMatchObject({ seconds: 60 });
    expectMessageError(() => enc(withField(BASE.Identify, { seconds: 0 })), 'OUT_OF_RANGE');
    expectMessageError(() => enc(withField(BASE.Identify, { seconds: 61 })), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('03010000')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('0301003d')), 'OUT_OF_RANGE');
  });

  it('LED blink: period 400..10000 ms, on and off phases ≥ 50 ms; off/on carry zero parameters', () => {
    const led = (l: unknown) => enc(withField(BASE.SetLed, { led: l }));
    expect(decodeAppMessage(led({ mode: 'blink', periodMs: 400, onMs: 50 }))).toMatchObject({
      led: { mode: 'blink', periodMs: 400, onMs: 50 },
    });
    expect(decodeAppMessage(led({ mode: 'blink', periodMs: 10000, onMs: 9950 }))).toMatchObject({
      led: { periodMs: 10000, onMs: 9950 },
    });
    expectMessageError(() => led({ mode: 'blink', periodMs: 399, onMs: 100 }), 'OUT_OF_RANGE');
    expectMessageError(() => led({ mode: 'blink', periodMs: 10001, onMs: 100 }), 'OUT_OF_RANGE');
    expectMessageError(() => led({ mode: 'blink', periodMs: 1000, onMs: 49 }), 'OUT_OF_RANGE');
    expectMessageError(() => led({ mode: 'blink', periodMs: 1000, onMs: 951 }), 'OUT_OF_RANGE');
    expectMessageError(() => led({ mode: 'blink', periodMs: 1000 }), 'OUT_OF_RANGE');
    expectMessageError(() => led({ mode: 'strobe' }), 'BAD_ENUM');
    expectMessageError(() => led(null), 'INVALID_FIELD');
    // Decode: period 399 (0x018f), onMs 951 of 1000, mode 3, off with a period, on with an on time.
    expectMessageError(() => decodeAppMessage(hex('040100028f013200')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('04010002e803b703')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('0401000300000000')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('04010000e8030000')), 'INCONSISTENT_FIELDS');
    expectMessageError(() => decodeAppMessage(hex('0401000100000100')), 'INCONSISTENT_FIELDS');
  });

  it('Lullaby: times 1..100, seconds 1..3600, message id ≥ 1, mode enum checked', () => {
    const lull = (patch: Record<string, unknown>) => enc(withField(BASE.Lullaby, patch));
    expect(lull({ loop: { mode: 'times', times: 100 } })).toEqual(hex('07010001000000016400'));
    expect(lull({ loop: { mode: 'seconds', seconds: 3600 } })).toEqual(hex('0701000100000002100e'));
    expectMessageError(() => lull({ loop: { mode: 'times', times: 0 } }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ loop: { mode: 'times', times: 101 } }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ loop: { mode: 'seconds', seconds: 0 } }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ loop: { mode: 'seconds', seconds: 3601 } }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ loop: { mode: 'times', seconds: 5 } }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ messageId: 0 }), 'OUT_OF_RANGE');
    expectMessageError(() => lull({ messageId: 2 ** 32 }), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('07010001000000016500')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('0701000100000002110e')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('07010001000000030100')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('07010000000000010100')), 'OUT_OF_RANGE');
  });

  it('OpenPairingWindow: seconds 1..180, role admin|member', () => {
    const open = (patch: Record<string, unknown>) => enc(withField(BASE.OpenPairingWindow, patch));
    expect(open({ seconds: 180, role: 'admin' })).toEqual(hex('0b010001b4'));
    expectMessageError(() => open({ seconds: 0 }), 'OUT_OF_RANGE');
    expectMessageError(() => open({ seconds: 181 }), 'OUT_OF_RANGE');
    expectMessageError(() => open({ role: 'owner' }), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('0b010001b5')), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(hex('0b0100030a')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('0b0100000a')), 'BAD_ENUM');
  });

  it('booleans are exactly 0 or 1 on the wire and real booleans in the API', () => {
    expectMessageError(() => decodeAppMessage(hex('09010002')), 'BAD_ENUM');
    expectMessageError(() => enc({ type: 'SetGameMode', requestId: 1, enabled: 1 }), 'INVALID_FIELD');
    expect(decodeAppMessage(hex('09010000'))).toStrictEqual({
      type: 'SetGameMode',
      requestId: 1,
      enabled: false,
    });
  });

  it('Status: battery ≤ 100, reserved flag bits 0, free ≤ total, unplayed ≤ incoming, ≤ 64 stored', () => {
    const status = (patch: Record<string, unknown>) => enc(withField(BASE.Status, patch));
    const good = status({});
    expect(good.length).toBe(29);
    expect(decodeAppMessage(good)).toStrictEqual(BASE.Status);
    expectMessageError(() => status({ batteryPercent: 101 }), 'OUT_OF_RANGE');
    expectMessageError(() => status({ storageFreeBytes: 101 }), 'INCONSISTENT_FIELDS');
    expectMessageError(() => status({ unplayedCount: 3 }), 'INCONSISTENT_FIELDS');
    expectMessageError(() => status({ incomingCount: 60, recordingCount: 5 }), 'INCONSISTENT_FIELDS');
    expectMessageError(() => status({ firmware: { major: 256, minor: 0, patch: 0 } }), 'OUT_OF_RANGE');
    expectMessageError(() => status({ firmware: '1.0.0' }), 'INVALID_FIELD');
    expectMessageError(() => status({ charging: 'yes' }), 'INVALID_FIELD');
    const patched = (offset: number, value: number) => {
      const b = good.slice();
      b[offset] = value;
      return b;
    };
    // Body offsets (after the 3-byte header): battery 3, flags 4, led mode 6, incoming 22, unplayed 23, recordings 24.
    expectMessageError(() => decodeAppMessage(patched(3, 101)), 'OUT_OF_RANGE');
    expect(decodeAppMessage(patched(3, 100))).toMatchObject({ batteryPercent: 100 });
    expectMessageError(() => decodeAppMessage(patched(4, 0x10)), 'RESERVED_BITS');
    expectMessageError(() => decodeAppMessage(patched(6, 7)), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(patched(23, 3)), 'INCONSISTENT_FIELDS');
    expectMessageError(() => decodeAppMessage(patched(22, 65)), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(patched(11, 0xff)), 'INCONSISTENT_FIELDS');
  });

  it('MessageList: at most 64 entries, unique ids ≥ 1, durations ≤ 120 s, kind and flags checked', () => {
    const entry = (id: number) => ({
      id,
      kind: 'incoming',
      played: false,
      durationMs: 120_000,
      sizeBytes: 1,
      createdAtSeconds: 0,
    });
    const full = Array.from({ length: MAX_STORED_MESSAGES }, (_, i) => entry(i + 1));
    const bytes = enc({ type: 'MessageList', requestId: 1, entries: full });
    expect(bytes.length).toBe(4 + MAX_STORED_MESSAGES * MESSAGE_ENTRY_BYTES);
    expect(decodeAppMessage(bytes)).toMatchObject({ entries: full });
    expectMessageError(
      () => enc({ type: 'MessageList', requestId: 1, entries: [...full, entry(65)] }),
      'TOO_MANY_ENTRIES',
    );
    expectMessageError(
      () => enc({ type: 'MessageList', requestId: 1, entries: [entry(2), entry(2)] }),
      'DUPLICATE_ENTRY',
    );
    expectMessageError(
      () => enc({ type: 'MessageList', requestId: 1, entries: [{ ...entry(1), durationMs: 120_001 }] }),
      'OUT_OF_RANGE',
    );
    expectMessageError(() => enc({ type: 'MessageList', requestId: 1, entries: {} }), 'INVALID_FIELD');
    const one = enc({ type: 'MessageList', requestId: 1, entries: [entry(7)] });
    const patched = (offset: number, value: number) => {
      const b = one.slice();
      b[offset] = value;
      return b;
    };
    // Entry offsets: count 3, id 4..7, kind 8, flags 9, duration 10..13.
    expectMessageError(() => decodeAppMessage(patched(3, 65)), 'TOO_MANY_ENTRIES');
    expectMessageError(() => decodeAppMessage(patched(3, 2)), 'TRUNCATED');
    expectMessageError(() => decodeAppMessage(patched(4, 0)), 'OUT_OF_RANGE');
    expectMessageError(() => decodeAppMessage(patched(8, 3)), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(patched(9, 2)), 'RESERVED_BITS');
    expectMessageError(() => decodeAppMessage(patched(12, 0x02)), 'OUT_OF_RANGE');
    const twice = new Uint8Array([...one, ...one.subarray(4)]);
    twice[3] = 2;
    expectMessageError(() => decodeAppMessage(twice), 'DUPLICATE_ENTRY');
  });

  it('Pairings: at most 16, names ≤ 32 UTF-8 bytes without controls, unique ids, one thisPhone', () => {
    const id = (n: number) => new Uint8Array(16).fill(n);
    const pe = (n: number, patch: Record<string, unknown> = {}) => ({
      phoneId: id(n),
      role: 'member',
      name: 'é'.repeat(16),
      thisPhone: false,
      ...patch,
    });
    const pairings = (entries: unknown[]) => enc({ type: 'Pairings', requestId: 1, entries });
    const full = Array.from({ length: MAX_PAIRINGS }, (_, i) => pe(i));
    const bytes = pairings(full);
    expect(bytes.length).toBe(4 + MAX_PAIRINGS * (16 + 1 + 1 + 1 + 32));
    expect(decodeAppMessage(bytes)).toMatchObject({ entries: full });
    expectMessageError(() => pairings([...full, pe(99)]), 'TOO_MANY_ENTRIES');
    expectMessageError(() => pairings([pe(1, { name: `${'é'.repeat(16)}a` })]), 'STRING_TOO_LONG');
    expectMessageError(() => pairings([pe(1, { name: 'tab\there' })]), 'BAD_STRING');
    expectMessageError(() => pairings([pe(1, { name: '\ufeffMum' })]), 'BAD_STRING');
    expectMessageError(() => pairings([pe(1, { name: 'bad \ud800' })]), 'BAD_STRING');
    expectMessageError(() => pairings([pe(1, { name: 42 })]), 'INVALID_FIELD');
    expectMessageError(() => pairings([pe(1), pe(1)]), 'DUPLICATE_ENTRY');
    expectMessageError(
      () => pairings([pe(1, { thisPhone: true }), pe(2, { thisPhone: true })]),
      'INCONSISTENT_FIELDS',
    );
    expectMessageError(() => pairings([pe(1, { phoneId: new Uint8Array(15) })]), 'INVALID_FIELD');
    expectMessageError(() => pairings([pe(1, { role: 'owner' })]), 'BAD_ENUM');

    const one = pairings([pe(1, { name: 'Mum' })]);
    // Offsets: count 3, phoneId 4..19, role 20, flags 21, name length 22, name 23..25.
    const patched = (edits: [number, number][]) => {
      const b = one.slice();
      for (const [o, v] of edits) b[o] = v;
      return b;
    };
    expectMessageError(() => decodeAppMessage(patched([[3, 17]])), 'TOO_MANY_ENTRIES');
    expectMessageError(() => decodeAppMessage(patched([[20, 0]])), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(patched([[21, 0x80]])), 'RESERVED_BITS');
    expectMessageError(() => decodeAppMessage(patched([[22, 33]])), 'STRING_TOO_LONG');
    expectMessageError(() => decodeAppMessage(patched([[23, 0xff]])), 'BAD_UTF8');
    expectMessageError(() => decodeAppMessage(patched([[23, 0x00]])), 'BAD_STRING');
    expectMessageError(
      () =>
        decodeAppMessage(
          patched([
            [23, 0xef],
            [24, 0xbb],
            [25, 0xbf],
          ]),
        ),
      'BAD_STRING',
    );
    const two = new Uint8Array([...one, ...one.subarray(4)]);
    two[3] = 2;
    expectMessageError(() => decodeAppMessage(two), 'DUPLICATE_ENTRY');
  });

  it('Error: known codes only, detail ≤ 64 bytes, empty detail means absent', () => {
    const err = (patch: Record<string, unknown>) =>
      enc({ type: 'Error', requestId: 1, code: 'BUSY', ...patch });
    expect(err({ detail: 'x'.repeat(64) }).length).toBe(3 + 2 + 1 + 64);
    expectMessageError(() => err({ detail: 'x'.repeat(65) }), 'STRING_TOO_LONG');
    expectMessageError(() => err({ code: 'TEAPOT' }), 'BAD_ENUM');
    expect(decodeAppMessage(err({ detail: '' }))).toStrictEqual({
      type: 'Error',
      requestId: 1,
      code: 'BUSY',
    });
    expectMessageError(() => decodeAppMessage(hex('8101000b0000')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('810100000000')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('81010001000541')), 'TRUNCATED');
  });

  it('events: paw and action enums, recording duration ≤ 120 s, playback state and source', () => {
    expectMessageError(() => decodeAppMessage(hex('c000000302000000000000000000')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('c000000103000000000000000000')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('c1000005000000c1d4010000000000')), 'OUT_OF_RANGE');
    expect(decodeAppMessage(hex('c1000005000000c0d4010000000000'))).toMatchObject({ durationMs: 120_000 });
    expectMessageError(() => decodeAppMessage(hex('c20000030000000401')), 'BAD_ENUM');
    expectMessageError(() => decodeAppMessage(hex('c20000030000000103')), 'BAD_ENUM');
    expectMessageError(
      () => enc({ type: 'PawEvent', requestId: 0, paw: 'nose', action: 'press', durationMs: 0, atMs: 0 }),
      'BAD_ENUM',
    );
  });
});

describe('encoder input checks', () => {
  it('refuses non-messages and unknown types with a typed error, never a TypeError', () => {
    expectMessageError(() => enc(null), 'INVALID_FIELD');
    expectMessageError(() => enc([1, 2]), 'INVALID_FIELD');
    expectMessageError(() => enc('SetVolume'), 'INVALID_FIELD');
    expectMessageError(() => enc({}), 'UNKNOWN_TYPE');
    expectMessageError(() => enc({ type: 'StartMicrophone', requestId: 1 }), 'UNKNOWN_TYPE');
    expectMessageError(() => enc({ type: 'toString', requestId: 1 }), 'UNKNOWN_TYPE');
    expectMessageError(() => enc({ type: 'SetVolume', requestId: 1 }), 'OUT_OF_RANGE');
    expectMessageError(() => enc({ type: 'RemovePairing', requestId: 1, phoneId: [1, 2] }), 'INVALID_FIELD');
    expectMessageError(() => enc({ type: 'Lullaby', requestId: 1, messageId: 1 }), 'INVALID_FIELD');
    expectMessageError(() => decodeAppMessage([1, 1, 0] as never), 'INVALID_FIELD');
  });
});

describe('decoded objects', () => {
  it('do not alias the input: changing the input afterwards changes nothing decoded', () => {
    const m: AppMessageOf<'RemovePairing'> = {
      type: 'RemovePairing',
      requestId: 9,
      phoneId: Uint8Array.from({ length: 16 }, (_, i) => i),
    };
    const bytes = encodeAppMessage(m);
    const decoded = decodeAppMessage(bytes) as AppMessageOf<'RemovePairing'>;
    bytes.fill(0xaa);
    expect(decoded.phoneId).toEqual(m.phoneId);
    expect(decoded.phoneId.buffer).not.toBe(bytes.buffer);
  });

  it('are fresh each time (two decodes never share nested objects)', () => {
    const bytes = enc(BASE.Status);
    const a = decodeAppMessage(bytes) as AppMessageOf<'Status'>;
    const b = decodeAppMessage(bytes) as AppMessageOf<'Status'>;
    expect(a).toStrictEqual(b);
    expect(a.led).not.toBe(b.led);
    expect(a.firmware).not.toBe(b.firmware);
  });
});
