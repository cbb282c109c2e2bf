/**
 * Our own vectors for the application messages: one encoded example of every message type (and a
 * few extra variants: every LED mode, both lullaby loops, an Error without detail, multi-byte
 * names), so a C implementation can check its encoder and decoder byte for byte. Phone ids come
 * from `seededRandom`; everything else is spelled out. Written by `npx tsx test/vectors/generate.ts messages`.
 */
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  type AppMessage,
  type AppMessageType,
  encodeAppMessage,
  MESSAGE_TABLE,
} from '../../../protocol/messages/index.js';
import { seededRandom } from '../../../protocol/random.js';

export const SEED = 'pawlink-messages-v1';

export interface MessageVector {
  name: string;
  type: AppMessageType;
  direction: 'toToy' | 'toPhone';
  /** The message as JSON: byte fields (phoneId) as hex strings. */
  message: Record<string, unknown>;
  hex: string;
}

export interface MessageVectorFile {
  description: string;
  source: string;
  seed: string;
  vectors: MessageVector[];
}

/** JSON form of a message: every Uint8Array becomes a hex string. */
export function messageToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(messageToJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, messageToJson(v)]));
  }
  return value;
}

/** Inverse of messageToJson for application messages (the only byte field is `phoneId`). */
export function messageFromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(messageFromJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === 'phoneId' && typeof v === 'string' ? fromHex(v) : messageFromJson(v),
      ]),
    );
  }
  return value;
}

/** The messages of the vector file, in order, each with a vector name. */
export function vectorMessages(): { name: string; message: AppMessage }[] {
  const random = seededRandom(SEED);
  const admin = random(16);
  const member = random(16);
  const grandma = random(16);
  return [
    { name: 'StatusRequest', message: { type: 'StatusRequest', requestId: 1 } },
    { name: 'SetVolume', message: { type: 'SetVolume', requestId: 2, volume: 200 } },
    { name: 'Identify', message: { type: 'Identify', requestId: 3, seconds: 10 } },
    { name: 'SetLed off', message: { type: 'SetLed', requestId: 4, led: { mode: 'off' } } },
    { name: 'SetLed on', message: { type: 'SetLed', requestId: 5, led: { mode: 'on' } } },
    {
      name: 'SetLed blink',
      message: { type: 'SetLed', requestId: 6, led: { mode: 'blink', periodMs: 1000, onMs: 250 } },
    },
    { name: 'ListMessages', message: { type: 'ListMessages', requestId: 7, filter: 'all' } },
    { name: 'DeleteMessage', message: { type: 'DeleteMessage', requestId: 8, messageId: 0x12345678 } },
    {
      name: 'Lullaby times',
      message: { type: 'Lullaby', requestId: 9, messageId: 3, loop: { mode: 'times', times: 5 } },
    },
    {
      name: 'Lullaby seconds',
      message: { type: 'Lullaby', requestId: 10, messageId: 3, loop: { mode: 'seconds', seconds: 900 } },
    },
    { name: 'LullabyStop', message: { type: 'LullabyStop', requestId: 11 } },
    { name: 'SetGameMode', message: { type: 'SetGameMode', requestId: 12, enabled: true } },
    { name: 'ListPairings', message: { type: 'ListPairings', requestId: 13 } },
    {
      name: 'OpenPairingWindow',
      message: { type: 'OpenPairingWindow', requestId: 14, role: 'member', seconds: 180 },
    },
    { name: 'RemovePairing', message: { type: 'RemovePairing', requestId: 15, phoneId: member } },
    { name: 'FactoryResetRequest', message: { type: 'FactoryResetRequest', requestId: 16 } },
    { name: 'Ok', message: { type: 'Ok', requestId: 2 } },
    {
      name: 'Error with detail',
      message: { type: 'Error', requestId: 8, code: 'NOT_FOUND', detail: 'no message 305419896' },
    },
    { name: 'Error without detail', message: { type: 'Error', requestId: 0, code: 'BAD_REQUEST' } },
    {
      name: 'Status',
      message: {
        type: 'Status',
        requestId: 1,
        batteryPercent: 87,
        charging: false,
        volume: 200,
        led: { mode: 'blink', periodMs: 1000, onMs: 250 },
        storageFreeBytes: 3_500_000,
        storageTotalBytes: 4_194_304,
        firmware: { major: 1, minor: 2, patch: 3 },
        incomingCount: 4,
        unplayedCount: 1,
        recordingCount: 1,
        gameMode: false,
        pairingWindowOpen: true,
        lullabyPlaying: false,
        clockSeconds: 86_400,
      },
    },
    {
      name: 'MessageList',
      message: {
        type: 'MessageList',
        requestId: 7,
        entries: [
          {
            id: 3,
            kind: 'incoming',
            played: true,
            durationMs: 12_340,
            sizeBytes: 22_512,
            createdAtSeconds: 80_000,
          },
          {
            id: 4,
            kind: 'recording',
            played: false,
            durationMs: 120_000,
            sizeBytes: 214_016,
            createdAtSeconds: 86_000,
          },
        ],
      },
    },
    { name: 'MessageList empty', message: { type: 'MessageList', requestId: 7, entries: [] } },
    {
      name: 'Pairings',
      message: {
        type: 'Pairings',
        requestId: 13,
        entries: [
          { phoneId: admin, role: 'admin', name: 'Mum', thisPhone: true },
          { phoneId: member, role: 'member', name: 'Papá 📱', thisPhone: false },
          { phoneId: grandma, role: 'member', name: '', thisPhone: false },
        ],
      },
    },
    {
      name: 'PawEvent',
      message: {
        type: 'PawEvent',
        requestId: 0,
        paw: 'record',
        action: 'hold',
        durationMs: 1500,
        atMs: 123_456,
      },
    },
    {
      name: 'RecordingStoredEvent',
      message: {
        type: 'RecordingStoredEvent',
        requestId: 0,
        messageId: 5,
        durationMs: 8_000,
        sizeBytes: 14_336,
      },
    },
    {
      name: 'PlaybackEvent',
      message: { type: 'PlaybackEvent', requestId: 0, messageId: 3, state: 'started', source: 'paw' },
    },
  ];
}

export function generate(): MessageVectorFile {
  return {
    description:
      'PawLink application messages (record plaintexts): type u8, requestId u16 LE, body. One example of every message type; layouts in PROTOCOL.md "Application messages".',
    source: `PawLink's own vectors, generated by test/vectors/generate/messages.ts with seededRandom('${SEED}') for the phone ids`,
    seed: SEED,
    vectors: vectorMessages().map(({ name, message }) => ({
      name,
      type: message.type,
      direction: MESSAGE_TABLE[message.type].direction,
      message: messageToJson(message) as Record<string, unknown>,
      hex: toHex(encodeAppMessage(message)),
    })),
  };
}
