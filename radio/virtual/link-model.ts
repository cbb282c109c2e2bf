/**
 * The link model of the virtual radio, as formulas (MODEL.md derives them). The connection engine
 * (connection.ts) applies the same rules packet by packet; benchmarks compare what it measures
 * against `linkThroughput`.
 *
 * A connection event starts every connection interval. In it the central and the peripheral
 * alternate PDUs, central first, T_IFS apart; a side with nothing to send answers with an empty
 * PDU. The event carries at most `maxPdusPerEvent` PDUs per direction and ends before the next
 * interval starts. A PDU carries at most the negotiated data length of payload; every L2CAP PDU
 * (4-octet header + ATT PDU) starts a new LL PDU.
 */
import { RadioError } from '../errors.js';
import {
  CONN_INTERVAL_UNIT_MS,
  Defaults,
  MAX_CONN_INTERVAL_MS,
  MAX_DATA_LENGTH,
  MIN_CONN_INTERVAL_MS,
  MIN_DATA_LENGTH,
  PDU_OVERHEAD_OCTETS,
  PHY_BITS_PER_US,
  T_IFS_US,
} from './constants.js';

export type Phy = '1M' | '2M';

/** The parameters a connection runs with. */
export interface LinkParameters {
  /** Connection interval, ms: 7.5–4000 in 1.25 ms steps. */
  connectionIntervalMs: number;
  /** Most PDUs per connection event and direction (Infinity: only the interval limits). */
  maxPdusPerEvent: number;
  /** LE data length, payload octets per PDU: 27 (no data length extension) to 251. */
  dataLength: number;
  phy: Phy;
}

/** L2CAP basic header, octets (Core Vol 3 Part A §3.1). */
export const L2CAP_HEADER_OCTETS = 4;
/** ATT Handle Value Notification header: opcode + handle, octets (Core Vol 3 Part F §3.4.7.1). */
export const ATT_NOTIFICATION_HEADER_OCTETS = 3;

/** Time on air of one data channel PDU with `payload` octets, µs (Core Vol 6 Part B §2.1). */
export function pduAirtimeUs(payload: number, phy: Phy): number {
  return ((PDU_OVERHEAD_OCTETS[phy] + payload) * 8) / PHY_BITS_PER_US[phy];
}

/** One exchange in an event: a PDU of `payload` octets, T_IFS, an empty reply, T_IFS; µs. */
export function exchangeUs(payload: number, phy: Phy): number {
  return pduAirtimeUs(payload, phy) + T_IFS_US + pduAirtimeUs(0, phy) + T_IFS_US;
}

/** Throws RadioError `BAD_LINK_PARAMETERS` unless the parameters are ones a connection can have. */
export function checkLinkParameters(p: LinkParameters): void {
  const steps = p.connectionIntervalMs / CONN_INTERVAL_UNIT_MS;
  const problems: string[] = [];
  if (
    !(p.connectionIntervalMs >= MIN_CONN_INTERVAL_MS && p.connectionIntervalMs <= MAX_CONN_INTERVAL_MS) ||
    Math.abs(steps - Math.round(steps)) > 1e-9
  ) {
    problems.push(`connection interval ${p.connectionIntervalMs} ms is not 7.5–4000 ms in 1.25 ms steps`);
  }
  if (
    !(p.maxPdusPerEvent >= 1) ||
    (Number.isFinite(p.maxPdusPerEvent) && !Number.isInteger(p.maxPdusPerEvent))
  ) {
    problems.push(`maxPdusPerEvent ${p.maxPdusPerEvent} is not a whole number ≥ 1 (or Infinity)`);
  }
  if (!Number.isInteger(p.dataLength) || p.dataLength < MIN_DATA_LENGTH || p.dataLength > MAX_DATA_LENGTH) {
    problems.push(`data length ${p.dataLength} is not ${MIN_DATA_LENGTH}–${MAX_DATA_LENGTH} octets`);
  }
  if (p.phy !== '1M' && p.phy !== '2M') problems.push(`PHY ${String(p.phy)} is not 1M or 2M`);
  if (problems.length > 0) throw new RadioError('BAD_LINK_PARAMETERS', problems.join('; '));
}

export interface Throughput {
  /** LL PDUs one notification of `valueSize` octets takes. */
  pdusPerNotification: number;
  /** PDUs one direction carries per connection event (count, time or buffer limit). */
  pdusPerEvent: number;
  /** Notification value octets per second. */
  valueBytesPerSecond: number;
  /** Simulated time to move `totalBytes` of notification values, ms (whole events). */
  transferMs(totalBytes: number): number;
}

/** The sending controller's LE ACL buffers (LE Read Buffer Size). */
export interface AclBuffers {
  /** Octets per HCI ACL packet: the host cuts L2CAP PDUs into fragments of this size. */
  length: number;
  /** Packets the host may have in the controller; the host refills them after each event. */
  count: number;
}

/**
 * What a saturated one-way stream of notifications, each carrying `valueSize` octets of value,
 * achieves over a link: the notification payload rate of protocol.md's link budget.
 */
export function linkThroughput(
  link: LinkParameters,
  valueSize: number,
  buffers: AclBuffers = { length: Defaults.aclBufferLength, count: Defaults.aclBufferCount },
): Throughput {
  checkLinkParameters(link);
  if (!Number.isInteger(valueSize) || valueSize < 1) {
    throw new RadioError('BAD_LINK_PARAMETERS', `notification value size ${valueSize} is not ≥ 1 octet`);
  }
  const l2capOctets = valueSize + ATT_NOTIFICATION_HEADER_OCTETS + L2CAP_HEADER_OCTETS;
  // The host cuts the L2CAP PDU into HCI fragments; the controller cuts each fragment into PDUs.
  let pdusPerNotification = 0;
  let packetsPerNotification = 0;
  for (let left = l2capOctets; left > 0; left -= buffers.length) {
    pdusPerNotification += Math.ceil(Math.min(left, buffers.length) / link.dataLength);
    packetsPerNotification++;
  }
  const fullestPdu = Math.min(link.dataLength, l2capOctets, buffers.length);
  const intervalUs = link.connectionIntervalMs * 1000;
  const byTime = Math.max(1, Math.floor(intervalUs / exchangeUs(fullestPdu, link.phy)));
  // Completed packets are reported at the end of an event, so an event sends at most what the
  // host's buffers held when it began.
  const byBuffers = Math.floor((buffers.count * pdusPerNotification) / packetsPerNotification);
  const pdusPerEvent = Math.min(link.maxPdusPerEvent, byTime, byBuffers);
  const valueBytesPerSecond =
    (pdusPerEvent * valueSize * 1000) / pdusPerNotification / link.connectionIntervalMs;
  return {
    pdusPerNotification,
    pdusPerEvent,
    valueBytesPerSecond,
    transferMs(totalBytes: number): number {
      const notifications = Math.ceil(totalBytes / valueSize);
      const events = Math.ceil((notifications * pdusPerNotification) / pdusPerEvent);
      return events * link.connectionIntervalMs;
    },
  };
}
