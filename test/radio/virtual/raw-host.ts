/**
 * A bare HCI host for controller tests: it sends H4 commands and ACL data and records what the
 * controller answers, so a test can check the exact bytes without noble or bleno.
 */
import { Op } from '../../../radio/virtual/constants.js';
import { aclPacket, commandPacket, type H4Packet, parseH4 } from '../../../radio/virtual/hci.js';
import type { Air, ControllerPort, HostPort } from '../../../radio/virtual/index.js';

export class RawHost implements HostPort {
  readonly received: H4Packet[] = [];
  downs = 0;
  readonly port: ControllerPort;

  constructor(
    readonly air: Air,
    options = {},
  ) {
    this.port = air.attach(this, options);
  }

  receive(packet: Buffer): void {
    this.received.push(parseH4(packet));
  }

  down(): void {
    this.downs++;
  }

  command(opcode: number, params: number[] | Buffer = []): void {
    this.port.send(commandPacket(opcode, Buffer.from(params)));
  }

  acl(handle: number, boundary: number, data: Buffer): void {
    this.port.send(aclPacket(handle, boundary, data));
  }

  /** Events with this code (and LE subevent), in order. */
  events(code: number, subevent?: number): Buffer[] {
    return this.received
      .filter((p): p is Extract<H4Packet, { kind: 'event' }> => p.kind === 'event' && p.code === code)
      .map((p) => p.params)
      .filter((params) => subevent === undefined || params[0] === subevent);
  }

  /** The return parameters (status first) of each Command Complete for `opcode`. */
  completes(opcode: number): Buffer[] {
    return this.events(0x0e)
      .filter((p) => p.readUInt16LE(1) === opcode)
      .map((p) => p.subarray(3));
  }

  acls(): Extract<H4Packet, { kind: 'acl' }>[] {
    return this.received.filter((p): p is Extract<H4Packet, { kind: 'acl' }> => p.kind === 'acl');
  }

  clear(): void {
    this.received.length = 0;
  }

  get address(): Buffer {
    const c = this.completes(Op.ReadBdAddr).at(-1);
    if (!c) throw new Error('read the address first');
    return c.subarray(1, 7);
  }
}

/** Lets the scheduler run until nothing is pending (virtual time: instantly). */
export async function settle(air: Air): Promise<void> {
  for (let i = 0; i < 100_000 && !air.scheduler.idle; i++) await new Promise((r) => setImmediate(r));
  if (!air.scheduler.idle) throw new Error('the air never settled');
}

export function u16(v: number): number[] {
  return [v & 0xff, v >> 8];
}

/** LE Set Advertising Parameters: interval in 0.625 ms units, ADV_IND unless told. */
export function advertisingParameters(interval = 0xa0, type = 0): number[] {
  return [...u16(interval), ...u16(interval), type, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0];
}

/** LE Create Connection to `peer`, interval range in 1.25 ms units, timeout in 10 ms units. */
export function createConnection(peer: Buffer, minInterval = 6, maxInterval = 24, timeout = 42): Buffer {
  return Buffer.from([
    ...u16(0x60),
    ...u16(0x30),
    0,
    0,
    ...peer,
    0,
    ...u16(minInterval),
    ...u16(maxInterval),
    ...u16(0),
    ...u16(timeout),
    ...u16(4),
    ...u16(6),
  ]);
}
