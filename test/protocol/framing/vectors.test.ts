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
import { BtpEndpoint } from '../../../protocol/framing/endpoint.js';
import { negotiate } from '../../../protocol/framing/negotiate.js';
import { generate } from '../../vectors/generate/framing.js';
import { loadVectors } from '../../vectors/load.js';

describe('framing vectors (test/vectors/framing.json)', () => {
  const vectors = loadVectors<ReturnType<typeof generate>>('framing');

  it('are reproduced bit for bit by the code', () => {
    expect(generate()).toEqual(vectors);
  });

  it('handshakes decode to the negotiated values and the transcript is request ‖ response', () => {
    for (const h of vectors.handshakes) {
      const request = decodeHandshakeRequest(fromHex(h.request));
      expect(request).toEqual({ versions: h.phone.versions, attMtu: h.phone.attMtu, window: h.phone.window });
      expect(toHex(encodeHandshakeResponse(negotiate(request, h.toy)))).toBe(h.response);
      expect(decodeHandshakeResponse(fromHex(h.response))).toEqual({
        version: h.version,
        segmentSize: h.segmentSize,
        window: h.window,
      });
      expect(h.transcript).toBe(h.request + h.response);
    }
  });

  it('each side of each trace replays alone from its listed calls, output for output', () => {
    for (const trace of vectors.traces) {
      for (const side of ['phone', 'toy'] as const) {
        let endpoint: BtpEndpoint | undefined;
        for (const step of trace.steps.filter((s) => s.side === side)) {
          if (step.call === 'create') {
            endpoint =
              side === 'phone'
                ? BtpEndpoint.central(trace.options, step.t)
                : BtpEndpoint.peripheral(trace.options, step.t);
          } else if (step.call === 'send') {
            endpoint!.send(fromHex(trace.messages[step.message!]!.hex), step.t);
          } else if (step.call === 'receive') {
            endpoint!.receive(fromHex(step.input!.hex), step.t);
          } else if (step.call === 'tick') {
            endpoint!.tick(step.t);
          } else {
            endpoint!.close('LINK_LOST');
          }
          const events = endpoint!.takeEvents();
          const transmit = events.flatMap((e) => (e.type === 'transmit' ? [toHex(e.value)] : []));
          const delivered = events.flatMap((e) => (e.type === 'message' ? [toHex(e.message)] : []));
          const closed = events.flatMap((e) => (e.type === 'closed' ? [e.reason.code] : []))[0];
          expect(transmit, `${trace.name}: ${side} ${step.call} at ${step.t}`).toEqual(
            step.transmit.map((v) => v.hex),
          );
          expect(delivered).toEqual(step.delivered ?? []);
          expect(closed).toBe(step.closed);
        }
      }
      // Everything sent arrived, in order.
      for (const [from, to] of [
        ['phone', 'toy'],
        ['toy', 'phone'],
      ] as const) {
        const sent = trace.messages.filter((m) => m.from === from).map((m) => m.hex);
        const got = trace.steps.filter((s) => s.side === to).flatMap((s) => s.delivered ?? []);
        expect(got).toEqual(sent);
      }
    }
  });

  it('no trace packet is longer than its segment size', () => {
    for (const trace of vectors.traces) {
      for (const step of trace.steps) {
        for (const v of step.transmit)
          expect(v.hex.length / 2).toBeLessThanOrEqual(Math.max(trace.segmentSize, 9));
      }
    }
  });
});

interface MatterVectors {
  source: string;
  handshakeRequests: Array<{
    source: string;
    hex: string;
    decoded: { versions: number[]; attMtu: number; window: number };
  }>;
  handshakeResponses: Array<{
    source: string;
    hex: string;
    decoded: { version: number; segmentSize: number; window: number };
  }>;
  packets: Array<{ source: string; hex: string; decoded: Record<string, unknown> & { payload?: string } }>;
  rejected: Array<{ source: string; hex: string; decoder: 'request' | 'response' | 'packet'; code: string }>;
  segmentation: Array<{
    source: string;
    messageLength: number;
    segmentSize: number;
    segmentLengths: number[];
  }>;
}

describe("Matter's published BTP examples (test/vectors/matter-btp.json)", () => {
  const v = loadVectors<MatterVectors>('matter-btp');

  it('handshake requests and responses decode and re-encode bit for bit', () => {
    for (const r of v.handshakeRequests) {
      expect(decodeHandshakeRequest(fromHex(r.hex)), r.source).toEqual(r.decoded);
      expect(toHex(encodeHandshakeRequest(r.decoded))).toBe(r.hex);
    }
    for (const r of v.handshakeResponses) {
      expect(decodeHandshakeResponse(fromHex(r.hex)), r.source).toEqual(r.decoded);
      expect(toHex(encodeHandshakeResponse(r.decoded))).toBe(r.hex);
    }
  });

  it('data packets decode and re-encode bit for bit', () => {
    for (const p of v.packets) {
      const { payload, ...fields } = p.decoded;
      const packet = (payload === undefined
        ? fields
        : { ...fields, payload: fromHex(payload) }) as unknown as BtpPacket;
      expect(decodePacket(fromHex(p.hex)), p.source).toEqual(packet);
      expect(toHex(encodePacket(packet))).toBe(p.hex);
    }
  });

  it('packets PawLink refuses are refused with the listed code', () => {
    const decoders = {
      request: decodeHandshakeRequest,
      response: decodeHandshakeResponse,
      packet: decodePacket,
    };
    for (const r of v.rejected) {
      let error: unknown;
      try {
        decoders[r.decoder](fromHex(r.hex));
      } catch (e) {
        error = e;
      }
      expect(error, r.source).toBeInstanceOf(FramingError);
      expect((error as FramingError).code, r.source).toBe(r.code);
    }
  });

  it('segmentation examples give the same segment lengths (connectedhomeip asserts the lengths)', () => {
    for (const s of v.segmentation) {
      const phone = BtpEndpoint.central({ attMtu: s.segmentSize + 3 }, 0);
      phone.takeEvents();
      phone.receive(encodeHandshakeResponse({ version: 4, segmentSize: s.segmentSize, window: 32 }), 0);
      phone.tick(50); // acknowledge the response first, so no ack is piggy-backed (as in the source)
      phone.takeEvents();
      phone.send(new Uint8Array(s.messageLength), 60);
      const lengths = phone.takeEvents().flatMap((e) => (e.type === 'transmit' ? [e.value.length] : []));
      expect(lengths, s.source).toEqual(s.segmentLengths);
    }
  });
});
