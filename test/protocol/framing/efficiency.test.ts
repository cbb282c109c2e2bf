import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramingError } from '../../../protocol/errors.js';
import { encodeHandshakeResponse } from '../../../protocol/framing/codec.js';
import { framingCost } from '../../../protocol/framing/efficiency.js';
import { BtpEndpoint } from '../../../protocol/framing/endpoint.js';

describe('framingCost', () => {
  it('matches the segments the endpoint actually sends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 244 }), fc.nat(), (segmentSize, n) => {
        // Messages that fit in 30 segments go out at once with a window of 32 (one slot holds the
        // phone's ack of the handshake response, the last slot is reserved for an ack).
        const max = Math.min(2048, segmentSize - 4 + 29 * (segmentSize - 2));
        const messageLength = n % (max + 1);
        const phone = BtpEndpoint.central({ attMtu: segmentSize + 3, window: 32 }, 0);
        phone.takeEvents();
        phone.receive(encodeHandshakeResponse({ version: 4, segmentSize, window: 32 }), 0);
        phone.tick(50); // the stand-alone ack of the response, so no ack is pending
        phone.takeEvents();
        phone.send(new Uint8Array(messageLength), 60);
        const values = phone.takeEvents().flatMap((e) => (e.type === 'transmit' ? [e.value] : []));
        const cost = framingCost(messageLength, segmentSize);
        expect(values.length).toBe(cost.segments);
        expect(values.reduce((s, v) => s + v.length, 0)).toBe(cost.valueBytes);
        expect(cost.attBytes).toBe(cost.valueBytes + 3 * cost.segments);
        expect(values.every((v) => v.length <= segmentSize)).toBe(true);
      }),
    );
  });

  it('reproduces connectedhomeip TestBtpEngine segment lengths at segment size 20', () => {
    // HandleCharacteristicSendOnePacket / TwoPacket / ThreePacket: 1, 30, 40 bytes.
    expect(framingCost(1, 20)).toMatchObject({ segments: 1, valueBytes: 5 });
    expect(framingCost(30, 20)).toMatchObject({ segments: 2, valueBytes: 20 + 16 });
    expect(framingCost(40, 20)).toMatchObject({ segments: 3, valueBytes: 20 + 20 + 8 });
  });

  it('counts one more header byte per segment when every segment piggy-backs an ack', () => {
    expect(framingCost(15, 20, true)).toMatchObject({ segments: 1, valueBytes: 20 });
    expect(framingCost(16, 20, true)).toMatchObject({ segments: 2, valueBytes: 20 + 4 });
    expect(framingCost(2048, 244, true).segments).toBe(9);
    expect(framingCost(2048, 244).segments).toBe(9);
    expect(framingCost(0, 20)).toEqual({ segments: 1, valueBytes: 4, attBytes: 7, efficiency: 0 });
  });

  it('rejects lengths and segment sizes outside the protocol', () => {
    expect(() => framingCost(2049, 20)).toThrow(FramingError);
    expect(() => framingCost(-1, 20)).toThrow(FramingError);
    expect(() => framingCost(10, 19)).toThrow(FramingError);
    expect(() => framingCost(10, 245)).toThrow(FramingError);
  });
});
