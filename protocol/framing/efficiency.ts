/**
 * Framing overhead arithmetic (PROTOCOL.md §5.9), for benchmarks and link-budget estimates. It
 * matches exactly what `BtpEndpoint` puts on the air for one message.
 */
import { FramingError } from '../errors.js';
import {
  ACK_FIELD_LENGTH,
  ATT_HEADER_LENGTH,
  BEGINNING_HEADER_LENGTH,
  CONTINUING_HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  SEGMENT_SIZE_MAX,
  SEGMENT_SIZE_MIN,
} from './constants.js';

export interface FramingCost {
  /** Number of segments (ATT writes or notifications) for the message. */
  segments: number;
  /** Sum of the segments' lengths: the ATT values, bytes. */
  valueBytes: number;
  /** `valueBytes` plus the 3-byte ATT header of each packet: the ATT PDUs, bytes. */
  attBytes: number;
  /** messageLength / attBytes: the share of ATT bytes that is message. */
  efficiency: number;
}

/**
 * What a message of `messageLength` bytes costs at segment size `segmentSize`. With
 * `piggybackAcks`, every segment carries an ack byte (the worst case, data flowing both ways);
 * without, none does. In a one-way transfer at window W the receiver sends one 3-byte stand-alone
 * ack per W/2 segments, and the sender piggy-backs the ack of that ack on one of its next segments:
 * about one extra byte per W/2 segments, not counted here.
 */
export function framingCost(messageLength: number, segmentSize: number, piggybackAcks = false): FramingCost {
  if (!Number.isInteger(messageLength) || messageLength < 0 || messageLength > MAX_MESSAGE_LENGTH) {
    throw new FramingError(
      'OUT_OF_RANGE',
      `message length ${messageLength} is outside 0..${MAX_MESSAGE_LENGTH}`,
    );
  }
  if (!Number.isInteger(segmentSize) || segmentSize < SEGMENT_SIZE_MIN || segmentSize > SEGMENT_SIZE_MAX) {
    throw new FramingError(
      'OUT_OF_RANGE',
      `segment size ${segmentSize} is outside ${SEGMENT_SIZE_MIN}..${SEGMENT_SIZE_MAX}`,
    );
  }
  const ack = piggybackAcks ? ACK_FIELD_LENGTH : 0;
  const first = segmentSize - BEGINNING_HEADER_LENGTH - ack;
  const later = segmentSize - CONTINUING_HEADER_LENGTH - ack;
  const rest = Math.max(0, messageLength - first);
  const continuing = Math.ceil(rest / later);
  const segments = 1 + continuing;
  const valueBytes =
    messageLength + BEGINNING_HEADER_LENGTH + continuing * CONTINUING_HEADER_LENGTH + segments * ack;
  const attBytes = valueBytes + segments * ATT_HEADER_LENGTH;
  return { segments, valueBytes, attBytes, efficiency: attBytes === 0 ? 0 : messageLength / attBytes };
}
