/**
 * The typed shapes of every application message: one discriminated union, `AppMessage`, keyed by
 * `type` (the names of MESSAGE_TABLE in constants.ts). Units are in the field names.
 */
import type { AppErrorCode, AppMessageType } from './constants.js';

export type { AppErrorCode, AppMessageType, Direction } from './constants.js';

export type MessageKind = 'incoming' | 'recording';
export type MessageFilter = MessageKind | 'all';
export type PairingRole = 'admin' | 'member';
export type Paw = 'listen' | 'record';
export type PawAction = 'press' | 'hold';
export type PlaybackState = 'started' | 'finished' | 'stopped';
export type PlaybackSource = 'paw' | 'lullaby';

/** The heart LED's base mode (what it shows when no indicator overrides it). */
export type LedMode =
  | { mode: 'off' }
  | { mode: 'on' }
  /** Repeats: on for `onMs`, off for `periodMs - onMs`. */
  | { mode: 'blink'; periodMs: number; onMs: number };

/** How long a lullaby loops: a repeat count, or a sleep timer in seconds. */
export type LullabyLoop = { mode: 'times'; times: number } | { mode: 'seconds'; seconds: number };

export interface FirmwareVersion {
  major: number;
  minor: number;
  patch: number;
}

/** One complete stored message (partial transfers are never listed). */
export interface MessageEntry {
  /** Toy-assigned, 1–2^32−1, never reused until a factory reset. */
  id: number;
  kind: MessageKind;
  /** Incoming: the child has listened to it. Recording: a phone has downloaded it completely. */
  played: boolean;
  durationMs: number;
  /** Size of the stored voice container. */
  sizeBytes: number;
  /** When it was stored, in seconds of the toy's clock (see Status.clockSeconds). */
  createdAtSeconds: number;
}

export interface PairingEntry {
  phoneId: Uint8Array;
  role: PairingRole;
  /** UTF-8, at most 32 bytes, no control characters. */
  name: string;
  /** The phone of the session this list was sent in. */
  thisPhone: boolean;
}

interface Header<T extends AppMessageType> {
  type: T;
  /** Requests 1–65535; responses echo it; events 0. */
  requestId: number;
}

// ---- Requests (phone → toy) ----
export interface StatusRequestMessage extends Header<'StatusRequest'> {}
export interface SetVolumeMessage extends Header<'SetVolume'> {
  volume: number;
}
export interface IdentifyMessage extends Header<'Identify'> {
  seconds: number;
}
export interface SetLedMessage extends Header<'SetLed'> {
  led: LedMode;
}
export interface ListMessagesMessage extends Header<'ListMessages'> {
  filter: MessageFilter;
}
export interface DeleteMessageMessage extends Header<'DeleteMessage'> {
  messageId: number;
}
export interface LullabyMessage extends Header<'Lullaby'> {
  messageId: number;
  loop: LullabyLoop;
}
export interface LullabyStopMessage extends Header<'LullabyStop'> {}
export interface SetGameModeMessage extends Header<'SetGameMode'> {
  enabled: boolean;
}
export interface ListPairingsMessage extends Header<'ListPairings'> {}
export interface OpenPairingWindowMessage extends Header<'OpenPairingWindow'> {
  /** Role the next phone to pair will get. */
  role: PairingRole;
  seconds: number;
}
export interface RemovePairingMessage extends Header<'RemovePairing'> {
  phoneId: Uint8Array;
}
export interface FactoryResetRequestMessage extends Header<'FactoryResetRequest'> {}

// ---- Responses (toy → phone) ----
export interface OkMessage extends Header<'Ok'> {}
export interface ErrorMessage extends Header<'Error'> {
  code: AppErrorCode;
  /** Optional, UTF-8 ≤ 64 bytes, no control characters. An empty detail is sent as "absent". */
  detail?: string;
}
export interface StatusMessage extends Header<'Status'> {
  batteryPercent: number;
  charging: boolean;
  volume: number;
  led: LedMode;
  storageFreeBytes: number;
  storageTotalBytes: number;
  firmware: FirmwareVersion;
  /** Complete incoming messages stored. */
  incomingCount: number;
  /** Of those, not yet played by the child. */
  unplayedCount: number;
  /** Complete recordings stored. */
  recordingCount: number;
  gameMode: boolean;
  pairingWindowOpen: boolean;
  lullabyPlaying: boolean;
  /** The toy's clock now, seconds; lets the app turn `createdAtSeconds` into wall time. */
  clockSeconds: number;
}
export interface MessageListMessage extends Header<'MessageList'> {
  entries: MessageEntry[];
}
export interface PairingsMessage extends Header<'Pairings'> {
  entries: PairingEntry[];
}

// ---- Events (toy → phone, requestId 0) ----
export interface PawEventMessage extends Header<'PawEvent'> {
  paw: Paw;
  action: PawAction;
  /** How long the paw was held, ms. */
  durationMs: number;
  /** When it was pressed: the toy's millisecond counter modulo 2^32 (for relative timing only). */
  atMs: number;
}
export interface RecordingStoredEventMessage extends Header<'RecordingStoredEvent'> {
  messageId: number;
  durationMs: number;
  sizeBytes: number;
}
export interface PlaybackEventMessage extends Header<'PlaybackEvent'> {
  messageId: number;
  state: PlaybackState;
  source: PlaybackSource;
}

export type AppRequest =
  | StatusRequestMessage
  | SetVolumeMessage
  | IdentifyMessage
  | SetLedMessage
  | ListMessagesMessage
  | DeleteMessageMessage
  | LullabyMessage
  | LullabyStopMessage
  | SetGameModeMessage
  | ListPairingsMessage
  | OpenPairingWindowMessage
  | RemovePairingMessage
  | FactoryResetRequestMessage;
export type AppResponse = OkMessage | ErrorMessage | StatusMessage | MessageListMessage | PairingsMessage;
export type AppEvent = PawEventMessage | RecordingStoredEventMessage | PlaybackEventMessage;

/** Every application message. Narrow on `type`. */
export type AppMessage = AppRequest | AppResponse | AppEvent;

/** The variant of AppMessage with the given `type`, e.g. `AppMessageOf<'SetVolume'>`. */
export type AppMessageOf<T extends AppMessageType> = Extract<AppMessage, { type: T }>;
