/**
 * PawLink's app SDK: `ToyClient` (pair with a toy, find it by its rotating tag, open a session) and
 * `ToySession` (voice messages, recordings, volume, identify, lullabies, game events, status,
 * pairings), over the virtual radio or a real Bluetooth adapter, with this phone's keystore.
 * Errors are `SdkError`s with stable codes (sdk/client.ts lists them).
 *
 *   import { ToyClient } from 'pawlink/sdk';
 *   const client = await ToyClient.open();
 *   await client.pair('1234-5670');
 *   const toy = await client.connect();
 *   await toy.send('hello.wav');
 */

export type { MessageEntry } from '../protocol/messages/index.js';
export {
  type ConnectOptions,
  DEFAULT_LIST_SCAN_MS,
  DEFAULT_SCAN_TIMEOUT_MS,
  type PairOptions,
  type ScannedToy,
  type ScanOptions,
  ToyClient,
  type ToyClientOptions,
} from './client.js';
export { SdkError } from './errors.js';
export {
  Keystore,
  type KeystoreOptions,
  keystoreDir,
  type PendingUpload,
  type StoredToy,
} from './keystore.js';
export { type OpenedRadio, openRadio, type RadioChoice, type RadioOptions } from './radio.js';
export { type PreparedVoice, type PrepareOptions, prepareVoice, type VoiceInput } from './send.js';
export {
  type DownloadOptions,
  type DownloadResult,
  KEEP_ALIVE_MS,
  type LullabyOptions,
  type PairedToyInfo,
  type PairingInfo,
  type ResumedUpload,
  type SendOptions,
  type ToyAppEvent,
  ToySession,
  type ToyStatus,
  type TransferProgress,
} from './session.js';
