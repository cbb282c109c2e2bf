/**
 * What the simulated toy tells the person (or program) watching it: one plain object per event,
 * JSON-ready (`pawlink-sim --json` prints each on a line). Times are in ms of the toy's clock;
 * byte strings are hex. These are the simulator's observations, not protocol messages: the phone
 * learns what it may through PawEvent, PlaybackEvent and RecordingStoredEvent inside a session.
 */
import type { LedLayer, LedPattern } from './hardware/led.js';

export type PawName = 'listen' | 'record';

/** A phone as the events show it. */
export interface PhoneSummary {
  phoneId: string;
  name: string;
  role: 'admin' | 'member';
}

export interface ToyStatusSnapshot {
  led: { layer: LedLayer; pattern: LedPattern; description: string };
  batteryPercent: number;
  volume: number;
  baseLed: LedPattern;
  storage: {
    totalBytes: number;
    freeBytes: number;
    incoming: number;
    unplayed: number;
    recordings: number;
    partialUploads: number;
  };
  pairings: number;
  pairingLocked: boolean;
  pairingWindowOpen: boolean;
  sessions: PhoneSummary[];
  gameMode: boolean;
  recording: boolean;
  playing: { messageId: number; source: 'paw' | 'lullaby' } | null;
  factoryResetPending: boolean;
  clockSeconds: number;
  firmware: string;
}

export type ToySimEvent =
  | { event: 'led'; layer: LedLayer; pattern: LedPattern; description: string }
  | { event: 'pairing-window'; state: 'open'; by: 'paw' | 'admin'; closesInMs: number }
  | { event: 'pairing-window'; state: 'closed'; reason: string }
  | { event: 'pairing-window-refused'; reason: 'TABLE_NOT_EMPTY' | 'LOCKED' | 'HOLD_TOO_SHORT' }
  | { event: 'paired'; phone: PhoneSummary }
  | { event: 'pairing-failed'; code: string }
  | { event: 'pairings-wiped' }
  | { event: 'connected'; connectionId: number }
  | { event: 'disconnected'; connectionId: number; reason: string }
  | { event: 'session-opened'; connectionId: number; phone: PhoneSummary }
  | { event: 'session-closed'; connectionId: number; reason: string }
  | { event: 'message-stored'; messageId: number; bytes: number; durationMs: number }
  | { event: 'upload-discarded'; transferId: number; status: number }
  | { event: 'message-deleted'; messageId: number }
  | { event: 'download-finished'; messageId: number; status: number }
  | { event: 'playback-started'; messageId: number; source: 'paw' | 'lullaby' }
  | {
      event: 'playback-finished';
      messageId: number;
      source: 'paw' | 'lullaby';
      state: 'finished' | 'stopped';
      /** The WAV written (speaker file:DIR). */
      path?: string;
    }
  | { event: 'nothing-to-play' }
  | { event: 'recording-started' }
  | {
      event: 'recording-stored';
      messageId: number;
      durationMs: number;
      sizeBytes: number;
      /** Older recordings deleted to make room (ids). */
      replaced: number[];
    }
  | { event: 'recording-discarded'; reason: string }
  | { event: 'paw'; paw: PawName; action: 'press' | 'hold'; durationMs: number; reported: boolean }
  | { event: 'game-mode'; enabled: boolean }
  | { event: 'volume'; volume: number }
  | { event: 'identify'; seconds: number }
  | { event: 'lullaby'; messageId: number; loop: string }
  | { event: 'factory-reset-pending'; confirmWithinMs: number }
  | { event: 'factory-reset-cancelled' }
  | { event: 'factory-reset'; by: 'paws' | 'confirmed' }
  | { event: 'status'; status: ToyStatusSnapshot }
  | { event: 'error'; code: string; message: string };

export type ToySimEventName = ToySimEvent['event'];
