/**
 * Session layer: Noise_IK_25519_ChaChaPoly_SHA256 handshake (phone = initiator, toy = responder) and
 * the encrypted records that carry every later message. PROTOCOL.md, "Session layer", is normative.
 */
export * from './constants.js';
export {
  decodeHandshakeMessage,
  encodeHandshakeMessage,
  type HandshakeMessage,
  type Message1Result,
  SessionInitiator,
  type SessionInitiatorOptions,
  type SessionInitiatorState,
  SessionResponder,
  type SessionResponderOptions,
  type SessionResponderState,
  sessionPrologue,
} from './handshake.js';
export {
  CipherState,
  generateKeyPair,
  type KeyPair,
  keyPairFromPrivateKey,
  NoiseIkHandshake,
  type NoiseIkOptions,
  type NoiseIkStep,
  rekey,
  SymmetricState,
} from './noise.js';
export {
  decodeRecordHeader,
  encodeRecordHeader,
  isRecordChannel,
  type OpenedRecord,
  type RecordHeader,
  SecureSession,
  type SecureSessionOptions,
  type SessionRole,
} from './records.js';
