/**
 * Framing vectors (PROTOCOL.md §5): handshakes at several ATT_MTUs, and complete packet traces of a
 * phone and a toy exchanging messages at segment sizes 20, 182 and 244, with every ack, plus an idle
 * link's keep-alives. The traces come from two `BtpEndpoint`s joined by a zero-delay pipe, so a C
 * implementation can replay one side's input and compare its output packet for packet.
 */
import { toHex } from '../../../protocol/bytes.js';
import {
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
} from '../../../protocol/framing/codec.js';
import { framingCost } from '../../../protocol/framing/efficiency.js';
import { BtpEndpoint, type BtpEndpointOptions } from '../../../protocol/framing/endpoint.js';
import { seededRandom } from '../../../protocol/random.js';
import { Bench } from '../../protocol/framing/harness.js';

/** One line of a trace in words, e.g. "B|E ack 0 seq 0 len 3 (3 bytes)". */
export function describePacket(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes[0] === 0x65) {
    if (bytes.length === 9) {
      const r = decodeHandshakeRequest(bytes);
      return `handshake request: versions ${r.versions.join(',')}, ATT_MTU ${r.attMtu}, window ${r.window}`;
    }
    const r = decodeHandshakeResponse(bytes);
    return `handshake response: version ${r.version}, segment size ${r.segmentSize}, window ${r.window}`;
  }
  const p = decodePacket(bytes);
  const ack = p.ack === undefined ? '' : ` ack ${p.ack}`;
  if (p.kind === 'ack') return `stand-alone ack${ack} seq ${p.seq}`;
  const flags = (p.kind === 'beginning' ? 'B' : 'C') + (p.ending ? '|E' : '');
  const len = p.kind === 'beginning' ? ` len ${p.messageLength}` : '';
  return `${flags}${ack} seq ${p.seq}${len} (${p.payload.length} payload bytes)`;
}

function handshake(phone: BtpEndpointOptions, toy: BtpEndpointOptions) {
  const central = BtpEndpoint.central(phone, 0);
  const peripheral = BtpEndpoint.peripheral(toy, 0);
  const [request] = central.takeEvents();
  if (request?.type !== 'transmit') throw new Error('no request');
  peripheral.receive(request.value, 0);
  const [response] = peripheral.takeEvents();
  if (response?.type !== 'transmit') throw new Error('no response');
  central.receive(response.value, 0);
  return {
    phone: { attMtu: phone.attMtu, window: phone.window ?? 32, versions: phone.versions ?? [4] },
    toy: { attMtu: toy.attMtu, window: toy.window ?? 16, versions: toy.versions ?? [4] },
    request: toHex(request.value),
    response: toHex(response.value),
    transcript: toHex(central.handshakeTranscript!),
    version: central.version!,
    segmentSize: central.segmentSize!,
    window: central.window!,
  };
}

interface Send {
  at: number;
  from: 'phone' | 'toy';
  length: number;
}

function trace(name: string, attMtu: number, sends: Send[], until: number, window?: number) {
  const random = seededRandom(`pawlink vectors: framing ${name}`);
  const options = { attMtu, ...(window === undefined ? {} : { window }) };
  const bench = new Bench({ phone: options, toy: options, trace: true });
  const messages = sends.map((s) => ({ ...s, hex: toHex(random(s.length)) }));
  for (const m of messages) bench.sendAt(m.at, m.from, Buffer.from(m.hex, 'hex'));
  bench.runTo(until);
  const described = (hex: string) => ({ hex, what: describePacket(hex) });
  return {
    name,
    options,
    segmentSize: bench.phone.segmentSize!,
    window: bench.phone.window!,
    messages,
    until,
    steps: bench.calls.map((c) => ({
      t: c.t,
      side: c.side,
      call: c.call,
      ...(c.call === 'send'
        ? { message: messages.findIndex((m) => m.hex === c.input && m.from === c.side) }
        : {}),
      ...(c.call === 'receive' ? { input: described(c.input!) } : {}),
      transmit: c.transmit.map(described),
      ...(c.delivered.length > 0 ? { delivered: c.delivered } : {}),
      ...(c.closed === undefined ? {} : { closed: c.closed }),
    })),
  };
}

export function generate() {
  return {
    description:
      'Framing handshakes and traces (PROTOCOL.md §5). Each trace joins a phone (central) and a toy ' +
      '(peripheral) endpoint, both created at t = 0 with the trace options, by a zero-delay pipe. "steps" ' +
      'lists every driver call in order: create, send(messages[message]), receive(input), tick(t) (ticks ' +
      'only when they did something). To check one side, make the same calls on it in order and compare ' +
      'the ATT values it transmits, the messages it delivers and any close code. t is in ms.',
    handshakes: [
      handshake({ attMtu: 23 }, { attMtu: 23 }),
      handshake({ attMtu: 185 }, { attMtu: 247 }),
      handshake({ attMtu: 247 }, { attMtu: 247 }),
      handshake({ attMtu: 517 }, { attMtu: 247 }),
      handshake({ attMtu: 247, window: 8, versions: [5, 4] }, { attMtu: 185 }),
    ],
    traces: [
      trace(
        'segment size 20: 600 bytes to the toy, 40 back',
        23,
        [
          { at: 10, from: 'phone', length: 600 },
          { at: 10, from: 'toy', length: 40 },
        ],
        1_000,
      ),
      trace(
        'segment size 182: 2048 bytes to the toy, 0 and 200 back',
        185,
        [
          { at: 10, from: 'phone', length: 2048 },
          { at: 20, from: 'toy', length: 0 },
          { at: 20, from: 'toy', length: 200 },
        ],
        1_000,
      ),
      trace(
        'segment size 244, window 4: 2048 bytes each way at once',
        247,
        [
          { at: 10, from: 'phone', length: 2048 },
          { at: 10, from: 'toy', length: 2048 },
        ],
        1_000,
        4,
      ),
      trace(
        'idle link: keep-alives until the idle timeout',
        23,
        [{ at: 100, from: 'phone', length: 1 }],
        31_000,
      ),
    ],
    cost: [
      [0, 20],
      [1, 20],
      [40, 20],
      [2048, 20],
      [2048, 182],
      [2048, 244],
    ].map(([messageLength, segmentSize]) => ({
      messageLength: messageLength!,
      segmentSize: segmentSize!,
      ...framingCost(messageLength!, segmentSize!),
    })),
  };
}
