/**
 * The pairing layer: setup codes, SPAKE2+ (RFC 9383), pairing messages, the phone's
 * `PairingInitiator`, the toy's `ToyPairing` (window, lockout, table, persistence).
 * PROTOCOL.md, "Pairing".
 */
export * from './constants.js';
export {
  type InitiatorPhase,
  type InitiatorStep,
  PairingInitiator,
  type PairingInitiatorOptions,
  type PairingResult,
} from './initiator.js';
export {
  deriveIdentityKeys,
  deriveSetupScalars,
  ID_PROVER_BYTES,
  ID_VERIFIER_BYTES,
  type IdentityKeys,
  type KeyLog,
  type PairingSecrets,
  pairingContext,
} from './keys.js';
export {
  decodePairingMessage,
  decodePhoneIdentityPayload,
  decodeToyIdentityPayload,
  encodePairingMessage,
  encodePhoneIdentityPayload,
  encodeToyIdentityPayload,
  type PairingMessage,
  PairingMessageType,
  type PairingStatus,
  PairingStatusCode,
  type Pake1,
  type Pake2,
  type Pake3,
  type PbkdfParamRequest,
  type PbkdfParamResponse,
  type PhoneIdentity,
  type PhoneIdentityPayload,
  STATUS_ERROR_CODES,
  type ToyIdentity,
  type ToyIdentityPayload,
} from './messages.js';
export {
  generateDiscriminator,
  generateSetupCode,
  isForbiddenSetupCode,
  parseSetupCode,
} from './setup-code.js';
export {
  decodeSetupPayload,
  encodeSetupPayload,
  parseSetupInput,
  SETUP_PAYLOAD_PREFIX,
  type SetupPayload,
} from './setup-payload.js';
export * as spake2plus from './spake2plus.js';
export {
  checkToyPairingState,
  createToyPairingState,
  decodeToyPairingState,
  encodeToyPairingState,
  factoryResetState,
  makeVerifier,
  type PairingVerifier,
  provisionToy,
  type ToyPairingState,
} from './state.js';
export {
  addPairing,
  findByPhoneId,
  findByStaticKey,
  listPairings,
  type PairingEntry,
  type PairingTable,
  type Role,
  RoleCode,
  removePairing,
  requireAdmin,
} from './table.js';
export {
  type ConnectionId,
  type PawWindowResult,
  ToyPairing,
  type ToyPairingOptions,
  type ToyPairingOutput,
  type WindowCloseReason,
} from './toy.js';
