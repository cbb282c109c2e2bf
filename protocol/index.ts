/**
 * PawLink's protocol core (`pawlink/protocol`): pure, synchronous, no I/O. The engines compose the
 * layers; each layer is also available as a namespace for tools, tests and other implementations.
 * PROTOCOL.md is the specification.
 */
export * from './bytes.js';
export * as container from './container/index.js';
export * from './crypto.js';
export {
  type DistributiveOmit,
  MemoryPartialStore,
  type PairedToy,
  PhoneConnection,
  type PhoneConnectionOptions,
  type PhoneEvent,
  type PhoneIdentity,
  type PhoneOutput,
  type PhonePartialStore,
  type PhoneState,
} from './engine/phone.js';
export {
  type ConnectionId,
  type SessionPeer,
  type ToyApp,
  ToyEngine,
  type ToyEngineOptions,
  type ToyEvent,
  type ToyOutput,
  type ToyStorage,
} from './engine/toy.js';
export * from './errors.js';
export * as framing from './framing/index.js';
export * as gatt from './gatt/index.js';
export * from './link.js';
export * as messages from './messages/index.js';
export * as pairing from './pairing/index.js';
export * from './random.js';
export * as session from './session/index.js';
export * as transfer from './transfer/index.js';
export { PROTOCOL_VERSION } from './version.js';
