/**
 * Handshake negotiation rules (PROTOCOL.md §5.4): how the toy turns a request into a response, and
 * what the phone accepts in a response. Pure functions; the endpoint calls them.
 */
import { FramingError } from '../errors.js';
import type { HandshakeRequest, HandshakeResponse } from './codec.js';
import {
  ATT_HEADER_LENGTH,
  ATT_MTU_MIN,
  SEGMENT_SIZE_MAX,
  SEGMENT_SIZE_MIN,
  WINDOW_MAX,
  WINDOW_MIN,
} from './constants.js';

/** What one side brings to the handshake. */
export interface LocalCapabilities {
  /** Versions this side speaks (1–15 each). */
  versions: readonly number[];
  /** This side's ATT_MTU for the connection, bytes. */
  attMtu: number;
  /** The window this side offers, packets (3–32). */
  window: number;
}

/**
 * The segment size for a connection: min(both ATT_MTUs) − 3, at most 244 (Matter §4.19.4.3). An
 * ATT_MTU below 23 (impossible on LE; a central that cannot tell sends 23) counts as 23, so the
 * result is always 20–244.
 */
export function segmentSizeFor(attMtuA: number, attMtuB: number): number {
  const mtu = Math.min(Math.max(attMtuA, ATT_MTU_MIN), Math.max(attMtuB, ATT_MTU_MIN));
  return Math.min(mtu - ATT_HEADER_LENGTH, SEGMENT_SIZE_MAX);
}

/**
 * The toy's side: choose the response to a request. Version: the highest both speak
 * (`NO_COMMON_VERSION` if none). Window: min of both offers, which must be at least 3
 * (`BAD_WINDOW`). Segment size: `segmentSizeFor` of both ATT_MTUs.
 */
export function negotiate(request: HandshakeRequest, local: LocalCapabilities): HandshakeResponse {
  const common = request.versions.filter((v) => local.versions.includes(v));
  if (common.length === 0) {
    throw new FramingError(
      'NO_COMMON_VERSION',
      `no common framing version: peer offers ${request.versions.join(',')}, we speak ${local.versions.join(',')}`,
    );
  }
  const window = Math.min(request.window, local.window);
  if (window < WINDOW_MIN) {
    throw new FramingError('BAD_WINDOW', `negotiated window ${window} is below ${WINDOW_MIN}`);
  }
  return {
    version: Math.max(...common),
    segmentSize: segmentSizeFor(request.attMtu, local.attMtu),
    window,
  };
}

/**
 * The phone's side: check the toy's response against the request it sent. The version must be one
 * it offered (`BAD_VERSION`); the window 3..min(its offer, 32) (`BAD_WINDOW`); the segment size
 * 20..min(244, its ATT_MTU − 3) (`BAD_SEGMENT_SIZE`).
 */
export function checkHandshakeResponse(response: HandshakeResponse, request: HandshakeRequest): void {
  if (!request.versions.includes(response.version)) {
    throw new FramingError(
      'BAD_VERSION',
      `the toy chose framing version ${response.version}, which was not offered`,
    );
  }
  const maxWindow = Math.min(request.window, WINDOW_MAX);
  if (response.window < WINDOW_MIN || response.window > maxWindow) {
    throw new FramingError('BAD_WINDOW', `window ${response.window} is outside ${WINDOW_MIN}..${maxWindow}`);
  }
  const maxSegment = segmentSizeFor(request.attMtu, request.attMtu);
  if (response.segmentSize < SEGMENT_SIZE_MIN || response.segmentSize > maxSegment) {
    throw new FramingError(
      'BAD_SEGMENT_SIZE',
      `segment size ${response.segmentSize} is outside ${SEGMENT_SIZE_MIN}..${maxSegment}`,
    );
  }
}
