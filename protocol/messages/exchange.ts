/**
 * Request/response bookkeeping shared by the toy and phone engines: request ids, which response
 * answers which request, and the Error a toy sends for a request it could not decode.
 */
import { MessageError } from '../errors.js';
import {
  type AppMessageType,
  ERROR_REQUEST_ID_MIN,
  MESSAGE_ERROR_CODES,
  MESSAGE_TABLE,
  type MessageSpec,
  REQUEST_ID_MAX,
  REQUEST_ID_MIN,
} from './constants.js';
import type { AppEvent, AppMessage, AppRequest, AppResponse, ErrorMessage } from './types.js';

const KNOWN_CODES = new Set<string>(MESSAGE_ERROR_CODES);

/** The type-table row of a message type (code, direction, class, adminOnly, responses, drives). */
export function messageSpec(type: AppMessageType): MessageSpec {
  if (typeof type !== 'string' || !Object.hasOwn(MESSAGE_TABLE, type)) {
    throw new MessageError('UNKNOWN_TYPE', `unknown application message type ${String(type)}`);
  }
  return MESSAGE_TABLE[type];
}

export function isAppRequest(msg: AppMessage): msg is AppRequest {
  return MESSAGE_TABLE[msg.type].class === 'request';
}

export function isAppResponse(msg: AppMessage): msg is AppResponse {
  return MESSAGE_TABLE[msg.type].class === 'response';
}

export function isAppEvent(msg: AppMessage): msg is AppEvent {
  return MESSAGE_TABLE[msg.type].class === 'event';
}

/**
 * True when `response` answers `request`: the same requestId, and either `Error` or the success
 * response the type table names for that request (Status for StatusRequest, Ok for SetVolume...).
 */
export function isResponseTo(request: AppRequest, response: AppMessage): boolean {
  if (response.requestId !== request.requestId || !isAppResponse(response)) return false;
  return response.type === 'Error' || MESSAGE_TABLE[request.type].responses.includes(response.type);
}

/**
 * The requestId to use after `previous`: 1, 2, … 65535, then 1 again (0 is never a request's id;
 * pass 0 to get the first). Throws MessageError OUT_OF_RANGE for anything but an integer 0–65535.
 */
export function nextRequestId(previous: number): number {
  if (!Number.isInteger(previous) || previous < 0 || previous > REQUEST_ID_MAX) {
    throw new MessageError('OUT_OF_RANGE', `requestId must be an integer in 0..${REQUEST_ID_MAX}`);
  }
  return previous >= REQUEST_ID_MAX ? REQUEST_ID_MIN : previous + 1;
}

/**
 * The `Error` response a toy sends for a request that `decodeAppMessage(bytes, 'toToy')` refused
 * with `error`: it echoes the requestId when the input has the 3 header bytes (else 0), answers
 * UNSUPPORTED for an unknown type and BAD_REQUEST for everything else, with the MessageError code as
 * detail (for the app developer: it names a rule, never the toy's state). A transfer-layer message
 * (NOT_AN_APP_MESSAGE) must be routed to the transfer layer instead of answered here.
 */
export function errorResponseFor(bytes: Uint8Array, error: MessageError): ErrorMessage {
  const requestId = bytes.length >= 3 ? bytes[1]! | (bytes[2]! << 8) : ERROR_REQUEST_ID_MIN;
  return {
    type: 'Error',
    requestId,
    code: error.code === 'UNKNOWN_TYPE' ? 'UNSUPPORTED' : 'BAD_REQUEST',
    ...(KNOWN_CODES.has(error.code) ? { detail: error.code } : {}),
  };
}
