/**
 * Application messages: every number of the layer in one place, with its unit and where it comes
 * from. PROTOCOL.md section "Application messages" is the normative text.
 *
 * An application message is the plaintext of one encrypted session record (the session layer
 * encrypts, this layer only encodes). Layout: type u8, requestId u16 LE, body. The type byte's
 * range tells who may send it (see `TYPE_RANGES`), and the range 0x40–0x4F belongs to the transfer
 * layer (protocol/transfer/), so one record plaintext is routed on its first byte alone.
 */

/** Who sends a message: `toToy` = phone → toy (requests), `toPhone` = toy → phone (responses, events). */
export type Direction = 'toToy' | 'toPhone';

/** A request asks the toy to do something; a response answers one request; an event is unsolicited. */
export type MessageClass = 'request' | 'response' | 'event';

/**
 * The toy's physical parts a message can act on (product brief: speaker, microphone, heart LED, two
 * paws, flash storage, and the pairing table held in it). `microphone` is listed so that the type
 * table can say, and a test can check, that NO message drives it: recording starts only when the
 * child presses the record paw (protocol brief, layer 5: "There is no command that starts the
 * microphone"; ETSI EN 303 645 provision 5.6: minimise exposed attack surfaces).
 */
export type Hardware = 'speaker' | 'microphone' | 'led' | 'storage' | 'pairingTable';

/** One row of the type table. */
export interface MessageSpec {
  /** The type byte on the wire. */
  readonly code: number;
  readonly direction: Direction;
  readonly class: MessageClass;
  /** Requests only: the toy answers NOT_ADMIN unless the session's phone has the admin role. */
  readonly adminOnly: boolean;
  /** Requests only: the success responses it may get (an `Error` is always possible too). */
  readonly responses: readonly string[];
  /** What a toy acting on this message may drive. Never `microphone`. */
  readonly drives: readonly Hardware[];
}

const request = (
  code: number,
  responses: readonly string[],
  drives: readonly Hardware[],
  adminOnly = false,
): MessageSpec => ({ code, direction: 'toToy', class: 'request', adminOnly, responses, drives });
const response = (code: number): MessageSpec => ({
  code,
  direction: 'toPhone',
  class: 'response',
  adminOnly: false,
  responses: [],
  drives: [],
});
const event = (code: number): MessageSpec => ({
  code,
  direction: 'toPhone',
  class: 'event',
  adminOnly: false,
  responses: [],
  drives: [],
});

/**
 * The type table: every application message there is. A type byte not in this table (and not a
 * transfer type) is UNKNOWN_TYPE. Names follow the protocol brief (layer 5) and the product brief.
 *
 * Requests 0x01–0x3F (phone → toy), responses 0x80–0xBF and events 0xC0–0xDF (toy → phone): the
 * high bit of the type byte is the direction, so a C decoder can refuse a wrong-direction message
 * with one test. There is deliberately no request that records, arms or turns on the microphone,
 * and no reserved code for one: the microphone is driven only by the record paw.
 */
export const MESSAGE_TABLE = {
  // Requests (phone → toy), 0x01–0x3F.
  StatusRequest: request(0x01, ['Status'], []),
  SetVolume: request(0x02, ['Ok'], ['speaker']),
  Identify: request(0x03, ['Ok'], ['led']),
  SetLed: request(0x04, ['Ok'], ['led']),
  ListMessages: request(0x05, ['MessageList'], []),
  DeleteMessage: request(0x06, ['Ok'], ['storage']),
  Lullaby: request(0x07, ['Ok'], ['speaker']),
  LullabyStop: request(0x08, ['Ok'], ['speaker']),
  SetGameMode: request(0x09, ['Ok'], []),
  ListPairings: request(0x0a, ['Pairings'], [], true),
  OpenPairingWindow: request(0x0b, ['Ok'], ['pairingTable', 'led'], true),
  RemovePairing: request(0x0c, ['Ok'], ['pairingTable'], true),
  // Only arms a physical confirmation (both paws); the erase is driven by the paws, not this message.
  FactoryResetRequest: request(0x0d, ['Ok'], ['led'], true),
  // Responses (toy → phone), 0x80–0xBF.
  Ok: response(0x80),
  Error: response(0x81),
  Status: response(0x82),
  MessageList: response(0x83),
  Pairings: response(0x84),
  // Events (toy → phone, unsolicited, requestId 0), 0xC0–0xDF.
  PawEvent: event(0xc0),
  RecordingStoredEvent: event(0xc1),
  PlaybackEvent: event(0xc2),
} as const satisfies Record<string, MessageSpec>;

export type AppMessageType = keyof typeof MESSAGE_TABLE;

/** Inclusive ranges of the type byte. 0x00 and the `reserved` ranges are never assigned. */
export const TYPE_RANGES = {
  request: { first: 0x01, last: 0x3f },
  /** Owned by the transfer layer (TransferInit, Accept, Block, BlockAck, End, Done, Abort, DownloadRequest). */
  transfer: { first: 0x40, last: 0x4f },
  reserved: { first: 0x50, last: 0x7f },
  response: { first: 0x80, last: 0xbf },
  event: { first: 0xc0, last: 0xdf },
  reservedHigh: { first: 0xe0, last: 0xff },
} as const;

/** Header: type u8 + requestId u16 LE (bytes). */
export const HEADER_BYTES = 3;

/**
 * requestId: 1–65535 in requests, echoed by the response; 0 in events; an `Error` may carry 0 when
 * it answers a request whose id could not be read (fewer than 3 bytes).
 */
export const REQUEST_ID_MIN = 1;
export const REQUEST_ID_MAX = 0xffff;
export const EVENT_REQUEST_ID = 0;
/** Lowest requestId of an `Error` (0 = "your request's id could not be read"). */
export const ERROR_REQUEST_ID_MIN = 0;

/**
 * Largest application message (bytes of record plaintext). The framing layer carries at most 2048
 * bytes per message (protocol brief, layer 2); the link envelope (1 byte), the record header and the
 * 16-byte Poly1305 tag (RFC 8439 §2.8) come off that, leaving about 2020 bytes of plaintext. 2000
 * keeps margin; the largest message this layer can produce (a full MessageList) is far below it.
 */
export const MAX_APP_MESSAGE_BYTES = 2000;

/**
 * How long a phone waits for the response to a request before it treats the request as failed,
 * ms (the SDK's default). The toy answers every request at once — none waits for the child or the
 * user (a FactoryResetRequest is answered before its physical confirmation) — so the time is link
 * latency plus at most a flash erase (a few hundred ms), far below this. A timed-out request is
 * forgotten; a response arriving later matches no pending requestId and is dropped.
 */
export const RESPONSE_TIMEOUT_MS = 10_000;

/** Volume, 0 (silent) – 255 (loudest): the original toy's range (product brief). */
export const VOLUME_MIN = 0;
export const VOLUME_MAX = 255;

/** Battery charge, percent. */
export const BATTERY_PERCENT_MAX = 100;

/** Identify: how long the heart blinks, seconds (long enough to walk to the toy; product brief setup step). */
export const IDENTIFY_SECONDS_MIN = 1;
export const IDENTIFY_SECONDS_MAX = 60;
/** The blink pattern the toy shows for Identify, ms (period / on time); 2.5 flashes per second. */
export const IDENTIFY_BLINK_PERIOD_MS = 400;
export const IDENTIFY_BLINK_ON_MS = 200;

/**
 * LED blink parameters, milliseconds. The shortest period, 400 ms, is at most 2.5 flashes per second,
 * under the "three flashes in any one second" general flash threshold (WCAG 2.2 success criterion
 * 2.3.1; the same threshold as ITU-R BT.1702) — this is a child's toy. The longest, 10 s, is still
 * recognisably "blinking". The on and off phases are each at least 50 ms so both are visible.
 */
export const LED_PERIOD_MIN_MS = 400;
export const LED_PERIOD_MAX_MS = 10_000;
export const LED_PHASE_MIN_MS = 50;

/**
 * Stored messages: the toy keeps at most 64 complete messages (incoming + recordings together), so
 * that a MessageList always fits in one record (4 + 64 × 18 = 1156 bytes ≤ MAX_APP_MESSAGE_BYTES).
 * The product needs at least 4 incoming + 1 recording (product brief: the original toy's slots).
 */
export const MAX_STORED_MESSAGES = 64;
/** Bytes of one MessageList entry on the wire. */
export const MESSAGE_ENTRY_BYTES = 18;
/** Longest voice message, ms (protocol brief, "Audio format": maximum message 120 s). */
export const MAX_MESSAGE_DURATION_MS = 120_000;
/** Message ids are assigned by the toy from 1 upwards and never reused until a factory reset; 0 is "none". */
export const MESSAGE_ID_MIN = 1;
export const MESSAGE_ID_MAX = 0xffffffff;

/** Lullaby: loop a stored message N times (1–100) or for T seconds (1–3600 = a one-hour sleep timer). */
export const LULLABY_TIMES_MIN = 1;
export const LULLABY_TIMES_MAX = 100;
export const LULLABY_SECONDS_MIN = 1;
export const LULLABY_SECONDS_MAX = 3600;

/** Pairings (protocol brief, layer 3): at most 16, each with a 16-byte phone id and a name. */
export const MAX_PAIRINGS = 16;
export const PHONE_ID_BYTES = 16;
/** A phone's display name, UTF-8 bytes (not characters). */
export const MAX_PHONE_NAME_BYTES = 32;
/** Pairing window opened by an admin: 1–180 s (protocol brief, layer 3: the window lasts 180 s). */
export const PAIRING_WINDOW_SECONDS_MIN = 1;
export const PAIRING_WINDOW_SECONDS_MAX = 180;

/** Optional human-readable detail of an `Error` response, UTF-8 bytes. */
export const MAX_ERROR_DETAIL_BYTES = 64;

/**
 * Factory reset: after answering `Ok` to a FactoryResetRequest, the toy waits this long (ms) for the
 * physical confirmation (both paws held together for FACTORY_RESET_HOLD_MS). Without it nothing
 * happens: a reset never follows from a message alone (physical presence, as for the pairing window).
 */
export const FACTORY_RESET_CONFIRM_WINDOW_MS = 30_000;
export const FACTORY_RESET_HOLD_MS = 2_000;

// ---- Wire values of the enumerations (u8 unless noted). 0 is unused where "none" makes no sense. ----

/** MessageEntry.kind: an incoming message (phone → toy) or the child's recording (toy → phone). */
export const MESSAGE_KIND = { incoming: 1, recording: 2 } as const;
/** ListMessages.filter. */
export const MESSAGE_FILTER = { all: 0, incoming: 1, recording: 2 } as const;
/** LED mode. */
export const LED_MODE = { off: 0, on: 1, blink: 2 } as const;
/** Pairing role. */
export const PAIRING_ROLE = { admin: 1, member: 2 } as const;
/** Lullaby loop mode: the u16 that follows is a repeat count or a duration in seconds. */
export const LULLABY_MODE = { times: 1, seconds: 2 } as const;
/** Which paw: the listen paw (plays) or the record paw (records and stops). */
export const PAW = { listen: 1, record: 2 } as const;
/** press = released before the toy's hold threshold; hold = held past it. */
export const PAW_ACTION = { press: 1, hold: 2 } as const;
/** PlaybackEvent.state. */
export const PLAYBACK_STATE = { started: 1, finished: 2, stopped: 3 } as const;
/** PlaybackEvent.source: the child's listen paw or a Lullaby request. */
export const PLAYBACK_SOURCE = { paw: 1, lullaby: 2 } as const;
/** Booleans are one byte: 0 or 1, anything else is refused. */
export const BOOLEAN = { false: 0, true: 1 } as const;

/** Status.flags bits; the other bits are reserved and must be 0. */
export const STATUS_FLAG = {
  charging: 0x01,
  gameMode: 0x02,
  pairingWindowOpen: 0x04,
  lullabyPlaying: 0x08,
} as const;
/** MessageEntry.flags bits. */
export const ENTRY_FLAG = { played: 0x01 } as const;
/** PairingEntry.flags bits. */
export const PAIRING_FLAG = { thisPhone: 0x01 } as const;

/**
 * Application error codes carried in an `Error` response (u16 LE). Stable: an app may show a
 * message per code. Numbers are ours.
 */
export const APP_ERROR_CODE = {
  /** The request could not be decoded: malformed, out of range, wrong direction, bad requestId. */
  BAD_REQUEST: 0x0001,
  /** Unknown message type, or a feature this toy does not have. */
  UNSUPPORTED: 0x0002,
  /** The request is admin-only and the session's phone is a member. */
  NOT_ADMIN: 0x0003,
  /** No stored message / pairing with that id. */
  NOT_FOUND: 0x0004,
  /** Not enough free storage for what was asked. */
  STORAGE_FULL: 0x0005,
  /** The toy cannot do it now (the child is recording, a factory reset confirmation is pending...). */
  BUSY: 0x0006,
  /** OpenPairingWindow while a pairing window is already open. */
  WINDOW_ALREADY_OPEN: 0x0007,
  /** OpenPairingWindow while the pairing table already holds MAX_PAIRINGS phones. */
  PAIRINGS_FULL: 0x0008,
  /** OpenPairingWindow after the lifetime failure limit locked pairing (until factory reset). */
  PAIRING_LOCKED: 0x0009,
  /** The toy failed internally (e.g. a flash write); nothing was changed. */
  INTERNAL: 0x000a,
} as const;
export type AppErrorCode = keyof typeof APP_ERROR_CODE;

/** The `code` strings a MessageError can carry (stable API; PROTOCOL.md lists them). */
export const MESSAGE_ERROR_CODES = [
  'TRUNCATED',
  'TRAILING_BYTES',
  'TOO_LARGE',
  'NOT_AN_APP_MESSAGE',
  'UNKNOWN_TYPE',
  'WRONG_DIRECTION',
  'BAD_REQUEST_ID',
  'OUT_OF_RANGE',
  'BAD_ENUM',
  'RESERVED_BITS',
  'TOO_MANY_ENTRIES',
  'DUPLICATE_ENTRY',
  'STRING_TOO_LONG',
  'BAD_UTF8',
  'BAD_STRING',
  'INCONSISTENT_FIELDS',
  'INVALID_FIELD',
] as const;
export type MessageErrorCode = (typeof MESSAGE_ERROR_CODES)[number];
