/**
 * fast-check arbitraries for every application message: each generates only valid messages (every
 * range, enum, bound and consistency rule of PROTOCOL.md "Application messages"), so a round trip
 * must succeed. Typed per message type, so a new type without an arbitrary does not compile.
 */
import fc from 'fast-check';
import {
  APP_ERROR_CODE,
  type AppMessage,
  type AppMessageOf,
  type AppMessageType,
  LED_PERIOD_MAX_MS,
  LED_PERIOD_MIN_MS,
  LED_PHASE_MIN_MS,
  type LedMode,
  MAX_ERROR_DETAIL_BYTES,
  MAX_MESSAGE_DURATION_MS,
  MAX_PAIRINGS,
  MAX_PHONE_NAME_BYTES,
  MAX_STORED_MESSAGES,
  type MessageEntry,
  type PairingEntry,
  PHONE_ID_BYTES,
} from '../../../protocol/messages/index.js';

/** fc.record with ordinary prototypes, so decoded objects compare with toStrictEqual. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const requestId = fc.integer({ min: 1, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const messageId = fc.integer({ min: 1, max: 0xffffffff });
const duration = fc.integer({ min: 0, max: MAX_MESSAGE_DURATION_MS });
const phoneId = fc.uint8Array({ minLength: PHONE_ID_BYTES, maxLength: PHONE_ID_BYTES });

const isAllowedChar = (ch: string): boolean => {
  const c = ch.codePointAt(0)!;
  return c > 0x1f && c !== 0x7f && c !== 0xfeff;
};

/** A valid string field: no control characters or BOM, at most `maxBytes` UTF-8 bytes (multi-byte included). */
export function fieldString(maxBytes: number, minBytes = 0): fc.Arbitrary<string> {
  return fc
    .string({
      unit: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 1 }), fc.constantFrom('a', 'é', '€', '🧸')),
    })
    .map((s) => {
      let out = '';
      let bytes = 0;
      for (const ch of s) {
        const n = new TextEncoder().encode(ch).length;
        if (!isAllowedChar(ch) || bytes + n > maxBytes) continue;
        out += ch;
        bytes += n;
      }
      return out;
    })
    .filter((s) => new TextEncoder().encode(s).length >= minBytes);
}

export const ledArb: fc.Arbitrary<LedMode> = fc.oneof(
  fc.constant<LedMode>({ mode: 'off' }),
  fc.constant<LedMode>({ mode: 'on' }),
  fc
    .integer({ min: LED_PERIOD_MIN_MS, max: LED_PERIOD_MAX_MS })
    .chain((periodMs) =>
      fc
        .integer({ min: LED_PHASE_MIN_MS, max: periodMs - LED_PHASE_MIN_MS })
        .map((onMs): LedMode => ({ mode: 'blink', periodMs, onMs })),
    ),
);

const entryArb: fc.Arbitrary<MessageEntry> = rec({
  id: messageId,
  kind: fc.constantFrom('incoming' as const, 'recording' as const),
  played: fc.boolean(),
  durationMs: duration,
  sizeBytes: u32,
  createdAtSeconds: u32,
});

const pairingEntriesArb: fc.Arbitrary<PairingEntry[]> = fc
  .uniqueArray(
    rec({
      phoneId,
      role: fc.constantFrom('admin' as const, 'member' as const),
      name: fieldString(MAX_PHONE_NAME_BYTES),
      thisPhone: fc.constant(false),
    }),
    { selector: (e) => Buffer.from(e.phoneId).toString('hex'), maxLength: MAX_PAIRINGS },
  )
  .chain((entries) =>
    fc
      .option(fc.nat({ max: Math.max(0, entries.length - 1) }), { nil: undefined })
      .map((mine) => entries.map((e, i) => ({ ...e, thisPhone: mine === i && entries.length > 0 }))),
  );

const statusArb: fc.Arbitrary<AppMessageOf<'Status'>> = fc
  .record({
    requestId,
    total: u32,
    incoming: fc.integer({ min: 0, max: MAX_STORED_MESSAGES }),
  })
  .chain(({ requestId, total, incoming }) =>
    rec({
      type: fc.constant('Status' as const),
      requestId: fc.constant(requestId),
      batteryPercent: fc.integer({ min: 0, max: 100 }),
      charging: fc.boolean(),
      volume: u8,
      led: ledArb,
      storageFreeBytes: fc.integer({ min: 0, max: total }),
      storageTotalBytes: fc.constant(total),
      firmware: rec({ major: u8, minor: u8, patch: u8 }),
      incomingCount: fc.constant(incoming),
      unplayedCount: fc.integer({ min: 0, max: incoming }),
      recordingCount: fc.integer({ min: 0, max: MAX_STORED_MESSAGES - incoming }),
      gameMode: fc.boolean(),
      pairingWindowOpen: fc.boolean(),
      lullabyPlaying: fc.boolean(),
      clockSeconds: u32,
    }),
  );

const errorArb: fc.Arbitrary<AppMessageOf<'Error'>> = fc
  .record({
    requestId: fc.integer({ min: 0, max: 0xffff }),
    code: fc.constantFrom(...(Object.keys(APP_ERROR_CODE) as (keyof typeof APP_ERROR_CODE)[])),
    detail: fc.option(fieldString(MAX_ERROR_DETAIL_BYTES, 1), { nil: undefined }),
  })
  .map(({ requestId, code, detail }) =>
    detail === undefined ? { type: 'Error', requestId, code } : { type: 'Error', requestId, code, detail },
  );

const plain = <T extends AppMessageType>(type: T, id = requestId) =>
  id.map((requestId) => ({ type, requestId }) as AppMessageOf<T>);

/** One arbitrary per message type. */
export const messageArbs: { [K in AppMessageType]: fc.Arbitrary<AppMessageOf<K>> } = {
  StatusRequest: plain('StatusRequest'),
  SetVolume: rec({ type: fc.constant('SetVolume'), requestId, volume: u8 }),
  Identify: rec({ type: fc.constant('Identify'), requestId, seconds: fc.integer({ min: 1, max: 60 }) }),
  SetLed: rec({ type: fc.constant('SetLed'), requestId, led: ledArb }),
  ListMessages: rec({
    type: fc.constant('ListMessages'),
    requestId,
    filter: fc.constantFrom('all' as const, 'incoming' as const, 'recording' as const),
  }),
  DeleteMessage: rec({ type: fc.constant('DeleteMessage'), requestId, messageId }),
  Lullaby: rec({
    type: fc.constant('Lullaby'),
    requestId,
    messageId,
    loop: fc.oneof(
      fc.integer({ min: 1, max: 100 }).map((times) => ({ mode: 'times' as const, times })),
      fc.integer({ min: 1, max: 3600 }).map((seconds) => ({ mode: 'seconds' as const, seconds })),
    ),
  }),
  LullabyStop: plain('LullabyStop'),
  SetGameMode: rec({ type: fc.constant('SetGameMode'), requestId, enabled: fc.boolean() }),
  ListPairings: plain('ListPairings'),
  OpenPairingWindow: rec({
    type: fc.constant('OpenPairingWindow'),
    requestId,
    role: fc.constantFrom('admin' as const, 'member' as const),
    seconds: fc.integer({ min: 1, max: 180 }),
  }),
  RemovePairing: rec({ type: fc.constant('RemovePairing'), requestId, phoneId }),
  FactoryResetRequest: plain('FactoryResetRequest'),
  Ok: plain('Ok'),
  Error: errorArb,
  Status: statusArb,
  MessageList: rec({
    type: fc.constant('MessageList'),
    requestId,
    entries: fc.uniqueArray(entryArb, { selector: (e) => e.id, maxLength: MAX_STORED_MESSAGES }),
  }),
  Pairings: rec({ type: fc.constant('Pairings'), requestId, entries: pairingEntriesArb }),
  PawEvent: rec({
    type: fc.constant('PawEvent'),
    requestId: fc.constant(0),
    paw: fc.constantFrom('listen' as const, 'record' as const),
    action: fc.constantFrom('press' as const, 'hold' as const),
    durationMs: u32,
    atMs: u32,
  }),
  RecordingStoredEvent: rec({
    type: fc.constant('RecordingStoredEvent'),
    requestId: fc.constant(0),
    messageId,
    durationMs: duration,
    sizeBytes: u32,
  }),
  PlaybackEvent: rec({
    type: fc.constant('PlaybackEvent'),
    requestId: fc.constant(0),
    messageId,
    state: fc.constantFrom('started' as const, 'finished' as const, 'stopped' as const),
    source: fc.constantFrom('paw' as const, 'lullaby' as const),
  }),
};

/** Any valid application message. */
export const anyMessage: fc.Arbitrary<AppMessage> = fc.oneof(
  ...(Object.values(messageArbs) as fc.Arbitrary<AppMessage>[]),
);
