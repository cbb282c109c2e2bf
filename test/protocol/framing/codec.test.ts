import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { FramingError } from '../../../protocol/errors.js';
import {
  type BtpPacket,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
} from '../../../protocol/framing/codec.js';
import { packetArb, u8, u16 } from './arbitraries.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FramingError);
    return (e as FramingError).code;
  }
  throw new Error('expected a FramingError');
}

describe('handshake request codec', () => {
  it('round-trips any 1–8 versions, ATT_MTU and window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 8 }),
        u16,
        u8,
        (versions, attMtu, window) => {
          const bytes = encodeHandshakeRequest({ versions, attMtu, window });
          expect(bytes.length).toBe(9);
          expect(decodeHandshakeRequest(bytes)).toEqual({ versions, attMtu, window });
        },
      ),
    );
  });

  it('puts version slot 0 in the low nibble, slot 1 in the high nibble, little-endian ATT_MTU', () => {
    expect(toHex(encodeHandshakeRequest({ versions: [4], attMtu: 185, window: 6 }))).toBe(
      '656c04000000b90006',
    );
    expect(toHex(encodeHandshakeRequest({ versions: [5, 4, 3], attMtu: 0x0201, window: 16 }))).toBe(
      '656c45030000010210',
    );
  });

  it('rejects wrong flags, wrong opcode, no version, a gap in the slots, bad lengths', () => {
    expect(code(() => decodeHandshakeRequest(fromHex('0d6c04000000b90006')))).toBe('NOT_HANDSHAKE');
    expect(code(() => decodeHandshakeRequest(fromHex('656d04000000b90006')))).toBe('BAD_OPCODE');
    expect(code(() => decodeHandshakeRequest(fromHex('656c00000000b90006')))).toBe('BAD_VERSIONS');
    expect(code(() => decodeHandshakeRequest(fromHex('656c40000000b90006')))).toBe('BAD_VERSIONS');
    expect(code(() => decodeHandshakeRequest(fromHex('656c04560000b90006')))).toBe('BAD_VERSIONS');
    expect(code(() => decodeHandshakeRequest(fromHex('656c04000000b900')))).toBe('TRUNCATED');
    expect(code(() => decodeHandshakeRequest(fromHex('656c04000000b9000600')))).toBe('TRAILING_BYTES');
  });

  it('refuses to encode what it would not decode', () => {
    expect(code(() => encodeHandshakeRequest({ versions: [], attMtu: 23, window: 3 }))).toBe('OUT_OF_RANGE');
    expect(code(() => encodeHandshakeRequest({ versions: [16], attMtu: 23, window: 3 }))).toBe(
      'OUT_OF_RANGE',
    );
    expect(code(() => encodeHandshakeRequest({ versions: [0], attMtu: 23, window: 3 }))).toBe('OUT_OF_RANGE');
    expect(
      code(() => encodeHandshakeRequest({ versions: [1, 2, 3, 4, 5, 6, 7, 8, 9], attMtu: 23, window: 3 })),
    ).toBe('OUT_OF_RANGE');
    expect(code(() => encodeHandshakeRequest({ versions: [4], attMtu: 65536, window: 3 }))).toBe(
      'OUT_OF_RANGE',
    );
    expect(code(() => encodeHandshakeRequest({ versions: [4], attMtu: 23, window: 256 }))).toBe(
      'OUT_OF_RANGE',
    );
  });
});

describe('handshake response codec', () => {
  it('round-trips version, segment size and window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), u16, u8, (version, segmentSize, window) => {
        const bytes = encodeHandshakeResponse({ version, segmentSize, window });
        expect(bytes.length).toBe(6);
        expect(decodeHandshakeResponse(bytes)).toEqual({ version, segmentSize, window });
      }),
    );
  });

  it('rejects a set reserved nibble, wrong flags or opcode, bad lengths', () => {
    expect(code(() => decodeHandshakeResponse(fromHex('656c14000106')))).toBe('BAD_RESERVED');
    expect(code(() => decodeHandshakeResponse(fromHex('646c04000106')))).toBe('NOT_HANDSHAKE');
    expect(code(() => decodeHandshakeResponse(fromHex('656b04000106')))).toBe('BAD_OPCODE');
    expect(code(() => decodeHandshakeResponse(fromHex('656c040001')))).toBe('TRUNCATED');
    expect(code(() => decodeHandshakeResponse(fromHex('656c0400010600')))).toBe('TRAILING_BYTES');
    expect(code(() => encodeHandshakeResponse({ version: 16, segmentSize: 20, window: 3 }))).toBe(
      'OUT_OF_RANGE',
    );
  });
});

describe('data packet codec', () => {
  it('round-trips every valid packet shape', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        expect(decodePacket(encodePacket(packet))).toEqual(packet);
      }),
    );
  });

  it('re-encodes every packet it accepts to the same bytes', () => {
    fc.assert(
      fc.property(
        packetArb,
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 255 }),
        (p, at, x) => {
          const bytes = encodePacket(p);
          bytes[at % bytes.length] = x;
          let decoded: BtpPacket;
          try {
            decoded = decodePacket(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError);
            return;
          }
          expect(encodePacket(decoded)).toEqual(bytes);
        },
      ),
    );
  });

  it('lays out flags, ack, sequence number, u16 length and payload in that order', () => {
    expect(
      toHex(
        encodePacket({
          kind: 'beginning',
          ack: 7,
          seq: 9,
          messageLength: 300,
          ending: false,
          payload: fromHex('aa'),
        }),
      ),
    ).toBe('090709' + '2c01' + 'aa');
    expect(
      toHex(
        encodePacket({
          kind: 'beginning',
          seq: 0,
          messageLength: 0,
          ending: true,
          payload: new Uint8Array(),
        }),
      ),
    ).toBe('05000000');
    expect(toHex(encodePacket({ kind: 'continuing', seq: 255, ending: false, payload: fromHex('bb') }))).toBe(
      '02ffbb',
    );
    expect(
      toHex(encodePacket({ kind: 'continuing', ack: 1, seq: 2, ending: true, payload: fromHex('cc') })),
    ).toBe('0e0102cc');
    expect(toHex(encodePacket({ kind: 'ack', ack: 4, seq: 5 }))).toBe('080405');
  });

  it('rejects reserved bits, handshake/management bits and impossible flag combinations', () => {
    expect(code(() => decodePacket(fromHex('110001')))).toBe('BAD_FLAGS'); // bit 4
    expect(code(() => decodePacket(fromHex('810001')))).toBe('BAD_FLAGS'); // bit 7
    expect(code(() => decodePacket(fromHex('656c04000106')))).toBe('BAD_FLAGS'); // a handshake
    expect(code(() => decodePacket(fromHex('2100010000')))).toBe('BAD_FLAGS'); // M
    expect(code(() => decodePacket(fromHex('03000100aa')))).toBe('BAD_FLAGS'); // B|C
    expect(code(() => decodePacket(fromHex('0400ff')))).toBe('BAD_FLAGS'); // E alone
    expect(code(() => decodePacket(fromHex('0000')))).toBe('BAD_FLAGS'); // nothing at all
  });

  it('rejects empty segments, stand-alone acks with payload, and truncation', () => {
    expect(code(() => decodePacket(fromHex('01000500')))).toBe('EMPTY_SEGMENT');
    expect(code(() => decodePacket(fromHex('0200')))).toBe('EMPTY_SEGMENT');
    expect(code(() => decodePacket(fromHex('0600')))).toBe('EMPTY_SEGMENT');
    expect(code(() => decodePacket(fromHex('080001ff')))).toBe('TRAILING_BYTES');
    expect(code(() => decodePacket(fromHex('0800')))).toBe('TRUNCATED');
    expect(code(() => decodePacket(fromHex('050001')))).toBe('TRUNCATED');
    expect(code(() => decodePacket(new Uint8Array()))).toBe('TRUNCATED');
    expect(
      code(() => encodePacket({ kind: 'continuing', seq: 0, ending: true, payload: new Uint8Array() })),
    ).toBe('EMPTY_SEGMENT');
    expect(code(() => encodePacket({ kind: 'ack', ack: 256, seq: 0 }))).toBe('OUT_OF_RANGE');
  });
});
