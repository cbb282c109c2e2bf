/**
 * Application messages: the typed plaintexts of session records (status, volume, LED, stored
 * messages, lullaby, game mode, pairings admin, factory-reset request). PROTOCOL.md section
 * "Application messages" is the normative description.
 */
export { appMessageTypeOf, decodeAppMessage, encodeAppMessage, isTransferMessageType } from './codec.js';
export * from './constants.js';
export {
  errorResponseFor,
  isAppEvent,
  isAppRequest,
  isAppResponse,
  isResponseTo,
  messageSpec,
  nextRequestId,
} from './exchange.js';
export type * from './types.js';
