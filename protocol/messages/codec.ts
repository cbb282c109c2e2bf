/**
 * Encoder and decoder of application messages (record plaintexts): type u8, requestId u16 LE, body.
 * Byte layouts are in PROTOCOL.md, "Application messages"; the vectors are
 * test/vectors/messages.json.
 *
 * Both directions validate every field against the same rules, so an SDK caller asking for volume
 * 300 gets a typed MessageError before anything is sent, and a toy given volume 300 never acts on it.
 * The encoding is canonical: every byte string that decodes re-encodes to exactly itself (booleans
 * are 0/1, reserved bits and unused LED parameters are 0, an absent Error detail is length 0).
 * Decoded objects never alias the input bytes.
 */
import { Reader, utf8, Writer } from '../bytes.js';
import { MessageError } from '../errors.js';
import {
  APP_ERROR_CODE,
  type AppMessageType,
  BATTERY_PERCENT_MAX,
  BOOLEAN,
  type Direction,
  ENTRY_FLAG,
  ERROR_REQUEST_ID_MIN,
  EVENT_REQUEST_ID,
  IDENTIFY_SECONDS_MAX,
  IDENTIFY_SECONDS_MIN,
  LED_MODE,
  LED_PERIOD_MAX_MS,
  LED_PERIOD_MIN_MS,
  LED_PHASE_MIN_MS,
  LULLABY_MODE,
  LULLABY_SECONDS_MAX,
  LULLABY_SECONDS_MIN,
  LULLABY_TIMES_MAX,
  LULLABY_TIMES_MIN,
  MAX_APP_MESSAGE_BYTES,
  MAX_ERROR_DETAIL_BYTES,
  MAX_MESSAGE_DURATION_MS,
  MAX_PAIRINGS,
  MAX_PHONE_NAME_BYTES,
  MAX_STORED_MESSAGES,
  MESSAGE_FILTER,
  MESSAGE_ID_MAX,
  MESSAGE_ID_MIN,
  MESSAGE_KIND,
  MESSAGE_TABLE,
  type MessageErrorCode,
  PAIRING_FLAG,
  PAIRING_ROLE,
  PAIRING_WINDOW_SECONDS_MAX,
  PAIRING_WINDOW_SECONDS_MIN,
  PAW,
  PAW_ACTION,
  PHONE_ID_BYTES,
  PLAYBACK_SOURCE,
  PLAYBACK_STATE,
  REQUEST_ID_MAX,
  REQUEST_ID_MIN,
  STATUS_FLAG,
  TYPE_RANGES,
  VOLUME_MAX,
} from './constants.js';
import type {
  AppMessage,
  AppMessageOf,
  LedMode,
  LullabyLoop,
  MessageEntry,
  PairingEntry,
  StatusMessage,
} from './types.js';

const U8 = 0xff;
const U32 = 0xffffffff;

function fail(code: MessageErrorCode, message: string): never {
  throw new MessageError(code, message);
}

/** Names a bad value without calling its toString (which may throw or lie). */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v;
}

// ---- Field checks, shared by the encoder (unknown JS input) and the decoder (read numbers). ----

function int(v: unknown, min: number, max: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('OUT_OF_RANGE', `${field} must be an integer in ${min}..${max}, got ${show(v)}`);
  }
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail('INVALID_FIELD', `${field} must be a boolean, got ${show(v)}`);
  return v;
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail('INVALID_FIELD', `${field} must be an object, got ${show(v)}`);
  }
  return v as Record<string, unknown>;
}

function list(v: unknown, max: number, field: string): unknown[] {
  if (!Array.isArray(v)) fail('INVALID_FIELD', `${field} must be an array, got ${show(v)}`);
  if (v.length > max) fail('TOO_MANY_ENTRIES', `${field} has ${v.length} entries, at most ${max} allowed`);
  return v;
}

function phoneId(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== PHONE_ID_BYTES) {
    fail('INVALID_FIELD', `${field} must be a Uint8Array of ${PHONE_ID_BYTES} bytes`);
  }
  return v;
}

/**
 * C0 controls (U+0000–U+001F), DEL (U+007F) and U+FEFF (a byte-order mark, which WHATWG-style
 * UTF-8 decoders drop silently at the start of a string) are refused in every string field.
 */
function hasForbiddenChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f || c === 0xfeff) return true;
  }
  return false;
}
/** A UTF-16 surrogate that is not part of a pair cannot be encoded as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A string field's rules, checked on encode (JS string) and decode (the decoded string). */
function checkString(s: string, maxBytes: number, byteLength: number, field: string): void {
  if (byteLength > maxBytes) {
    fail('STRING_TOO_LONG', `${field} is ${byteLength} UTF-8 bytes, at most ${maxBytes} allowed`);
  }
  if (hasForbiddenChar(s)) {
    fail('BAD_STRING', `${field} contains a control character or a byte-order mark`);
  }
}

function encodeString(w: Writer, v: unknown, maxBytes: number, field: string): void {
  if (typeof v !== 'string') fail('INVALID_FIELD', `${field} must be a string, got ${show(v)}`);
  if (LONE_SURROGATE.test(v)) fail('BAD_STRING', `${field} contains an unpaired UTF-16 surrogate`);
  const bytes = utf8.encode(v);
  checkString(v, maxBytes, bytes.length, field);
  w.bytes8(bytes);
}

function decodeString(r: Reader, maxBytes: number, field: string): string {
  const length = r.u8();
  if (length > maxBytes)
    fail('STRING_TOO_LONG', `${field} is ${length} UTF-8 bytes, at most ${maxBytes} allowed`);
  const s = utf8.decode(r.bytes(length), MessageError);
  // The shared decoder drops a leading byte-order mark; the re-encoded length then differs.
  if (utf8.encode(s).length !== length) fail('BAD_STRING', `${field} starts with a byte-order mark`);
  checkString(s, maxBytes, length, field);
  return s;
}

/** A two-way mapping between an enumeration's names and its wire values. */
function enumeration<T extends string>(what: string, table: Readonly<Record<T, number>>) {
  const byCode = new Map<number, T>();
  for (const name of Object.keys(table) as T[]) byCode.set(table[name], name);
  return {
    encode(v: unknown, field: string): number {
      if (typeof v !== 'string' || !Object.hasOwn(table, v)) {
        fail('BAD_ENUM', `${field} is not a valid ${what}`);
      }
      return table[v as T];
    },
    decode(code: number, field: string): T {
      const name = byCode.get(code);
      if (name === undefined) fail('BAD_ENUM', `${field} value ${code} is not a valid ${what}`);
      return name;
    },
  };
}

const kindEnum = enumeration('message kind', MESSAGE_KIND);
const filterEnum = enumeration('message filter', MESSAGE_FILTER);
const ledEnum = enumeration('LED mode', LED_MODE);
const roleEnum = enumeration('pairing role', PAIRING_ROLE);
const lullabyEnum = enumeration('lullaby mode', LULLABY_MODE);
const pawEnum = enumeration('paw', PAW);
const actionEnum = enumeration('paw action', PAW_ACTION);
const stateEnum = enumeration('playback state', PLAYBACK_STATE);
const sourceEnum = enumeration('playback source', PLAYBACK_SOURCE);
const errorEnum = enumeration('application error code', APP_ERROR_CODE);

function readBool(r: Reader, field: string): boolean {
  const v = r.u8();
  if (v !== BOOLEAN.false && v !== BOOLEAN.true) fail('BAD_ENUM', `${field} value ${v} is not 0 or 1`);
  return v === BOOLEAN.true;
}

/** Reads a flags byte, refusing any bit outside `known`. */
function readFlags(r: Reader, known: number, field: string): number {
  const v = r.u8();
  if ((v & ~known) !== 0) fail('RESERVED_BITS', `${field} 0x${v.toString(16)} has reserved bits set`);
  return v;
}

const messageId = (v: unknown, field = 'messageId'): number => int(v, MESSAGE_ID_MIN, MESSAGE_ID_MAX, field);
const durationMs = (v: unknown, field = 'durationMs'): number => int(v, 0, MAX_MESSAGE_DURATION_MS, field);

// ---- Composite fields ----

/** LED: mode u8, periodMs u16, onMs u16 (both 0 unless blinking). */
function encodeLed(w: Writer, v: unknown, field: string): void {
  const led = record(v, field);
  const mode = ledEnum.encode(led['mode'], `${field}.mode`);
  if (mode === LED_MODE.blink) {
    const periodMs = int(led['periodMs'], LED_PERIOD_MIN_MS, LED_PERIOD_MAX_MS, `${field}.periodMs`);
    const onMs = int(led['onMs'], LED_PHASE_MIN_MS, periodMs - LED_PHASE_MIN_MS, `${field}.onMs`);
    w.u8(mode).u16(periodMs).u16(onMs);
  } else {
    w.u8(mode).u16(0).u16(0);
  }
}

function decodeLed(r: Reader, field: string): LedMode {
  const mode = ledEnum.decode(r.u8(), `${field}.mode`);
  const periodMs = r.u16();
  const onMs = r.u16();
  if (mode !== 'blink') {
    if (periodMs !== 0 || onMs !== 0) {
      fail('INCONSISTENT_FIELDS', `${field}: periodMs and onMs must be 0 for mode ${mode}`);
    }
    return { mode };
  }
  int(periodMs, LED_PERIOD_MIN_MS, LED_PERIOD_MAX_MS, `${field}.periodMs`);
  int(onMs, LED_PHASE_MIN_MS, periodMs - LED_PHASE_MIN_MS, `${field}.onMs`);
  return { mode, periodMs, onMs };
}

/** Lullaby loop: mode u8, value u16 (times 1–100 or seconds 1–3600). */
function encodeLoop(w: Writer, v: unknown): void {
  const loop = record(v, 'loop');
  const mode = lullabyEnum.encode(loop['mode'], 'loop.mode');
  const value =
    mode === LULLABY_MODE.times
      ? int(loop['times'], LULLABY_TIMES_MIN, LULLABY_TIMES_MAX, 'loop.times')
      : int(loop['seconds'], LULLABY_SECONDS_MIN, LULLABY_SECONDS_MAX, 'loop.seconds');
  w.u8(mode).u16(value);
}

function decodeLoop(r: Reader): LullabyLoop {
  const mode = lullabyEnum.decode(r.u8(), 'loop.mode');
  const value = r.u16();
  return mode === 'times'
    ? { mode, times: int(value, LULLABY_TIMES_MIN, LULLABY_TIMES_MAX, 'loop.times') }
    : { mode, seconds: int(value, LULLABY_SECONDS_MIN, LULLABY_SECONDS_MAX, 'loop.seconds') };
}

/** Status consistency rules, checked on both sides. */
function checkStatusCounts(
  free: number,
  total: number,
  incoming: number,
  unplayed: number,
  recordings: number,
): void {
  if (free > total)
    fail('INCONSISTENT_FIELDS', `storageFreeBytes ${free} exceeds storageTotalBytes ${total}`);
  if (unplayed > incoming)
    fail('INCONSISTENT_FIELDS', `unplayedCount ${unplayed} exceeds incomingCount ${incoming}`);
  if (incoming + recordings > MAX_STORED_MESSAGES) {
    fail('INCONSISTENT_FIELDS', `${incoming + recordings} stored messages exceed ${MAX_STORED_MESSAGES}`);
  }
}

function checkUnique(keys: string[], field: string): void {
  if (new Set(keys).size !== keys.length) fail('DUPLICATE_ENTRY', `${field} lists the same id twice`);
}

function checkOneThisPhone(flags: boolean[]): void {
  if (flags.filter((f) => f).length > 1) {
    fail('INCONSISTENT_FIELDS', 'more than one pairing entry is marked thisPhone');
  }
}

const hexKey = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// ---- Bodies, one codec per message type ----

interface BodyCodec<M extends AppMessage> {
  /** Validates and writes the body (the header is written by the caller). */
  encode(m: Record<string, unknown>, w: Writer): void;
  /** Reads and validates the body into a fresh object. */
  decode(r: Reader, requestId: number): M;
}

const empty = <T extends AppMessage['type']>(type: T): BodyCodec<AppMessageOf<T>> => ({
  encode() {},
  decode: (_r, requestId) => ({ type, requestId }) as AppMessageOf<T>,
});

const BODIES: { [K in AppMessageType]: BodyCodec<AppMessageOf<K>> } = {
  StatusRequest: empty('StatusRequest'),
  SetVolume: {
    encode: (m, w) => {
      w.u8(int(m['volume'], 0, VOLUME_MAX, 'volume'));
    },
    decode: (r, requestId) => ({ type: 'SetVolume', requestId, volume: r.u8() }),
  },
  Identify: {
    encode: (m, w) => {
      w.u8(int(m['seconds'], IDENTIFY_SECONDS_MIN, IDENTIFY_SECONDS_MAX, 'seconds'));
    },
    decode: (r, requestId) => ({
      type: 'Identify',
      requestId,
      seconds: int(r.u8(), IDENTIFY_SECONDS_MIN, IDENTIFY_SECONDS_MAX, 'seconds'),
    }),
  },
  SetLed: {
    encode: (m, w) => encodeLed(w, m['led'], 'led'),
    decode: (r, requestId) => ({ type: 'SetLed', requestId, led: decodeLed(r, 'led') }),
  },
  ListMessages: {
    encode: (m, w) => {
      w.u8(filterEnum.encode(m['filter'], 'filter'));
    },
    decode: (r, requestId) => ({
      type: 'ListMessages',
      requestId,
      filter: filterEnum.decode(r.u8(), 'filter'),
    }),
  },
  DeleteMessage: {
    encode: (m, w) => {
      w.u32(messageId(m['messageId']));
    },
    decode: (r, requestId) => ({ type: 'DeleteMessage', requestId, messageId: messageId(r.u32()) }),
  },
  Lullaby: {
    encode: (m, w) => {
      w.u32(messageId(m['messageId']));
      encodeLoop(w, m['loop']);
    },
    decode: (r, requestId) => ({
      type: 'Lullaby',
      requestId,
      messageId: messageId(r.u32()),
      loop: decodeLoop(r),
    }),
  },
  LullabyStop: empty('LullabyStop'),
  SetGameMode: {
    encode: (m, w) => {
      w.u8(bool(m['enabled'], 'enabled') ? BOOLEAN.true : BOOLEAN.false);
    },
    decode: (r, requestId) => ({ type: 'SetGameMode', requestId, enabled: readBool(r, 'enabled') }),
  },
  ListPairings: empty('ListPairings'),
  OpenPairingWindow: {
    encode: (m, w) => {
      w.u8(roleEnum.encode(m['role'], 'role'));
      w.u8(int(m['seconds'], PAIRING_WINDOW_SECONDS_MIN, PAIRING_WINDOW_SECONDS_MAX, 'seconds'));
    },
    decode: (r, requestId) => ({
      type: 'OpenPairingWindow',
      requestId,
      role: roleEnum.decode(r.u8(), 'role'),
      seconds: int(r.u8(), PAIRING_WINDOW_SECONDS_MIN, PAIRING_WINDOW_SECONDS_MAX, 'seconds'),
    }),
  },
  RemovePairing: {
    encode: (m, w) => {
      w.bytes(phoneId(m['phoneId'], 'phoneId'));
    },
    decode: (r, requestId) => ({ type: 'RemovePairing', requestId, phoneId: r.bytes(PHONE_ID_BYTES) }),
  },
  FactoryResetRequest: empty('FactoryResetRequest'),

  Ok: empty('Ok'),
  Error: {
    encode: (m, w) => {
      w.u16(errorEnum.encode(m['code'], 'code'));
      const detail = m['detail'];
      if (detail === undefined) w.u8(0);
      else encodeString(w, detail, MAX_ERROR_DETAIL_BYTES, 'detail');
    },
    decode: (r, requestId) => {
      const code = errorEnum.decode(r.u16(), 'code');
      const detail = decodeString(r, MAX_ERROR_DETAIL_BYTES, 'detail');
      return detail === '' ? { type: 'Error', requestId, code } : { type: 'Error', requestId, code, detail };
    },
  },
  Status: {
    encode: (m, w) => {
      const battery = int(m['batteryPercent'], 0, BATTERY_PERCENT_MAX, 'batteryPercent');
      let flags = 0;
      if (bool(m['charging'], 'charging')) flags |= STATUS_FLAG.charging;
      if (bool(m['gameMode'], 'gameMode')) flags |= STATUS_FLAG.gameMode;
      if (bool(m['pairingWindowOpen'], 'pairingWindowOpen')) flags |= STATUS_FLAG.pairingWindowOpen;
      if (bool(m['lullabyPlaying'], 'lullabyPlaying')) flags |= STATUS_FLAG.lullabyPlaying;
      const volume = int(m['volume'], 0, VOLUME_MAX, 'volume');
      const led = new Writer(MessageError);
      encodeLed(led, m['led'], 'led');
      const free = int(m['storageFreeBytes'], 0, U32, 'storageFreeBytes');
      const total = int(m['storageTotalBytes'], 0, U32, 'storageTotalBytes');
      const fw = record(m['firmware'], 'firmware');
      const major = int(fw['major'], 0, U8, 'firmware.major');
      const minor = int(fw['minor'], 0, U8, 'firmware.minor');
      const patch = int(fw['patch'], 0, U8, 'firmware.patch');
      const incoming = int(m['incomingCount'], 0, MAX_STORED_MESSAGES, 'incomingCount');
      const unplayed = int(m['unplayedCount'], 0, MAX_STORED_MESSAGES, 'unplayedCount');
      const recordings = int(m['recordingCount'], 0, MAX_STORED_MESSAGES, 'recordingCount');
      const clock = int(m['clockSeconds'], 0, U32, 'clockSeconds');
      checkStatusCounts(free, total, incoming, unplayed, recordings);
      w.u8(battery).u8(flags).u8(volume).bytes(led.finish()).u32(free).u32(total);
      w.u8(major).u8(minor).u8(patch).u8(incoming).u8(unplayed).u8(recordings).u32(clock);
    },
    decode: (r, requestId): StatusMessage => {
      const batteryPercent = int(r.u8(), 0, BATTERY_PERCENT_MAX, 'batteryPercent');
      const flags = readFlags(
        r,
        STATUS_FLAG.charging |
          STATUS_FLAG.gameMode |
          STATUS_FLAG.pairingWindowOpen |
          STATUS_FLAG.lullabyPlaying,
        'flags',
      );
      const volume = r.u8();
      const led = decodeLed(r, 'led');
      const storageFreeBytes = r.u32();
      const storageTotalBytes = r.u32();
      const firmware = { major: r.u8(), minor: r.u8(), patch: r.u8() };
      const incomingCount = int(r.u8(), 0, MAX_STORED_MESSAGES, 'incomingCount');
      const unplayedCount = int(r.u8(), 0, MAX_STORED_MESSAGES, 'unplayedCount');
      const recordingCount = int(r.u8(), 0, MAX_STORED_MESSAGES, 'recordingCount');
      const clockSeconds = r.u32();
      checkStatusCounts(storageFreeBytes, storageTotalBytes, incomingCount, unplayedCount, recordingCount);
      return {
        type: 'Status',
        requestId,
        batteryPercent,
        charging: (flags & STATUS_FLAG.charging) !== 0,
        volume,
        led,
        storageFreeBytes,
        storageTotalBytes,
        firmware,
        incomingCount,
        unplayedCount,
        recordingCount,
        gameMode: (flags & STATUS_FLAG.gameMode) !== 0,
        pairingWindowOpen: (flags & STATUS_FLAG.pairingWindowOpen) !== 0,
        lullabyPlaying: (flags & STATUS_FLAG.lullabyPlaying) !== 0,
        clockSeconds,
      };
    },
  },
  MessageList: {
    encode: (m, w) => {
      const entries = list(m['entries'], MAX_STORED_MESSAGES, 'entries');
      const body = new Writer(MessageError).u8(entries.length);
      const ids: string[] = [];
      entries.forEach((v, i) => {
        const e = record(v, `entries[${i}]`);
        const id = messageId(e['id'], `entries[${i}].id`);
        ids.push(String(id));
        body.u32(id).u8(kindEnum.encode(e['kind'], `entries[${i}].kind`));
        body.u8(bool(e['played'], `entries[${i}].played`) ? ENTRY_FLAG.played : 0);
        body.u32(durationMs(e['durationMs'], `entries[${i}].durationMs`));
        body.u32(int(e['sizeBytes'], 0, U32, `entries[${i}].sizeBytes`));
        body.u32(int(e['createdAtSeconds'], 0, U32, `entries[${i}].createdAtSeconds`));
      });
      checkUnique(ids, 'entries');
      w.bytes(body.finish());
    },
    decode: (r, requestId) => {
      const count = r.u8();
      if (count > MAX_STORED_MESSAGES) {
        fail('TOO_MANY_ENTRIES', `MessageList has ${count} entries, at most ${MAX_STORED_MESSAGES} allowed`);
      }
      const entries: MessageEntry[] = [];
      for (let i = 0; i < count; i++) {
        const id = messageId(r.u32(), `entries[${i}].id`);
        const kind = kindEnum.decode(r.u8(), `entries[${i}].kind`);
        const flags = readFlags(r, ENTRY_FLAG.played, `entries[${i}].flags`);
        const duration = durationMs(r.u32(), `entries[${i}].durationMs`);
        const sizeBytes = r.u32();
        const createdAtSeconds = r.u32();
        entries.push({
          id,
          kind,
          played: (flags & ENTRY_FLAG.played) !== 0,
          durationMs: duration,
          sizeBytes,
          createdAtSeconds,
        });
      }
      checkUnique(
        entries.map((e) => String(e.id)),
        'entries',
      );
      return { type: 'MessageList', requestId, entries };
    },
  },
  Pairings: {
    encode: (m, w) => {
      const entries = list(m['entries'], MAX_PAIRINGS, 'entries');
      const body = new Writer(MessageError).u8(entries.length);
      const ids: string[] = [];
      const mine: boolean[] = [];
      entries.forEach((v, i) => {
        const e = record(v, `entries[${i}]`);
        const id = phoneId(e['phoneId'], `entries[${i}].phoneId`);
        ids.push(hexKey(id));
        const thisPhone = bool(e['thisPhone'], `entries[${i}].thisPhone`);
        mine.push(thisPhone);
        body.bytes(id).u8(roleEnum.encode(e['role'], `entries[${i}].role`));
        body.u8(thisPhone ? PAIRING_FLAG.thisPhone : 0);
        encodeString(body, e['name'], MAX_PHONE_NAME_BYTES, `entries[${i}].name`);
      });
      checkUnique(ids, 'entries');
      checkOneThisPhone(mine);
      w.bytes(body.finish());
    },
    decode: (r, requestId) => {
      const count = r.u8();
      if (count > MAX_PAIRINGS) {
        fail('TOO_MANY_ENTRIES', `Pairings has ${count} entries, at most ${MAX_PAIRINGS} allowed`);
      }
      const entries: PairingEntry[] = [];
      for (let i = 0; i < count; i++) {
        const id = r.bytes(PHONE_ID_BYTES);
        const role = roleEnum.decode(r.u8(), `entries[${i}].role`);
        const flags = readFlags(r, PAIRING_FLAG.thisPhone, `entries[${i}].flags`);
        const name = decodeString(r, MAX_PHONE_NAME_BYTES, `entries[${i}].name`);
        entries.push({ phoneId: id, role, name, thisPhone: (flags & PAIRING_FLAG.thisPhone) !== 0 });
      }
      checkUnique(
        entries.map((e) => hexKey(e.phoneId)),
        'entries',
      );
      checkOneThisPhone(entries.map((e) => e.thisPhone));
      return { type: 'Pairings', requestId, entries };
    },
  },

  PawEvent: {
    encode: (m, w) => {
      w.u8(pawEnum.encode(m['paw'], 'paw')).u8(actionEnum.encode(m['action'], 'action'));
      w.u32(int(m['durationMs'], 0, U32, 'durationMs')).u32(int(m['atMs'], 0, U32, 'atMs'));
    },
    decode: (r, requestId) => ({
      type: 'PawEvent',
      requestId,
      paw: pawEnum.decode(r.u8(), 'paw'),
      action: actionEnum.decode(r.u8(), 'action'),
      durationMs: r.u32(),
      atMs: r.u32(),
    }),
  },
  RecordingStoredEvent: {
    encode: (m, w) => {
      w.u32(messageId(m['messageId'])).u32(durationMs(m['durationMs']));
      w.u32(int(m['sizeBytes'], 0, U32, 'sizeBytes'));
    },
    decode: (r, requestId) => ({
      type: 'RecordingStoredEvent',
      requestId,
      messageId: messageId(r.u32()),
      durationMs: durationMs(r.u32()),
      sizeBytes: r.u32(),
    }),
  },
  PlaybackEvent: {
    encode: (m, w) => {
      w.u32(messageId(m['messageId']));
      w.u8(stateEnum.encode(m['state'], 'state')).u8(sourceEnum.encode(m['source'], 'source'));
    },
    decode: (r, requestId) => ({
      type: 'PlaybackEvent',
      requestId,
      messageId: messageId(r.u32()),
      state: stateEnum.decode(r.u8(), 'state'),
      source: sourceEnum.decode(r.u8(), 'source'),
    }),
  },
};

const TYPE_BY_CODE = new Map<number, AppMessageType>(
  (Object.keys(MESSAGE_TABLE) as AppMessageType[]).map((t) => [MESSAGE_TABLE[t].code, t]),
);

/** True when a record plaintext's first byte belongs to the transfer layer (0x40–0x4F): route it there. */
export function isTransferMessageType(typeByte: number): boolean {
  return typeByte >= TYPE_RANGES.transfer.first && typeByte <= TYPE_RANGES.transfer.last;
}

/** The type name of an application type byte, or undefined for a transfer, reserved or unknown byte. */
export function appMessageTypeOf(typeByte: number): AppMessageType | undefined {
  return TYPE_BY_CODE.get(typeByte);
}

/** Checks the requestId rule of a message type; returns it. */
function requestIdFor(type: AppMessageType, v: unknown): number {
  const [min, max] =
    MESSAGE_TABLE[type].class === 'event'
      ? [EVENT_REQUEST_ID, EVENT_REQUEST_ID]
      : type === 'Error'
        ? [ERROR_REQUEST_ID_MIN, REQUEST_ID_MAX]
        : [REQUEST_ID_MIN, REQUEST_ID_MAX];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('BAD_REQUEST_ID', `${type} needs a requestId in ${min}..${max}, got ${show(v)}`);
  }
  return v;
}

function checkDirection(direction: unknown): Direction | undefined {
  if (direction !== undefined && direction !== 'toToy' && direction !== 'toPhone') {
    fail('INVALID_FIELD', `direction must be 'toToy' or 'toPhone', got ${show(direction)}`);
  }
  return direction;
}

/**
 * Encodes one application message. Every field is validated first (MessageError with a stable code:
 * OUT_OF_RANGE, BAD_ENUM, INVALID_FIELD, STRING_TOO_LONG, BAD_STRING, TOO_MANY_ENTRIES,
 * DUPLICATE_ENTRY, INCONSISTENT_FIELDS, BAD_REQUEST_ID, UNKNOWN_TYPE); nothing else is thrown,
 * whatever the input. Optionally checks that the message may be sent in `direction`.
 */
export function encodeAppMessage(msg: AppMessage, direction?: Direction): Uint8Array {
  const dir = checkDirection(direction);
  const m = record(msg, 'message');
  const type = m['type'];
  if (typeof type !== 'string' || !Object.hasOwn(MESSAGE_TABLE, type)) {
    fail('UNKNOWN_TYPE', `unknown application message type ${typeof type === 'string' ? type : show(type)}`);
  }
  const name = type as AppMessageType;
  const spec = MESSAGE_TABLE[name];
  if (dir !== undefined && spec.direction !== dir) {
    fail('WRONG_DIRECTION', `${name} is sent ${spec.direction}, not ${dir}`);
  }
  const w = new Writer(MessageError).u8(spec.code).u16(requestIdFor(name, m['requestId']));
  BODIES[name].encode(m, w);
  return w.finish();
}

/**
 * Decodes one application message (a record plaintext) into a fresh object. With `direction`, a
 * message that may not travel that way is refused with WRONG_DIRECTION before its body is read: the
 * toy decodes with 'toToy', the phone with 'toPhone'. A type byte in 0x40–0x4F throws
 * NOT_AN_APP_MESSAGE (route it to the transfer layer; `isTransferMessageType` tells beforehand).
 * Throws only MessageError.
 */
export function decodeAppMessage(bytes: Uint8Array, direction?: Direction): AppMessage {
  const dir = checkDirection(direction);
  if (!(bytes instanceof Uint8Array)) fail('INVALID_FIELD', 'bytes must be a Uint8Array');
  if (bytes.length === 0) fail('TRUNCATED', 'empty application message');
  if (bytes.length > MAX_APP_MESSAGE_BYTES) {
    fail('TOO_LARGE', `application message of ${bytes.length} bytes exceeds ${MAX_APP_MESSAGE_BYTES}`);
  }
  const code = bytes[0]!;
  if (isTransferMessageType(code)) {
    fail('NOT_AN_APP_MESSAGE', `type 0x${code.toString(16)} belongs to the transfer layer`);
  }
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) fail('UNKNOWN_TYPE', `unknown application message type 0x${code.toString(16)}`);
  const spec = MESSAGE_TABLE[type];
  if (dir !== undefined && spec.direction !== dir) {
    fail('WRONG_DIRECTION', `${type} is sent ${spec.direction}, not ${dir}`);
  }
  const r = new Reader(bytes, MessageError, `${type} message`);
  r.u8();
  const requestId = requestIdFor(type, r.u16());
  const msg = BODIES[type].decode(r, requestId);
  r.end();
  return msg;
}
