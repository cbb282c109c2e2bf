/** The framing layer: Matter BTP-compatible segments, handshake, windows, acks and timers (PROTOCOL.md §5). */
export {
  type BeginningSegment,
  type BtpPacket,
  type ContinuingSegment,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
  type HandshakeRequest,
  type HandshakeResponse,
  type StandaloneAck,
} from './codec.js';
export * from './constants.js';
export { type FramingCost, framingCost } from './efficiency.js';
export {
  type AttOperation,
  BtpEndpoint,
  type BtpEndpointOptions,
  type BtpRole,
  type BtpSnapshot,
  type BtpState,
  type FramingEvent,
  type LocalCloseCode,
} from './endpoint.js';
export { checkHandshakeResponse, type LocalCapabilities, negotiate, segmentSizeFor } from './negotiate.js';
