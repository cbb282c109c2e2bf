/**
 * The toy's behaviour: what the paws, the heart LED, the speaker and the microphone do, and the
 * answers to a paired phone's application requests (`ToyApp`). The protocol engine, the pairing
 * table and the radio are the composition's (toy.ts); this module reaches them only through a
 * small host interface, so the rules below read in one place.
 *
 * Paws (physical time: the `clock` part, which --speed scales):
 * - listen press: plays the oldest unplayed incoming message (marked played as it is chosen), the
 *   next press the next one; when all are played, the most recent again. A press while a lullaby
 *   plays only stops it; a press while a message plays stops it and plays the next. Ignored while
 *   the child is recording (the microphone would record the speaker).
 * - record press: starts a recording (microphone on, LED steady on: the recording indicator wins
 *   over every other); a second press, the 120 s limit or the end of a file source stops it. The
 *   recording is encoded (Opus, 16 kbps), stored, and announced (RecordingStoredEvent) to every
 *   session. **Storage full: the oldest recordings are replaced** (decision: the original toy had
 *   one recording slot that each new reply overwrote, and a child's reply must never be lost for
 *   an older one the app may already have collected); if even that leaves no room (no recording
 *   to replace), the recording is refused with the refusal flash. No request can start the
 *   microphone: the only call to `microphone.start` is below, reached only from the record paw.
 * - listen held 3 s (alone): opens the pairing window (only while nobody is paired and pairing is
 *   not locked; otherwise the refusal flash). The hold is a gesture, not a press: nothing plays.
 * - both paws held 10 s: factory reset. After an admin's FactoryResetRequest: both held 2 s within
 *   30 s (PROTOCOL.md §8 "Factory reset confirmation"); meanwhile single presses are ignored.
 *   Paws that were down together never count as presses.
 * - game mode (SetGameMode, per session): every press or hold becomes a PawEvent to the sessions
 *   that enabled it, and plays or records nothing; the gestures above keep working. It ends with
 *   the session.
 *
 * LED layers (PROTOCOL.md §8 "LED priorities"): recording > reset pending > pairing window >
 * identify (and the refusal flash) > new unplayed message > the base mode (SetLed, persisted).
 */

import { MAX_RECORDING_MS, VOICE_SAMPLE_RATE } from '../audio/constants.js';
import { decodeVoice } from '../audio/decode.js';
import { encodeVoice } from '../audio/encode.js';
import type { ConnectionId, SessionPeer, ToyApp, ToyEngine } from '../protocol/engine/toy.js';
import { PawLinkError } from '../protocol/errors.js';
import {
  FACTORY_RESET_CONFIRM_WINDOW_MS,
  FACTORY_RESET_HOLD_MS,
  IDENTIFY_BLINK_ON_MS,
  IDENTIFY_BLINK_PERIOD_MS,
} from '../protocol/messages/constants.js';
import type {
  AppErrorCode,
  AppEvent,
  AppMessage,
  AppRequest,
  LedMode,
  LullabyLoop,
  MessageEntry,
} from '../protocol/messages/types.js';
import { PAW_HOLD_MS } from '../protocol/pairing/constants.js';
import type { PawWindowResult } from '../protocol/pairing/toy.js';
import type { Scheduler, Timer } from '../radio/clock.js';
import {
  BOTH_PAWS_RESET_HOLD_MS,
  FIRMWARE_VERSION,
  LED_NEW_MESSAGE,
  LED_RECORDING,
  LED_REFUSAL,
  LED_RESET_PENDING,
  REFUSAL_SIGNAL_MS,
} from './constants.js';
import { ToyError } from './errors.js';
import type { PawName, ToySimEvent } from './events.js';
import type { Battery } from './hardware/battery.js';
import { describeLed, type HeartLed, type LedPattern } from './hardware/led.js';
import type { MicRecording, RecordingResult, ToyMicrophone } from './hardware/microphone.js';
import { Paw, PRESS_MAX_MS } from './hardware/paw.js';
import type { Playback, PlaybackResult, ToySpeaker } from './hardware/speaker.js';
import type { ToyFlashStorage, ToySettings } from './storage.js';

/** The toy's parts the behaviour drives. */
export interface BehaviourParts {
  storage: ToyFlashStorage;
  speaker: ToySpeaker;
  microphone: ToyMicrophone;
  led: HeartLed;
  battery: Battery;
  /** The toy's physical time: paws, LED timers, playback and recording pace, the reset confirmation. */
  clock: Scheduler;
  /** The toy's clock in seconds (Status.clockSeconds; never goes back across reboots). */
  clockSeconds: () => number;
}

/** What the behaviour asks of the composition. */
export interface BehaviourHost {
  /** Runs `fn` on the current protocol engine (through its driver), then sends what it produced. */
  act<T>(fn: (engine: ToyEngine, now: number) => T): T;
  /** The listen paw was held `holdMs` alone: try to open the pairing window. */
  openWindowByPaw(holdMs: number): PawWindowResult;
  /** Whether the pairing window is open now. */
  pairingWindowOpen(): boolean;
  /** Erase the toy (the paws confirmed it). */
  factoryReset(by: 'paws' | 'confirmed'): void;
  emit(event: ToySimEvent): void;
}

interface ActivePlayback {
  messageId: number;
  source: 'paw' | 'lullaby';
  stopRequested: boolean;
  timeUp: boolean;
  current?: Playback;
  timer?: Timer;
}

interface ActiveRecording {
  recording: MicRecording;
  generation: number;
}

const otherPaw = (name: PawName): PawName => (name === 'listen' ? 'record' : 'listen');

function errorCode(e: unknown): string {
  return e instanceof PawLinkError ? e.code : 'INTERNAL';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

export class ToyBehaviour implements ToyApp {
  readonly paws: Readonly<Record<PawName, Paw>> = { listen: new Paw('listen'), record: new Paw('record') };
  readonly #parts: BehaviourParts;
  readonly #host: BehaviourHost;
  readonly #bootAt: number;
  #settings: ToySettings;
  #gameSessions = new Set<ConnectionId>();
  #playback: ActivePlayback | undefined;
  #recording: ActiveRecording | undefined;
  /** Bumped by a factory reset: work started before it must not touch the new toy. */
  #generation = 0;
  #identifyUntil = 0;
  #refusalUntil = 0;
  #identifyTimer: Timer | undefined;
  #resetPending: { deadline: number; timer: Timer } | undefined;
  #listenHoldTimer: Timer | undefined;
  #bothTimer: Timer | undefined;
  /** The current squeeze: both paws were down together / the listen hold opened (or tried) the window. */
  #cycle = { both: false, windowHold: false };
  #work = new Set<Promise<unknown>>();
  #closed = false;

  constructor(parts: BehaviourParts, host: BehaviourHost) {
    this.#parts = parts;
    this.#host = host;
    this.#bootAt = parts.clock.now();
    this.#settings = parts.storage.loadSettings();
    this.#applySettings();
    this.refreshNewMessageLed();
  }

  get gameMode(): boolean {
    return this.#gameSessions.size > 0;
  }

  get recording(): boolean {
    return this.#recording !== undefined;
  }

  get playing(): { messageId: number; source: 'paw' | 'lullaby' } | null {
    const p = this.#playback;
    return p ? { messageId: p.messageId, source: p.source } : null;
  }

  get factoryResetPending(): boolean {
    return this.#resetPending !== undefined;
  }

  get settings(): Readonly<ToySettings> {
    return this.#settings;
  }

  /** The toy's millisecond counter (PawEvent.atMs), from boot. */
  toyMs(at = this.#parts.clock.now()): number {
    return Math.max(0, Math.floor(at - this.#bootAt)) % 2 ** 32;
  }

  // ---- paws ---------------------------------------------------------------------------------

  /** A paw is squeezed. */
  pawDown(name: PawName): void {
    if (this.#closed) return;
    const now = this.#parts.clock.now();
    const paw = this.paws[name];
    if (paw.isDown) return;
    paw.down(now);
    if (this.paws[otherPaw(name)].isDown) {
      this.#cycle.both = true;
      this.#listenHoldTimer?.cancel();
      this.#listenHoldTimer = undefined;
      this.#armBothTimer();
    } else if (name === 'listen' && !this.#resetPending) {
      this.#listenHoldTimer = this.#parts.clock.setTimer(() => this.#listenHeld(), PAW_HOLD_MS);
    }
  }

  /** A paw is let go. */
  pawUp(name: PawName): void {
    if (this.#closed) return;
    const now = this.#parts.clock.now();
    const paw = this.paws[name];
    if (!paw.isDown) return;
    const heldMs = paw.heldFor(now);
    const downAt = now - heldMs;
    const durationMs = Math.round(heldMs);
    paw.up(now);
    if (name === 'listen') {
      this.#listenHoldTimer?.cancel();
      this.#listenHoldTimer = undefined;
    }
    this.#bothTimer?.cancel();
    this.#bothTimer = undefined;
    const both = this.#cycle.both;
    if (!this.paws.listen.isDown && !this.paws.record.isDown) this.#cycle.both = false;
    const windowHold = name === 'listen' && this.#cycle.windowHold;
    if (name === 'listen') this.#cycle.windowHold = false;
    const action = heldMs < PRESS_MAX_MS ? 'press' : 'hold';
    const report = !both && !this.#resetPending && this.gameMode;
    this.#host.emit({ event: 'paw', paw: name, action, durationMs, reported: report });
    if (both || this.#resetPending) return;
    if (report) {
      const event: AppEvent = {
        type: 'PawEvent',
        requestId: 0,
        paw: name,
        action,
        durationMs: Math.min(durationMs, 0xffffffff),
        atMs: this.toyMs(downAt),
      };
      for (const id of this.#gameSessions) this.#send(event, id);
      return;
    }
    if (windowHold) return;
    if (name === 'listen') this.#onListenPress();
    else this.#onRecordPress();
  }

  #listenHeld(): void {
    this.#listenHoldTimer = undefined;
    const listen = this.paws.listen;
    if (this.#closed || !listen.isDown || this.paws.record.isDown || this.#resetPending) return;
    this.#cycle.windowHold = true;
    // Whole ms: the timer fired PAW_HOLD_MS after the paw went down; float arithmetic may say 2999.9999.
    const result = this.#host.openWindowByPaw(Math.round(listen.heldFor(this.#parts.clock.now())));
    if (!result.opened) {
      this.#host.emit({ event: 'pairing-window-refused', reason: result.reason });
      this.#refusalSignal();
    }
  }

  #armBothTimer(): void {
    this.#bothTimer?.cancel();
    this.#bothTimer = undefined;
    const { listen, record } = this.paws;
    if (!listen.isDown || !record.isDown) return;
    const need = this.#resetPending ? FACTORY_RESET_HOLD_MS : BOTH_PAWS_RESET_HOLD_MS;
    // At least 1 ms: a re-arm for a float's rounding error must not fire at the same instant forever.
    this.#bothTimer = this.#parts.clock.setTimer(
      () => {
        this.#bothTimer = undefined;
        if (!listen.isDown || !record.isDown) return;
        const required = this.#resetPending ? FACTORY_RESET_HOLD_MS : BOTH_PAWS_RESET_HOLD_MS;
        if (this.#bothHeldMs() >= required)
          this.#host.factoryReset(this.#resetPending ? 'confirmed' : 'paws');
        else this.#armBothTimer();
      },
      Math.max(1, need - this.#bothHeldMs()),
    );
  }

  /** How long both paws have been down together, whole ms (clock arithmetic in floats rounds). */
  #bothHeldMs(): number {
    const now = this.#parts.clock.now();
    return Math.round(Math.min(this.paws.listen.heldFor(now), this.paws.record.heldFor(now)));
  }

  #onListenPress(): void {
    if (this.#recording) return;
    if (this.#playback?.source === 'lullaby') {
      this.#stopPlayback();
      return;
    }
    const messages = this.#parts.storage.listMessages('incoming');
    const next = messages.find((m) => !m.played) ?? messages.at(-1);
    if (!next) {
      this.#stopPlayback();
      this.#host.emit({ event: 'nothing-to-play' });
      return;
    }
    this.#stopPlayback();
    try {
      this.#parts.storage.markPlayed(next.id);
    } catch (e) {
      this.#fail(e);
    }
    this.refreshNewMessageLed();
    this.#startPlayback(next.id, 'paw', undefined);
  }

  #onRecordPress(): void {
    if (this.#recording) {
      this.#recording.recording.stop();
      return;
    }
    this.#startRecording();
  }

  // ---- playback -----------------------------------------------------------------------------

  #startPlayback(messageId: number, source: 'paw' | 'lullaby', loop: LullabyLoop | undefined): void {
    const p: ActivePlayback = { messageId, source, stopRequested: false, timeUp: false };
    this.#playback = p;
    this.#track(this.#runPlayback(p, loop));
  }

  async #runPlayback(p: ActivePlayback, loop: LullabyLoop | undefined): Promise<void> {
    const generation = this.#generation;
    let pcm: Int16Array;
    try {
      const container = this.#parts.storage.readMessage(p.messageId);
      if (!container) throw new ToyError('NOT_FOUND', `message ${p.messageId} is not stored`);
      pcm = (await decodeVoice(container)).pcm;
    } catch (e) {
      if (this.#playback === p) this.#playback = undefined;
      this.#fail(e);
      this.#refusalSignal();
      return;
    }
    if (p.stopRequested || this.#closed || generation !== this.#generation) return;
    const source = p.source;
    this.#send({ type: 'PlaybackEvent', requestId: 0, messageId: p.messageId, state: 'started', source });
    this.#host.emit({ event: 'playback-started', messageId: p.messageId, source });
    if (loop?.mode === 'seconds') {
      p.timer = this.#parts.clock.setTimer(() => {
        p.timeUp = true;
        p.current?.stop();
      }, loop.seconds * 1000);
    }
    const times = loop === undefined ? 1 : loop.mode === 'times' ? loop.times : Number.POSITIVE_INFINITY;
    let last: PlaybackResult | undefined;
    for (let i = 0; i < times && !p.stopRequested && !p.timeUp; i++) {
      p.current = this.#parts.speaker.play(pcm, { label: `message-${p.messageId}` });
      last = await p.current.done;
      if (last.error) this.#fail(last.error);
      if (!last.completed) break;
    }
    p.timer?.cancel();
    if (this.#playback === p) this.#playback = undefined;
    const state = p.timeUp || (!p.stopRequested && last?.completed) ? 'finished' : 'stopped';
    if (generation === this.#generation && !this.#closed) {
      this.#send({ type: 'PlaybackEvent', requestId: 0, messageId: p.messageId, state, source });
    }
    this.#host.emit({
      event: 'playback-finished',
      messageId: p.messageId,
      source,
      state,
      ...(last?.path ? { path: last.path } : {}),
    });
  }

  #stopPlayback(): void {
    const p = this.#playback;
    if (!p) return;
    this.#playback = undefined;
    p.stopRequested = true;
    p.timer?.cancel();
    p.current?.stop();
  }

  // ---- recording (the only path to the microphone) ------------------------------------------

  #startRecording(): void {
    if (this.#recording || this.#closed) return;
    this.#stopPlayback();
    const { led, microphone, clock } = this.#parts;
    led.set('recording', LED_RECORDING, clock.now());
    let recording: MicRecording;
    try {
      recording = microphone.start({ maxMs: MAX_RECORDING_MS });
    } catch (e) {
      led.set('recording', undefined, clock.now());
      this.#fail(e);
      return;
    }
    const active: ActiveRecording = { recording, generation: this.#generation };
    this.#recording = active;
    this.#host.emit({ event: 'recording-started' });
    this.#track(recording.done.then((result) => this.#finishRecording(active, result)));
  }

  async #finishRecording(active: ActiveRecording, result: RecordingResult): Promise<void> {
    if (this.#recording === active) this.#recording = undefined;
    this.#parts.led.set('recording', undefined, this.#parts.clock.now());
    const current = () => !this.#closed && active.generation === this.#generation;
    if (!current()) return;
    if (result.error) this.#fail(result.error);
    if (result.pcm.length === 0) {
      this.#host.emit({ event: 'recording-discarded', reason: 'nothing was recorded' });
      return;
    }
    let container: Uint8Array;
    try {
      container = (await encodeVoice(result.pcm, VOICE_SAMPLE_RATE, { onTooLong: 'truncate' })).container;
    } catch (e) {
      this.#fail(e);
      this.#host.emit({ event: 'recording-discarded', reason: errorMessage(e) });
      this.#refusalSignal();
      return;
    }
    if (!current()) return;
    const storage = this.#parts.storage;
    const replaced: number[] = [];
    let stored: MessageEntry | undefined;
    try {
      for (;;) {
        try {
          stored = storage.storeRecording(container);
          break;
        } catch (e) {
          const oldest = storage.listMessages('recording')[0];
          if (!(e instanceof ToyError && e.code === 'STORAGE_FULL') || !oldest) throw e;
          this.#deleteMessage(oldest.id);
          replaced.push(oldest.id);
        }
      }
    } catch (e) {
      this.#fail(e);
      this.#host.emit({ event: 'recording-discarded', reason: errorMessage(e) });
      this.#refusalSignal();
      return;
    }
    const { id: messageId, durationMs, sizeBytes } = stored;
    this.#send({ type: 'RecordingStoredEvent', requestId: 0, messageId, durationMs, sizeBytes });
    this.#host.emit({ event: 'recording-stored', messageId, durationMs, sizeBytes, replaced });
  }

  // ---- LED ----------------------------------------------------------------------------------

  /** Blinks the heart while an incoming message is unplayed. */
  refreshNewMessageLed(): void {
    const { led, storage, clock } = this.#parts;
    led.set('newMessage', storage.stats().unplayedCount > 0 ? LED_NEW_MESSAGE : undefined, clock.now());
  }

  #identify(seconds: number): void {
    this.#identifyUntil = this.#parts.clock.now() + seconds * 1000;
    this.#refreshIdentifyLayer();
  }

  #refusalSignal(): void {
    if (this.#closed) return;
    this.#refusalUntil = this.#parts.clock.now() + REFUSAL_SIGNAL_MS;
    this.#refreshIdentifyLayer();
  }

  /** The identify layer shows the refusal flash, else Identify, else nothing; re-armed for the next change. */
  #refreshIdentifyLayer(): void {
    const { led, clock } = this.#parts;
    const now = clock.now();
    this.#identifyTimer?.cancel();
    this.#identifyTimer = undefined;
    let pattern: LedPattern | undefined;
    let until = 0;
    if (this.#refusalUntil > now) {
      pattern = LED_REFUSAL;
      until = this.#refusalUntil;
    } else if (this.#identifyUntil > now) {
      pattern = { mode: 'blink', periodMs: IDENTIFY_BLINK_PERIOD_MS, onMs: IDENTIFY_BLINK_ON_MS };
      until = this.#identifyUntil;
    }
    led.set('identify', pattern, now);
    if (pattern && !this.#closed) {
      this.#identifyTimer = clock.setTimer(() => this.#refreshIdentifyLayer(), until - now);
    }
  }

  #applySettings(): void {
    const { led, speaker, clock } = this.#parts;
    led.set('base', this.#settings.led, clock.now());
    speaker.volume = this.#settings.volume;
  }

  // ---- factory reset ------------------------------------------------------------------------

  #requestFactoryReset(): 'ok' | 'busy' {
    if (this.#recording) return 'busy';
    if (this.#resetPending) return 'ok'; // the deadline is not extended
    const { clock, led } = this.#parts;
    const now = clock.now();
    const timer = clock.setTimer(() => {
      this.#resetPending = undefined;
      led.set('resetPending', undefined, clock.now());
      this.#host.emit({ event: 'factory-reset-cancelled' });
      this.#armBothTimer();
    }, FACTORY_RESET_CONFIRM_WINDOW_MS);
    this.#resetPending = { deadline: now + FACTORY_RESET_CONFIRM_WINDOW_MS, timer };
    led.set('resetPending', LED_RESET_PENDING, now);
    this.#stopPlayback();
    this.#host.emit({ event: 'factory-reset-pending', confirmWithinMs: FACTORY_RESET_CONFIRM_WINDOW_MS });
    this.#armBothTimer();
    return 'ok';
  }

  /**
   * Before the composition erases the toy: stops playback and recording (the recording is
   * discarded), ends game mode and every timer. Work still running is fenced off by a generation.
   */
  beforeFactoryReset(): void {
    this.#generation++;
    this.#stopPlayback();
    this.#recording?.recording.stop();
    this.#recording = undefined;
    this.#gameSessions.clear();
    this.#resetPending?.timer.cancel();
    this.#resetPending = undefined;
    for (const t of [this.#listenHoldTimer, this.#bothTimer]) t?.cancel();
    this.#listenHoldTimer = undefined;
    this.#bothTimer = undefined;
    this.#cycle = { both: this.paws.listen.isDown || this.paws.record.isDown, windowHold: false };
    this.#identifyUntil = 0;
    this.#refusalUntil = 0;
    const { led, clock } = this.#parts;
    for (const layer of ['recording', 'resetPending', 'pairing', 'newMessage'] as const) {
      led.set(layer, undefined, clock.now());
    }
    this.#refreshIdentifyLayer();
  }

  /** After the erase: settings back to their defaults (the flash has none), LED from the new state. */
  afterFactoryReset(): void {
    this.#settings = this.#parts.storage.loadSettings();
    this.#applySettings();
    this.refreshNewMessageLed();
  }

  // ---- sessions -----------------------------------------------------------------------------

  /** A session (or unauthenticated connection) ended: its game mode ends with it. */
  connectionClosed(connectionId: ConnectionId): void {
    if (this.#gameSessions.delete(connectionId) && !this.gameMode) {
      this.#host.emit({ event: 'game-mode', enabled: false });
    }
  }

  // ---- requests (ToyApp) --------------------------------------------------------------------

  handleRequest(request: AppRequest, peer: SessionPeer, _now: number): AppMessage {
    const requestId = request.requestId;
    const ok: AppMessage = { type: 'Ok', requestId };
    const error = (code: AppErrorCode, detail?: string): AppMessage => ({
      type: 'Error',
      requestId,
      code,
      ...(detail ? { detail } : {}),
    });
    try {
      switch (request.type) {
        case 'StatusRequest':
          return { type: 'Status', requestId, ...this.#statusFields() };
        case 'SetVolume':
          this.#saveSettings({ ...this.#settings, volume: request.volume });
          this.#parts.speaker.volume = request.volume;
          this.#host.emit({ event: 'volume', volume: request.volume });
          return ok;
        case 'Identify':
          this.#identify(request.seconds);
          this.#host.emit({ event: 'identify', seconds: request.seconds });
          return ok;
        case 'SetLed':
          this.#saveSettings({ ...this.#settings, led: request.led });
          this.#parts.led.set('base', request.led, this.#parts.clock.now());
          return ok;
        case 'ListMessages':
          return {
            type: 'MessageList',
            requestId,
            entries: this.#parts.storage.listMessages(request.filter),
          };
        case 'DeleteMessage':
          if (!this.#parts.storage.getMessage(request.messageId)) return error('NOT_FOUND');
          this.#deleteMessage(request.messageId);
          return ok;
        case 'Lullaby': {
          if (this.#recording) return error('BUSY', 'the child is recording');
          if (this.#resetPending) return error('BUSY', 'a factory reset awaits its confirmation');
          if (!this.#parts.storage.getMessage(request.messageId)) return error('NOT_FOUND');
          this.#stopPlayback();
          this.#startPlayback(request.messageId, 'lullaby', request.loop);
          const loop =
            request.loop.mode === 'times' ? `${request.loop.times} times` : `${request.loop.seconds} s`;
          this.#host.emit({ event: 'lullaby', messageId: request.messageId, loop });
          return ok;
        }
        case 'LullabyStop':
          if (this.#playback?.source === 'lullaby') this.#stopPlayback();
          return ok;
        case 'SetGameMode': {
          const before = this.gameMode;
          if (request.enabled) this.#gameSessions.add(peer.connectionId);
          else this.#gameSessions.delete(peer.connectionId);
          if (before !== this.gameMode) this.#host.emit({ event: 'game-mode', enabled: this.gameMode });
          return ok;
        }
        case 'FactoryResetRequest':
          return this.#requestFactoryReset() === 'ok' ? ok : error('BUSY', 'the child is recording');
        default:
          // ListPairings, OpenPairingWindow and RemovePairing never reach the app (the engine serves them).
          return error('UNSUPPORTED');
      }
    } catch (e) {
      this.#fail(e);
      if (e instanceof ToyError && e.code === 'STORAGE_FULL') return error('STORAGE_FULL');
      return error('INTERNAL', errorCode(e).slice(0, 64));
    }
  }

  #saveSettings(settings: ToySettings): void {
    this.#parts.storage.saveSettings(settings);
    this.#settings = settings;
  }

  /** Deletes a stored message, stopping its playback first (PlaybackEvent stopped). */
  #deleteMessage(messageId: number): void {
    if (this.#playback?.messageId === messageId) this.#stopPlayback();
    this.#parts.storage.deleteMessage(messageId);
    this.refreshNewMessageLed();
    this.#host.emit({ event: 'message-deleted', messageId });
  }

  #statusFields() {
    const { storage, battery, clock } = this.#parts;
    const stats = storage.stats();
    const now = clock.now();
    return {
      batteryPercent: battery.percent(now),
      charging: battery.charging,
      volume: this.#settings.volume,
      led: this.#settings.led as LedMode,
      storageFreeBytes: Math.min(stats.freeBytes, 0xffffffff),
      storageTotalBytes: Math.min(stats.totalBytes, 0xffffffff),
      firmware: { ...FIRMWARE_VERSION },
      incomingCount: stats.incomingCount,
      unplayedCount: stats.unplayedCount,
      recordingCount: stats.recordingCount,
      gameMode: this.gameMode,
      pairingWindowOpen: this.#host.pairingWindowOpen(),
      lullabyPlaying: this.#playback?.source === 'lullaby',
      clockSeconds: Math.min(this.#parts.clockSeconds(), 0xffffffff),
    };
  }

  /** The LED as shown now, for status lines. */
  ledNow(): { layer: ReturnType<HeartLed['shown']>['layer']; pattern: LedPattern; description: string } {
    const { layer, pattern } = this.#parts.led.shown();
    return { layer, pattern, description: describeLed(pattern) };
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /** Sends an event to every session (or one), after the current engine call has returned. */
  #send(event: AppEvent, connectionId?: ConnectionId): void {
    queueMicrotask(() => {
      if (this.#closed) return;
      try {
        this.#host.act((engine, now) => engine.sendEvent(event, now, connectionId));
      } catch (e) {
        this.#fail(e);
      }
    });
  }

  #fail(e: unknown): void {
    this.#host.emit({ event: 'error', code: errorCode(e), message: errorMessage(e) });
  }

  #track(work: Promise<unknown>): void {
    const p = work.catch((e: unknown) => this.#fail(e));
    this.#work.add(p);
    void p.finally(() => this.#work.delete(p));
  }

  /** Stops everything (recording discarded) and waits for playbacks to finish writing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [
      this.#listenHoldTimer,
      this.#bothTimer,
      this.#identifyTimer,
      this.#resetPending?.timer,
    ]) {
      t?.cancel();
    }
    this.#stopPlayback();
    this.#recording?.recording.stop();
    while (this.#work.size > 0) await Promise.all([...this.#work]);
  }
}
