/**
 * HCI packets as they cross an HCI socket: H4 framing (one indicator byte, then the packet), command
 * parsing and the events the virtual controller sends (Core Vol 4 Part E §5.4, §7.7). Pure: bytes in,
 * bytes out. Buffers, not Uint8Arrays, because the hosts (noble, bleno) call Buffer methods on them.
 */
import { RadioError } from '../errors.js';
import { Evt, H4, LeEvt } from './constants.js';

export type H4Packet =
  | { kind: 'command'; opcode: number; params: Buffer }
  | { kind: 'acl'; handle: number; boundary: number; data: Buffer }
  | { kind: 'event'; code: number; params: Buffer };

/** Splits one H4 packet; throws RadioError `BAD_HCI_PACKET` when its lengths do not add up. */
export function parseH4(packet: Buffer): H4Packet {
  const type = packet[0];
  if (type === H4.Command && packet.length >= 4) {
    const length = packet[3]!;
    if (packet.length === 4 + length) {
      return { kind: 'command', opcode: packet.readUInt16LE(1), params: packet.subarray(4) };
    }
  } else if (type === H4.Acl && packet.length >= 5) {
    const header = packet.readUInt16LE(1);
    const length = packet.readUInt16LE(3);
    if (packet.length === 5 + length) {
      return {
        kind: 'acl',
        handle: header & 0x0fff,
        boundary: (header >> 12) & 0b11,
        data: packet.subarray(5),
      };
    }
  } else if (type === H4.Event && packet.length >= 3) {
    const length = packet[2]!;
    if (packet.length === 3 + length) return { kind: 'event', code: packet[1]!, params: packet.subarray(3) };
  }
  throw new RadioError('BAD_HCI_PACKET', `malformed H4 packet ${packet.subarray(0, 8).toString('hex')}…`);
}

export function commandPacket(opcode: number, params: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(4 + params.length);
  out[0] = H4.Command;
  out.writeUInt16LE(opcode, 1);
  out[3] = params.length;
  out.set(params, 4);
  return out;
}

export function eventPacket(code: number, params: Uint8Array): Buffer {
  const out = Buffer.alloc(3 + params.length);
  out[0] = H4.Event;
  out[1] = code;
  out[2] = params.length;
  out.set(params, 3);
  return out;
}

/** An ACL data packet; `boundary` is the Packet_Boundary_Flag, broadcast flag 0. */
export function aclPacket(handle: number, boundary: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = H4.Acl;
  out.writeUInt16LE((handle & 0x0fff) | (boundary << 12), 1);
  out.writeUInt16LE(data.length, 3);
  out.set(data, 5);
  return out;
}

/** Command Complete with Num_HCI_Command_Packets = 1; `returnParams` starts with the status. */
export function commandComplete(opcode: number, returnParams: Uint8Array): Buffer {
  const params = Buffer.alloc(3 + returnParams.length);
  params[0] = 1;
  params.writeUInt16LE(opcode, 1);
  params.set(returnParams, 3);
  return eventPacket(Evt.CommandComplete, params);
}

export function commandStatus(opcode: number, status: number): Buffer {
  const params = Buffer.alloc(4);
  params[0] = status;
  params[1] = 1;
  params.writeUInt16LE(opcode, 2);
  return eventPacket(Evt.CommandStatus, params);
}

export function disconnectionComplete(handle: number, reason: number): Buffer {
  const params = Buffer.alloc(4);
  params[0] = 0;
  params.writeUInt16LE(handle, 1);
  params[3] = reason;
  return eventPacket(Evt.DisconnectionComplete, params);
}

export function numberOfCompletedPackets(entries: ReadonlyArray<{ handle: number; count: number }>): Buffer {
  const params = Buffer.alloc(1 + 4 * entries.length);
  params[0] = entries.length;
  entries.forEach((e, i) => {
    params.writeUInt16LE(e.handle, 1 + 4 * i);
    params.writeUInt16LE(e.count, 3 + 4 * i);
  });
  return eventPacket(Evt.NumberOfCompletedPackets, params);
}

export function leMeta(subevent: number, params: Uint8Array): Buffer {
  const out = Buffer.alloc(1 + params.length);
  out[0] = subevent;
  out.set(params, 1);
  return eventPacket(Evt.LeMeta, out);
}

/** One legacy LE Advertising Report (Num_Reports = 1). */
export function advertisingReport(report: {
  type: number;
  addressType: number;
  address: Uint8Array;
  data: Uint8Array;
  rssi: number;
}): Buffer {
  const p = Buffer.alloc(1 + 1 + 1 + 6 + 1 + report.data.length + 1);
  p[0] = 1;
  p[1] = report.type;
  p[2] = report.addressType;
  p.set(report.address, 3);
  p[9] = report.data.length;
  p.set(report.data, 10);
  p.writeInt8(report.rssi, 10 + report.data.length);
  return leMeta(LeEvt.AdvertisingReport, p);
}

export interface ConnectionCompleteParams {
  status: number;
  handle: number;
  role: number;
  peerAddressType: number;
  peerAddress: Uint8Array;
  /** In 1.25 ms units. */
  interval: number;
  latency: number;
  /** In 10 ms units. */
  supervisionTimeout: number;
}

/** LE Connection Complete, or LE Enhanced Connection Complete (local/peer RPA all zero) when `enhanced`. */
export function connectionComplete(c: ConnectionCompleteParams, enhanced: boolean): Buffer {
  const p = Buffer.alloc(enhanced ? 30 : 18);
  p[0] = c.status;
  p.writeUInt16LE(c.handle, 1);
  p[3] = c.role;
  p[4] = c.peerAddressType;
  p.set(c.peerAddress, 5);
  const tail = enhanced ? 23 : 11;
  p.writeUInt16LE(c.interval, tail);
  p.writeUInt16LE(c.latency, tail + 2);
  p.writeUInt16LE(c.supervisionTimeout, tail + 4);
  p[tail + 6] = 0; // Central_Clock_Accuracy: 500 ppm
  return leMeta(enhanced ? LeEvt.EnhancedConnectionComplete : LeEvt.ConnectionComplete, p);
}

export function connectionUpdateComplete(
  handle: number,
  interval: number,
  latency: number,
  supervisionTimeout: number,
): Buffer {
  const p = Buffer.alloc(9);
  p[0] = 0;
  p.writeUInt16LE(handle, 1);
  p.writeUInt16LE(interval, 3);
  p.writeUInt16LE(latency, 5);
  p.writeUInt16LE(supervisionTimeout, 7);
  return leMeta(LeEvt.ConnectionUpdateComplete, p);
}

export function readRemoteFeaturesComplete(handle: number, features: Uint8Array): Buffer {
  const p = Buffer.alloc(11);
  p[0] = 0;
  p.writeUInt16LE(handle, 1);
  p.set(features.subarray(0, 8), 3);
  return leMeta(LeEvt.ReadRemoteFeaturesComplete, p);
}

export function dataLengthChange(handle: number, octets: number, timeUs: number): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt16LE(handle, 0);
  p.writeUInt16LE(octets, 2); // MaxTxOctets
  p.writeUInt16LE(timeUs, 4); // MaxTxTime
  p.writeUInt16LE(octets, 6); // MaxRxOctets
  p.writeUInt16LE(timeUs, 8); // MaxRxTime
  return leMeta(LeEvt.DataLengthChange, p);
}

/** PHY codes in HCI: 1 = LE 1M, 2 = LE 2M (Core Vol 4 Part E §7.8.47). */
export function phyUpdateComplete(handle: number, phy: number): Buffer {
  const p = Buffer.alloc(5);
  p[0] = 0;
  p.writeUInt16LE(handle, 1);
  p[3] = phy;
  p[4] = phy;
  return leMeta(LeEvt.PhyUpdateComplete, p);
}

/** "c0:de:5a:00:00:01" from the 6 little-endian bytes HCI carries. */
export function formatAddress(le: Uint8Array): string {
  return Array.from(le)
    .reverse()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

/** The 6 little-endian bytes of "c0:de:5a:00:00:01"; throws RadioError `BAD_ADDRESS`. */
export function parseAddress(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RadioError('BAD_ADDRESS', `"${text}" is not a Bluetooth address like c0:de:5a:00:00:01`);
  }
  return Buffer.from(parts.reverse().join(''), 'hex');
}
