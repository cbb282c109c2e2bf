/**
 * The simulated toy, composed in one place from its parts: two paws, the heart LED, the battery,
 * the speaker and the microphone (hardware/), the storage on the simulated flash with its secure
 * element (storage.ts), the pairing state machine and the protocol engine (protocol/), the
 * behaviour (behaviour.ts), the radio and its advertising (radio.ts), and the tag (tag.ts).
 *
 *   const toy = await SimulatedToy.start({ stateDir, radio: { kind: 'virtual' }, speaker: 'file:/tmp/out' });
 *   toy.onEvent((e) => console.log(e));
 *   await toy.hold('listen', 3000);   // opens the pairing window
 *   await toy.press('listen');        // plays the next message
 *   await toy.close();
 *
 * First start (a state directory without a provisioned flash) is the factory's step: a new random
 * setup code and discriminator, the SPAKE2+ verifier (PBKDF2, 10 000 iterations), the toy's static
 * X25519 key pair and its pairing state. The tag — the sticker with the code — is written FIRST,
 * durably (tag.json, 0600, beside the flash image, never in it), then the flash is provisioned in
 * one commit: a crash in between leaves an unprovisioned flash, and the next start makes a new
 * code and a new tag; the reverse order could leave a toy whose code nobody knows.
 *
 * Time: `scheduler` drives the protocol (engine timers, pairing window, advertising rotation) and
 * must match the phones' (real time on a shared air); `hardwareClock` drives what a person does
 * and sees (paw holds, LED timers, playback and recording pace, the factory-reset confirmation),
 * and may run faster (`pawlink-sim --speed N`). Tests pass one virtual clock for both.
 *
 * Factory reset (both paws 10 s, or an admin's request confirmed by both paws 2 s): the behaviour
 * stops everything, `storage.factoryReset` erases the flash in one commit keeping only the
 * verifier and discriminator, then a new ToyPairing and ToyEngine are built from the new state and
 * a new driver serves the radio; every connection is dropped. The tag stays valid.
 */
import { ToyEngine, type ToyEvent } from '../protocol/engine/toy.js';
import { PawLinkError } from '../protocol/errors.js';
import { encodeInfo } from '../protocol/gatt/info.js';
import { PAW_HOLD_MS } from '../protocol/pairing/constants.js';
import {
  createToyPairingState,
  decodeToyPairingState,
  encodeToyPairingState,
  provisionToy,
  type ToyPairingState,
} from '../protocol/pairing/state.js';
import type { PairingEntry, Role } from '../protocol/pairing/table.js';
import { type PawWindowResult, ToyPairing, type ToyPairingOptions } from '../protocol/pairing/toy.js';
import type { RandomSource } from '../protocol/random.js';
import { generateKeyPair, type KeyPair } from '../protocol/session/index.js';
import { TransferStatus } from '../protocol/transfer/index.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { realScheduler, type Scheduler } from '../radio/clock.js';
import { ToyDriver } from '../radio/drive.js';
import type { Unsubscribe } from '../radio/link.js';
import { ToyBehaviour } from './behaviour.js';
import { FIRMWARE_VERSION, LED_PAIRING, PRESS_DOWN_MS, TOY_FRAMING_WINDOW } from './constants.js';
import { ToyError } from './errors.js';
import type { PawName, PhoneSummary, ToySimEvent, ToyStatusSnapshot } from './events.js';
import { Battery, type BatteryOptions } from './hardware/battery.js';
import { describeLed, HeartLed } from './hardware/led.js';
import { createMicrophone, type MicrophoneSpec, type ToyMicrophone } from './hardware/microphone.js';
import { createSpeaker, type SpeakerSpec, type ToySpeaker } from './hardware/speaker.js';
import { Advertiser, openToyRadio, type ToyRadio, type ToyRadioSpec } from './radio.js';
import { systemRandom } from './secure-element.js';
import {
  type OpenedToyStorage,
  openToyStorage,
  type StoragePolicy,
  type ToyFlashStorage,
} from './storage.js';
import { makeToyTag, readTag, type ToyTag, writeTag } from './tag.js';

export interface SimulatedToyOptions {
  /** Where the toy keeps its flash image, secure element and tag (created 0700). */
  stateDir: string;
  radio: ToyRadioSpec;
  /** Protocol time (default: real time). */
  scheduler?: Scheduler;
  /** Physical time (default: `scheduler`). */
  hardwareClock?: Scheduler;
  /** Keys, nonces, codes (default: the OS CSPRNG). */
  random?: RandomSource;
  /** Where playback goes (default 'none'), or a speaker made elsewhere. */
  speaker?: SpeakerSpec | ToySpeaker;
  /** Where recordings come from (default 'none': silence), or a microphone made elsewhere. */
  microphone?: MicrophoneSpec | ToyMicrophone;
  /** PBKDF2 iterations of the verifier made at first start (default 10 000; tests use 1000). */
  pbkdfIterations?: number;
  /** Simulated flash geometry (defaults 16 MiB, 4 KiB pages). */
  flashSize?: number;
  pageSize?: number;
  storagePolicy?: Partial<StoragePolicy>;
  battery?: BatteryOptions;
  /**
   * Open the pairing window at start when nobody is paired (and pairing is not locked), as a
   * factory-new device does at power-on, as if the listen paw had been held 3 s (default false).
   */
  pairingWindowAtStart?: boolean;
}

/** How the tag stands, for the CLI: the tag, or why there is none to print. */
export type TagStatus =
  | { kind: 'ok'; tag: ToyTag }
  | { kind: 'missing'; message: string }
  | { kind: 'mismatch'; tag: ToyTag; message: string }
  | { kind: 'damaged'; message: string };

/** The pairing state machine, reporting when a window opens (the engine reports only closings). */
class ObservedToyPairing extends ToyPairing {
  readonly #opened: (by: 'paw' | 'admin', closesAt: number, now: number) => void;

  constructor(
    options: ToyPairingOptions,
    opened: (by: 'paw' | 'admin', closesAt: number, now: number) => void,
  ) {
    super(options);
    this.#opened = opened;
  }

  override openWindowByPaw(now: number, holdMs: number): PawWindowResult {
    const result = super.openWindowByPaw(now, holdMs);
    if (result.opened) this.#opened('paw', result.closesAt, now);
    return result;
  }

  override openWindowByAdmin(
    now: number,
    adminPhoneId: Uint8Array,
    role: Role,
    durationMs?: number,
  ): ReturnType<ToyPairing['openWindowByAdmin']> {
    const result = super.openWindowByAdmin(now, adminPhoneId, role, durationMs);
    this.#opened('admin', result.closesAt, now);
    return result;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function phoneSummary(entry: Pick<PairingEntry, 'phoneId' | 'name' | 'role'>): PhoneSummary {
  return { phoneId: hex(entry.phoneId), name: entry.name, role: entry.role };
}

function delay(clock: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

export class SimulatedToy {
  readonly stateDir: string;
  readonly firstStart: boolean;
  readonly tagStatus: TagStatus;
  readonly speaker: ToySpeaker;
  readonly microphone: ToyMicrophone;
  readonly led: HeartLed;
  readonly battery: Battery;
  readonly scheduler: Scheduler;
  readonly hardwareClock: Scheduler;
  readonly #random: RandomSource;
  readonly #opened: OpenedToyStorage;
  readonly #clockSeconds: () => number;
  readonly #listeners = new Set<(event: ToySimEvent) => void>();
  readonly #sessions = new Map<number, PhoneSummary>();
  readonly behaviour: ToyBehaviour;
  readonly #radio: ToyRadio;
  #advertiser!: Advertiser;
  #pairing!: ObservedToyPairing;
  #engine!: ToyEngine;
  #driver: ToyDriver | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Starts the toy: storage (provisioning it and writing the tag at first start), hardware,
   * engine, radio, advertising. @throws ToyError / FlashError (state directory unusable or in
   * use), AudioError (a bad speaker or microphone), RadioError (no adapter...).
   */
  static async start(options: SimulatedToyOptions): Promise<SimulatedToy> {
    const random = options.random ?? systemRandom;
    const scheduler = options.scheduler ?? realScheduler;
    const hardwareClock = options.hardwareClock ?? scheduler;
    // The speaker and microphone first: a bad file or output is reported before any state is made.
    const speaker =
      typeof options.speaker === 'object'
        ? options.speaker
        : await createSpeaker(options.speaker ?? 'none', { clock: hardwareClock });
    const microphone =
      typeof options.microphone === 'object'
        ? options.microphone
        : await createMicrophone(options.microphone ?? 'none', { clock: hardwareClock });
    // Then the radio (no adapter, no library: reported before any state is made). It serves and
    // advertises nothing until the toy is built.
    let toy: SimulatedToy | undefined;
    const radio = await openToyRadio(options.radio, {
      scheduler,
      info: () =>
        encodeInfo({
          minVersion: PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          pairingWindowOpen: toy?.pairing.windowOpen ?? false,
          maxWindow: TOY_FRAMING_WINDOW,
        }),
    });
    let clockSeconds: () => number = () => 0;
    let opened: OpenedToyStorage;
    try {
      opened = openToyStorage(options.stateDir, {
        random,
        ...(options.flashSize !== undefined ? { flashSize: options.flashSize } : {}),
        ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        storage: {
          clockSeconds: () => clockSeconds(),
          ...(options.storagePolicy ? { policy: options.storagePolicy } : {}),
        },
      });
    } catch (e) {
      await radio.close();
      throw e;
    }
    try {
      const storage = opened.storage;
      const firstStart = !storage.provisioned;
      let tagStatus: TagStatus;
      if (firstStart) {
        tagStatus = { kind: 'ok', tag: provisionSimulatedToy(options.stateDir, storage, random, options) };
      } else {
        tagStatus = checkTag(options.stateDir, storage);
      }
      const base = storage.clockSeconds;
      const bootAt = hardwareClock.now();
      clockSeconds = () => base + Math.floor(Math.max(0, hardwareClock.now() - bootAt) / 1000);
      toy = new SimulatedToy({
        stateDir: options.stateDir,
        firstStart,
        tagStatus,
        opened,
        random,
        scheduler,
        hardwareClock,
        speaker,
        microphone,
        clockSeconds: () => clockSeconds(),
        battery: new Battery(hardwareClock.now(), options.battery),
        radio,
      });
      await toy.#startServing(options.pairingWindowAtStart === true);
      return toy;
    } catch (e) {
      if (toy) {
        await toy.close().catch(() => undefined); // behaviour, driver, radio and flash
      } else {
        await radio.close().catch(() => undefined);
        opened.close();
      }
      throw e;
    }
  }

  private constructor(init: {
    stateDir: string;
    firstStart: boolean;
    tagStatus: TagStatus;
    opened: OpenedToyStorage;
    random: RandomSource;
    scheduler: Scheduler;
    hardwareClock: Scheduler;
    speaker: ToySpeaker;
    microphone: ToyMicrophone;
    clockSeconds: () => number;
    battery: Battery;
    radio: ToyRadio;
  }) {
    this.stateDir = init.stateDir;
    this.firstStart = init.firstStart;
    this.tagStatus = init.tagStatus;
    this.#opened = init.opened;
    this.#clockSeconds = init.clockSeconds;
    this.#random = init.random;
    this.scheduler = init.scheduler;
    this.hardwareClock = init.hardwareClock;
    this.speaker = init.speaker;
    this.microphone = init.microphone;
    this.battery = init.battery;
    this.#radio = init.radio;
    this.led = new HeartLed();
    this.led.onChange((pattern, layer) =>
      this.#emit({ event: 'led', layer, pattern, description: describeLed(pattern) }),
    );
    this.#buildEngine(this.#loadIdentity());
    this.behaviour = new ToyBehaviour(
      {
        storage: this.storage,
        speaker: this.speaker,
        microphone: this.microphone,
        led: this.led,
        battery: this.battery,
        clock: this.hardwareClock,
        clockSeconds: init.clockSeconds,
      },
      {
        act: (fn) => (this.#driver ? this.#driver.act(fn) : fn(this.#engine, this.scheduler.now())),
        openWindowByPaw: (holdMs) => this.#openWindowByPaw(holdMs),
        pairingWindowOpen: () => this.#pairing.windowOpen,
        factoryReset: (by) => this.#factoryReset(by),
        emit: (event) => this.#emit(event),
      },
    );
  }

  // ---- what a person does -------------------------------------------------------------------

  get storage(): ToyFlashStorage {
    return this.#opened.storage;
  }

  get engine(): ToyEngine {
    return this.#engine;
  }

  get pairing(): ToyPairing {
    return this.#pairing;
  }

  get radio(): ToyRadio {
    return this.#radio;
  }

  /** The service data advertised now. */
  get advertisement(): Uint8Array | undefined {
    return this.#advertiser.serviceData;
  }

  onEvent(listener: (event: ToySimEvent) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  pawDown(paw: PawName): void {
    this.behaviour.pawDown(paw);
  }

  pawUp(paw: PawName): void {
    this.behaviour.pawUp(paw);
  }

  /** A short squeeze (down, 100 ms of toy time, up). */
  async press(paw: PawName): Promise<void> {
    await this.hold(paw, PRESS_DOWN_MS);
  }

  /** Holds one paw, or both together, for `ms` of toy time, then lets go. */
  async hold(paw: PawName | 'both', ms: number): Promise<void> {
    const paws: PawName[] = paw === 'both' ? ['listen', 'record'] : [paw];
    for (const p of paws) this.pawDown(p);
    await delay(this.hardwareClock, ms);
    for (const p of paws) this.pawUp(p);
  }

  /** A snapshot of everything a person could see or an app could ask. */
  status(): ToyStatusSnapshot {
    const stats = this.storage.stats();
    const settings = this.behaviour.settings;
    return {
      led: this.behaviour.ledNow(),
      batteryPercent: this.battery.percent(this.hardwareClock.now()),
      volume: settings.volume,
      baseLed: settings.led,
      storage: {
        totalBytes: stats.totalBytes,
        freeBytes: stats.freeBytes,
        incoming: stats.incomingCount,
        unplayed: stats.unplayedCount,
        recordings: stats.recordingCount,
        partialUploads: stats.partialCount,
      },
      pairings: this.#pairing.state.pairings.length,
      pairingLocked: this.#pairing.locked,
      pairingWindowOpen: this.#pairing.windowOpen,
      sessions: [...this.#sessions.values()],
      gameMode: this.behaviour.gameMode,
      recording: this.behaviour.recording,
      playing: this.behaviour.playing,
      factoryResetPending: this.behaviour.factoryResetPending,
      clockSeconds: this.#clockSeconds(),
      firmware: `${FIRMWARE_VERSION.major}.${FIRMWARE_VERSION.minor}.${FIRMWARE_VERSION.patch}`,
    };
  }

  /** Switches the toy off: radio, behaviour (a recording in progress is discarded), flash. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const errors: unknown[] = [];
    const attempt = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    };
    await attempt(() => this.behaviour.close());
    await attempt(() => this.#advertiser?.stop());
    await attempt(() => this.#driver?.stop('toy switched off'));
    await attempt(() => this.#radio?.close());
    await attempt(() => this.storage.saveClock(this.#clockSeconds()));
    await attempt(() => this.#opened.close());
    this.#listeners.clear();
    if (errors.length > 0) throw errors[0];
  }

  // ---- composition --------------------------------------------------------------------------

  #loadIdentity(): { keyPair: KeyPair; state: ToyPairingState } {
    const keyPair = this.storage.loadIdentity();
    const bytes = this.storage.loadPairingState();
    if (!keyPair || !bytes) throw new ToyError('NOT_PROVISIONED', 'the toy has no identity');
    let state: ToyPairingState;
    try {
      state = decodeToyPairingState(bytes);
    } catch (e) {
      throw new ToyError(
        'CORRUPT_RECORD',
        `the stored pairing state does not decode (${(e as PawLinkError).code})`,
        {
          cause: e,
        },
      );
    }
    return { keyPair, state };
  }

  #buildEngine(identity: { keyPair: KeyPair; state: ToyPairingState }): void {
    const storage = this.storage;
    const pairing: ObservedToyPairing = new ObservedToyPairing(
      {
        state: identity.state,
        random: this.#random,
        persist: (bytes) => {
          // A pairing replaced by a factory reset must never write over the new state.
          if (pairing !== this.#pairing)
            throw new ToyError('STALE_PAIRING', 'this pairing state was replaced');
          storage.savePairingState(bytes);
          queueMicrotask(() => void this.#advertiser?.refresh());
        },
      },
      (by, closesAt, now) => this.#windowOpened(by, closesAt - now),
    );
    this.#pairing = pairing;
    this.#engine = new ToyEngine({
      staticKeyPair: identity.keyPair,
      pairing,
      storage,
      app: { handleRequest: (request, peer, now) => this.behaviour.handleRequest(request, peer, now) },
      random: this.#random,
      window: TOY_FRAMING_WINDOW,
    });
  }

  /** Starts serving the radio's connections and advertising. */
  async #startServing(openWindow: boolean): Promise<void> {
    this.#advertiser = new Advertiser({
      peripheral: this.#radio.peripheral,
      scheduler: this.scheduler,
      random: this.#random,
      read: () => ({
        pairingWindowOpen: this.#pairing.windowOpen,
        tagKey: this.#pairing.state.tagKey,
        discriminator: this.#pairing.state.discriminator,
      }),
      onError: (e) => this.#error(e),
    });
    this.#startDriver();
    if (openWindow && this.#pairing.state.pairings.length === 0 && !this.#pairing.locked) {
      this.#openWindowByPaw(PAW_HOLD_MS);
    }
    await this.#advertiser.refresh({ newTag: true });
  }

  #startDriver(): void {
    const driver = new ToyDriver(this.#engine, this.#radio.peripheral, { scheduler: this.scheduler });
    driver.onEvent((event) => {
      if (driver === this.#driver) this.#onEngineEvent(event);
    });
    this.#driver = driver;
    driver.start();
  }

  #onEngineEvent(e: ToyEvent): void {
    switch (e.type) {
      case 'connected':
        this.#emit({ event: 'connected', connectionId: e.connectionId });
        break;
      case 'disconnected': {
        this.behaviour.connectionClosed(e.connectionId);
        const phone = this.#sessions.get(e.connectionId);
        if (phone) {
          this.#sessions.delete(e.connectionId);
          this.#emit({ event: 'session-closed', connectionId: e.connectionId, reason: e.reason });
        }
        this.#emit({ event: 'disconnected', connectionId: e.connectionId, reason: e.reason });
        if (!this.#closed) void this.#advertiser.refresh({ newTag: true });
        break;
      }
      case 'paired':
        this.#emit({ event: 'paired', phone: phoneSummary(e.entry) });
        break;
      case 'pairing-failed':
        this.#emit({ event: 'pairing-failed', code: e.code });
        break;
      case 'pairing-window-closed':
        this.led.set('pairing', undefined, this.hardwareClock.now());
        this.#emit({ event: 'pairing-window', state: 'closed', reason: e.reason });
        void this.#advertiser.refresh();
        break;
      case 'pairings-wiped':
        this.#emit({ event: 'pairings-wiped' });
        break;
      case 'session-opened': {
        const phone = phoneSummary(e.peer);
        this.#sessions.set(e.peer.connectionId, phone);
        this.#emit({ event: 'session-opened', connectionId: e.peer.connectionId, phone });
        break;
      }
      case 'message-stored':
        this.behaviour.refreshNewMessageLed();
        this.#emit({
          event: 'message-stored',
          messageId: e.messageId,
          bytes: e.bytes,
          durationMs: this.storage.getMessage(e.messageId)?.durationMs ?? 0,
        });
        break;
      case 'upload-discarded':
        this.#emit({ event: 'upload-discarded', transferId: e.transferId, status: e.status });
        break;
      case 'download-finished':
        if (e.status === TransferStatus.Ok && this.storage.getMessage(e.messageId)?.kind === 'recording') {
          try {
            this.storage.markPlayed(e.messageId); // a recording's "played": a phone has it
          } catch (err) {
            this.#error(err);
          }
        }
        this.#emit({ event: 'download-finished', messageId: e.messageId, status: e.status });
        break;
      case 'upload-progress':
        break;
    }
  }

  #openWindowByPaw(holdMs: number): PawWindowResult {
    const act = <T>(fn: (engine: ToyEngine, now: number) => T): T =>
      this.#driver ? this.#driver.act(fn) : fn(this.#engine, this.scheduler.now());
    // The engine first runs what is due (an expired attempt or window), so that nothing the pairing
    // layer returns from openWindowByPaw is left unsent: then it returns no outputs.
    return act((engine, now) => {
      engine.tick(now);
      return engine.pairing.openWindowByPaw(now, holdMs);
    });
  }

  #windowOpened(by: 'paw' | 'admin', closesInMs: number): void {
    this.led.set('pairing', LED_PAIRING, this.hardwareClock.now());
    this.#emit({ event: 'pairing-window', state: 'open', by, closesInMs });
    queueMicrotask(() => void this.#advertiser?.refresh());
  }

  #factoryReset(by: 'paws' | 'confirmed'): void {
    if (this.#closed) return;
    this.behaviour.beforeFactoryReset();
    let state: ToyPairingState;
    const keyPair = generateKeyPair(this.#random);
    try {
      state = decodeToyPairingState(this.storage.factoryReset(keyPair, this.#random));
    } catch (e) {
      // One commit: nothing was erased. The toy goes on as it was.
      this.#error(e);
      this.behaviour.afterFactoryReset();
      return;
    }
    const old = this.#driver;
    this.#driver = undefined;
    void old?.stop('factory reset');
    this.#sessions.clear();
    this.#buildEngine({ keyPair, state });
    this.#startDriver();
    this.behaviour.afterFactoryReset();
    void this.#advertiser.refresh({ newTag: true });
    this.#emit({ event: 'factory-reset', by });
  }

  #emit(event: ToySimEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure is the listener's; the toy goes on.
      }
    }
  }

  #error(e: unknown): void {
    this.#emit({
      event: 'error',
      code: e instanceof PawLinkError ? e.code : 'INTERNAL',
      message: e instanceof Error ? e.message : String(e),
    });
  }
}

/**
 * The simulated factory: a new setup code and discriminator, the verifier, the toy's key pair and
 * its pairing state. Writes the tag first (durably), then provisions the flash in one commit.
 */
function provisionSimulatedToy(
  stateDir: string,
  storage: ToyFlashStorage,
  random: RandomSource,
  options: Pick<SimulatedToyOptions, 'pbkdfIterations'>,
): ToyTag {
  const { setupCode, discriminator, verifier } = provisionToy(
    random,
    options.pbkdfIterations !== undefined ? { iterations: options.pbkdfIterations } : {},
  );
  const tag = makeToyTag(setupCode, discriminator);
  writeTag(stateDir, tag);
  const staticKeyPair = generateKeyPair(random);
  const state = createToyPairingState(
    { discriminator, verifier, toyStaticPublicKey: staticKeyPair.publicKey },
    random,
  );
  storage.provision({ staticKeyPair, pairingState: encodeToyPairingState(state) });
  return tag;
}

/** Reads the tag of a provisioned toy for printing; a missing or foreign tag is reported, not fatal. */
function checkTag(stateDir: string, storage: ToyFlashStorage): TagStatus {
  let tag: ToyTag | undefined;
  try {
    tag = readTag(stateDir);
  } catch (e) {
    return {
      kind: 'damaged',
      message: `${(e as Error).message}; the setup code is on the original tag only`,
    };
  }
  if (!tag) {
    return {
      kind: 'missing',
      message: `no tag.json in ${stateDir}: the setup code is on the original tag only`,
    };
  }
  const bytes = storage.loadPairingState();
  try {
    if (bytes && decodeToyPairingState(bytes).discriminator !== tag.discriminator) {
      return {
        kind: 'mismatch',
        tag,
        message: 'tag.json does not belong to this toy (another discriminator)',
      };
    }
  } catch {
    // The engine reports a damaged pairing state when it loads it.
  }
  return { kind: 'ok', tag };
}
