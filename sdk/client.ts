/**
 * `ToyClient`: the app side of PawLink. It owns this phone's keystore (identity, paired toys,
 * unfinished uploads: sdk/keystore.ts) and a radio (sdk/radio.ts), and:
 *
 *   const client = await ToyClient.open();                  // the virtual radio, the default keystore
 *   await client.pair('PAWLINK1-A5C-12345670');             // or the 8 digits on the tag
 *   const toy = await client.connect();                     // the only paired toy, by its rotating tag
 *   const id = await toy.send('hello.wav', { onProgress }); // WAV / Ogg Opus / PCM / Opus packets
 *   await toy.close(); await client.close();
 *
 * - `scan` lists the PawLink toys in range: pairing window open or not (with the discriminator
 *   printed on the tag when open), and which of OUR toys each is, by resolving its rotating tag
 *   with every stored tag key (PROTOCOL.md §3). Strangers' toys show no identity.
 * - `pair` finds the one toy whose pairing window is open (the setup payload, or the
 *   `discriminator` option, picks it among several), proves the setup code with SPAKE2+ and stores
 *   the result. Nothing is stored unless the toy accepted the code.
 * - `connect` finds a paired toy by its rotating tag, opens the Noise session, and first resumes
 *   the uploads an earlier connection left unfinished (same transferId and bytes: the toy stores
 *   each message exactly once), then hands over a `ToySession` (sdk/session.ts).
 *
 * The radio opens at the first scan/pair/connect, not in `open` (a keystore-only use, such as
 * listing paired toys, loads no Bluetooth library). Every failure is an `SdkError`:
 *
 * | code | when |
 * | --- | --- |
 * | BAD_INPUT, BAD_OPTION | an argument or option out of range or of the wrong shape (nothing was sent) |
 * | BAD_SETUP_CODE, FORBIDDEN_SETUP_CODE, BAD_SETUP_PAYLOAD | the code / QR payload typed is malformed (nothing was sent) |
 * | BAD_CONFIRMATION | wrong setup code (the toy counts it against its lifetime limit) |
 * | NO_TOY_FOUND | no toy with its pairing window open (pair), or the paired toy is not in range (connect) |
 * | SEVERAL_TOYS | several pairing windows open and no discriminator to choose |
 * | WINDOW_CLOSED, BUSY, LOCKED, TABLE_FULL, TIMEOUT | the toy refused the pairing (see the message) |
 * | NOT_PAIRED, AMBIGUOUS_TOY, UNKNOWN_TOY | connect: no paired toy / several and no id / no such toy in the keystore |
 * | UNKNOWN_PHONE | the toy no longer knows this phone (removed or factory reset): pair again |
 * | DISCONNECTED, CLOSED | the link dropped / the session or client was closed |
 * | UPLOAD_INTERRUPTED | the link dropped mid-upload; it resumes at the next connect |
 * | NOT_ADMIN, NOT_FOUND, STORAGE_FULL, BUSY, WINDOW_ALREADY_OPEN, PAIRINGS_FULL, PAIRING_LOCKED, INTERNAL | the toy's application error codes (PROTOCOL.md §8) |
 * | LAST_ADMIN | unpair of the only admin of a toy with other phones, without force |
 * | TIMEOUT | the toy did not answer a request in time |
 * | NO_ADAPTER, NO_PERMISSION, LIBRARY_MISSING, SHARED_AIR_UNREACHABLE | the radio could not open (message says what to do) |
 * | FILE_UNREADABLE, NOT_AUDIO, TOO_LONG, EMPTY_AUDIO, BAD_OPUS_PACKET, WRITE_FAILED... | audio input/output (audio/errors.ts codes) |
 * | KEYSTORE_* , BAD_NAME | the keystore (sdk/keystore.ts) |
 */
import { toHex } from '../protocol/bytes.js';
import { MemoryPartialStore, type PhoneEvent, type PhoneIdentity } from '../protocol/engine/phone.js';
import { PawLinkError } from '../protocol/errors.js';
import { type Advertisement, decodeAdvertisement, resolveTag } from '../protocol/gatt/index.js';
import { RESPONSE_TIMEOUT_MS } from '../protocol/messages/index.js';
import { parseSetupInput } from '../protocol/pairing/index.js';
import type { RandomSource } from '../protocol/random.js';
import { realScheduler, type Scheduler, type Timer } from '../radio/clock.js';
import { PhoneDriver } from '../radio/drive.js';
import type { DiscoveredToy } from '../radio/link.js';
import { SdkError } from './errors.js';
import { asSdkError, deferred, pairingError, systemRandom } from './internal.js';
import { Keystore, type StoredToy } from './keystore.js';
import { type OpenedRadio, openRadio, type RadioOptions } from './radio.js';
import {
  closeError,
  KEEP_ALIVE_MS,
  type PairedToyInfo,
  type ResumedUpload,
  ToySession,
  type TransferProgress,
  toyInfo,
} from './session.js';

/** How long scan, pair and connect look for toys by default, ms. */
export const DEFAULT_SCAN_TIMEOUT_MS = 10_000;
/** `scan()` lists what it hears during this long by default, ms. */
export const DEFAULT_LIST_SCAN_MS = 3_000;
/**
 * After a first toy with an open pairing window is heard, `pair` (with no discriminator) listens
 * this much longer for a second one, so it never pairs with the wrong toy of two, ms.
 */
export const PAIR_SETTLE_MS = 1_500;
/** Longest a pairing may take once connected: the toy's 30 s attempt limit plus margin, ms. */
const PAIRING_LIMIT_MS = 40_000;
/** Longest the Noise handshake may take once connected, ms (the toy's own limit is 10 s). */
const SESSION_OPEN_LIMIT_MS = 15_000;

export interface ToyClientOptions extends RadioOptions {
  /** The keystore directory (default PAWLINK_HOME, else the per-user data directory). */
  home?: string;
  /** A keystore the app opened itself (instead of `home`). */
  keystore?: Keystore;
  /** How long scan, pair and connect look for toys, ms (default 10 s). */
  timeoutMs?: number;
  /** How long a request waits for the toy's answer, ms (default 10 s). */
  requestTimeoutMs?: number;
  /** Keep-alive period of an idle session, ms (default 20 s). */
  keepAliveMs?: number;
  /** This phone's name on the toys' pairing lists, used when the identity is created (≤ 32 bytes). */
  phoneName?: string;
  /** Randomness for pairing, sessions and transfer ids (default: the OS CSPRNG). */
  random?: RandomSource;
}

/** A toy heard while scanning. */
export interface ScannedToy {
  /** The radio's id for it (changes when the toy's address rotates). */
  id: string;
  rssi: number;
  /** Undefined when the toy sends no service data (a macOS peripheral): its state is unknown. */
  pairingWindowOpen: boolean | undefined;
  /** The 12-bit discriminator printed on its tag, advertised only while its pairing window is open. */
  discriminator?: number;
  /** When it is one of this phone's paired toys (its rotating tag resolved with our tag key). */
  paired?: PairedToyInfo;
}

export interface ScanOptions {
  /** Only toys advertising this discriminator (0–4095). */
  discriminator?: number;
  /** How long to listen, ms (default 3 s). */
  timeoutMs?: number;
}

export interface PairOptions {
  /** Which toy, when several have their pairing window open (0–4095; the setup payload carries it). */
  discriminator?: number;
  /** This phone's name on the toy's pairing list (≤ 32 UTF-8 bytes); sets the phone's name. */
  name?: string;
  /** The app's name for the toy (≤ 32 UTF-8 bytes), kept in the keystore. */
  label?: string;
  /** How long to look for the toy, ms (default: the client's timeoutMs). */
  timeoutMs?: number;
}

export interface ConnectOptions {
  /** How long to look for the toy, ms (default: the client's timeoutMs). */
  timeoutMs?: number;
  /** Progress of the unfinished uploads resumed on connect. */
  onResumeProgress?: (progress: TransferProgress) => void;
}

/** The app side of PawLink. See the module comment. */
export class ToyClient {
  /** This phone's keystore. */
  readonly keystore: Keystore;
  readonly #options: ToyClientOptions;
  readonly #random: RandomSource;
  readonly #scheduler: Scheduler;
  readonly #timeoutMs: number;
  readonly #partials = new Map<string, MemoryPartialStore>();
  readonly #sessions = new Set<ToySession>();
  #radio: Promise<OpenedRadio> | undefined;
  #closed = false;

  private constructor(keystore: Keystore, options: ToyClientOptions) {
    this.keystore = keystore;
    this.#options = options;
    this.#random = options.random ?? systemRandom;
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SCAN_TIMEOUT_MS;
  }

  /**
   * Opens the keystore (creating it, 0700). The radio opens later, at the first scan, pair or
   * connect. @throws SdkError BAD_OPTION, KEYSTORE_*.
   */
  static async open(options: ToyClientOptions = {}): Promise<ToyClient> {
    for (const [name, v] of [
      ['timeoutMs', options.timeoutMs],
      ['requestTimeoutMs', options.requestTimeoutMs],
      ['keepAliveMs', options.keepAliveMs],
    ] as const) {
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
        throw new SdkError('BAD_OPTION', `${name} must be a positive number of ms, not ${String(v)}`);
      }
    }
    const radio = options.radio ?? 'virtual';
    if (typeof radio === 'string' && radio !== 'virtual' && radio !== 'ble') {
      throw new SdkError('BAD_OPTION', `unknown radio '${radio}': use 'virtual' or 'ble'`);
    }
    let keystore: Keystore;
    try {
      keystore = options.keystore ?? Keystore.open(options.home !== undefined ? { home: options.home } : {});
    } catch (e) {
      throw asSdkError(e);
    }
    return new ToyClient(keystore, options);
  }

  /** This phone's id (32 hex digits) and name, creating the identity on first use. */
  phone(): { phoneId: string; name: string } {
    const id = this.#identity();
    return { phoneId: toHex(id.phoneId), name: id.name };
  }

  /** The toys this phone is paired with (from the keystore; no radio). */
  toys(): PairedToyInfo[] {
    try {
      return this.keystore.listToys().map(toyInfo);
    } catch (e) {
      throw asSdkError(e);
    }
  }

  /**
   * Forgets a toy on this phone only, with its unfinished uploads (its pairing on the toy stays
   * until an admin removes it): the only paired toy, or the one `toy` names (id, id prefix,
   * label). Returns what was forgotten. @throws SdkError NOT_PAIRED, UNKNOWN_TOY, AMBIGUOUS_TOY.
   */
  forget(toy?: string): PairedToyInfo {
    const stored = this.#findToy(toy);
    try {
      this.keystore.removeToy(stored.toyId);
    } catch (e) {
      throw asSdkError(e);
    }
    return toyInfo(stored);
  }

  /** The toys in range, heard during `timeoutMs` (default 3 s). See `ScannedToy`. */
  async scan(options: ScanOptions = {}): Promise<ScannedToy[]> {
    const discriminator = checkDiscriminator(options.discriminator);
    const timeoutMs = checkTimeout(options.timeoutMs, DEFAULT_LIST_SCAN_MS);
    const { central } = await this.#openRadio();
    const ours = this.keystore.listToys();
    const found: ScannedToy[] = [];
    try {
      for await (const d of central.scan({ timeoutMs })) {
        const adv = decodeAdv(d.serviceData);
        if (adv === null) continue; // not a PawLink advertisement we understand
        if (discriminator !== undefined && adv?.discriminator !== discriminator) continue;
        const mine = adv?.tag ? ours.find((t) => resolveTag(adv.tag!, t.tagKey)) : undefined;
        found.push({
          id: d.id,
          rssi: d.rssi,
          pairingWindowOpen: adv?.pairingWindowOpen,
          ...(adv?.discriminator !== undefined ? { discriminator: adv.discriminator } : {}),
          ...(mine ? { paired: toyInfo(mine) } : {}),
        });
      }
    } catch (e) {
      throw asSdkError(e);
    }
    return found;
  }

  /**
   * Pairs with the toy whose pairing window is open, using the setup code printed on its tag (8
   * digits) or the setup payload of its QR code (PAWLINK1-DDD-CCCCCCCC, which also names the toy).
   * Stores the pairing in the keystore and returns it. See the module comment for the errors.
   */
  async pair(codeOrPayload: string, options: PairOptions = {}): Promise<PairedToyInfo> {
    let setup: { setupCode: string; discriminator?: number };
    try {
      setup = parseSetupInput(codeOrPayload);
    } catch (e) {
      throw asSdkError(e);
    }
    const optionDisc = checkDiscriminator(options.discriminator);
    if (setup.discriminator !== undefined && optionDisc !== undefined && setup.discriminator !== optionDisc) {
      throw new SdkError(
        'BAD_INPUT',
        `the setup payload names discriminator ${setup.discriminator}, the option ${optionDisc}: give one`,
      );
    }
    const discriminator = setup.discriminator ?? optionDisc;
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    const label = options.label ?? '';
    checkLabel(label);
    if (options.name !== undefined) checkLabel(options.name, 'phone name');
    let identity: PhoneIdentity;
    try {
      identity = this.keystore.identity(this.#options.phoneName ?? '');
    } catch (e) {
      throw asSdkError(e);
    }
    // A new name is sent in this pairing, and kept only if the pairing succeeds.
    const rename = options.name !== undefined && options.name !== identity.name ? options.name : undefined;
    if (rename !== undefined) identity = { ...identity, name: rename };
    const radio = await this.#openRadio();
    const target = await this.#findPairingWindow(radio, discriminator, timeoutMs);
    const driver = await this.#connectDriver(target.id, identity, timeoutMs);
    try {
      const paired = deferred<PhoneEvent & { type: 'paired' }>();
      let alert: number | undefined;
      const off = driver.onEvent((e) => {
        if (e.type === 'paired') paired.resolve(e);
        else if (e.type === 'pairing-failed') paired.reject(pairingError(e.error));
        else if (e.type === 'alert') alert = e.code;
        else if (e.type === 'closed') paired.reject(closeError(e.reason, alert));
      });
      const timer = this.#scheduler.setTimer(
        () => paired.reject(new SdkError('TIMEOUT', 'pairing took too long: try again closer to the toy')),
        PAIRING_LIMIT_MS,
      );
      try {
        driver.act((engine, now) => engine.pair(setup.setupCode, now));
        const { toy } = await paired.promise;
        const stored = this.keystore.saveToy(toy, label);
        if (rename !== undefined) this.keystore.setName(rename);
        return toyInfo(stored);
      } catch (e) {
        throw asSdkError(e);
      } finally {
        timer.cancel();
        off();
      }
    } finally {
      await driver.close().catch(() => undefined);
    }
  }

  /**
   * Opens a session with a paired toy: the only one by default, else the one whose id (or id
   * prefix, or label) is given. Finds it by its rotating tag, opens the encrypted session, and
   * resumes unfinished uploads first (their outcome is in `session.resumed`).
   */
  async connect(toy?: string, options: ConnectOptions = {}): Promise<ToySession> {
    const stored = this.#findToy(toy);
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    let identity: PhoneIdentity;
    try {
      identity = this.keystore.identity(this.#options.phoneName ?? '');
    } catch (e) {
      throw asSdkError(e);
    }
    const radio = await this.#openRadio();
    const session = await this.#openSession(radio, stored, identity, timeoutMs);
    try {
      this.keystore.markSeen(stored.toyId);
    } catch {
      // The last-seen time is a convenience; a keystore that cannot record it must not cost the session.
    }
    let resumed: ResumedUpload[];
    try {
      resumed = await session.resumeUploads(options.onResumeProgress);
    } catch (e) {
      await session.close();
      throw asSdkError(e);
    }
    session.resumed = resumed;
    return session;
  }

  /** Closes every session and the radio (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) await s.close();
    const radio = this.#radio;
    this.#radio = undefined;
    if (radio) await radio.then((r) => r.close()).catch(() => undefined);
  }

  /** True when the radio is the shared virtual air and this process hosts it (no simulator runs). */
  async hostsVirtualAir(): Promise<boolean> {
    return (await this.#openRadio()).hostsVirtualAir;
  }

  // ---- internals ----

  #identity(): PhoneIdentity {
    try {
      return this.keystore.identity(this.#options.phoneName ?? '');
    } catch (e) {
      throw asSdkError(e);
    }
  }

  #openRadio(): Promise<OpenedRadio> {
    if (this.#closed) return Promise.reject(new SdkError('CLOSED', 'the client is closed'));
    if (!this.#radio) {
      const { radio, bleLib, hci, air } = this.#options;
      this.#radio = openRadio({
        ...(radio !== undefined ? { radio } : {}),
        ...(bleLib !== undefined ? { bleLib } : {}),
        ...(hci !== undefined ? { hci } : {}),
        ...(air !== undefined ? { air } : {}),
        scheduler: this.#scheduler,
      });
      this.#radio.catch(() => {
        this.#radio = undefined;
      });
    }
    return this.#radio;
  }

  /** The keystore toy `query` names (id, id prefix of ≥ 4 hex digits, or label), or the only one. */
  #findToy(query: string | undefined): StoredToy {
    let toys: StoredToy[];
    try {
      toys = this.keystore.listToys();
    } catch (e) {
      throw asSdkError(e);
    }
    if (query === undefined || query === '') {
      if (toys.length === 1) return toys[0]!;
      if (toys.length === 0) {
        throw new SdkError(
          'NOT_PAIRED',
          'this phone is not paired with any toy: pair one first (pawlink pair <code>)',
        );
      }
      throw new SdkError(
        'AMBIGUOUS_TOY',
        `this phone is paired with ${toys.length} toys: say which (--toy ${toys.map(describe).join(' | ')})`,
      );
    }
    if (typeof query !== 'string') throw new SdkError('BAD_INPUT', 'a toy is named by its id or label');
    const q = query.toLowerCase();
    const byId = /^[0-9a-f]{4,32}$/.test(q) ? toys.filter((t) => toHex(t.toyId).startsWith(q)) : [];
    const matches = byId.length > 0 ? byId : toys.filter((t) => t.label !== '' && t.label === query);
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) {
      throw new SdkError('UNKNOWN_TOY', `no paired toy '${query}' on this phone (pawlink toys lists them)`);
    }
    throw new SdkError('AMBIGUOUS_TOY', `'${query}' matches ${matches.length} toys: give more of the id`);
  }

  /** Scans for a toy with its pairing window open (and the discriminator, if one is given). */
  async #findPairingWindow(
    radio: OpenedRadio,
    discriminator: number | undefined,
    timeoutMs: number,
  ): Promise<DiscoveredToy> {
    const open: Array<{ toy: DiscoveredToy; discriminator: number | undefined }> = [];
    let sawClosed = false;
    let sawOtherDiscriminator = false;
    const scan = radio.central.scan({
      timeoutMs,
      filter: (sd) => {
        const adv = decodeAdv(sd);
        if (!adv) return false;
        if (!adv.pairingWindowOpen) {
          sawClosed = true;
          return false;
        }
        if (discriminator !== undefined && adv.discriminator !== discriminator) {
          sawOtherDiscriminator = true;
          return false;
        }
        return true;
      },
    });
    const it = scan[Symbol.asyncIterator]();
    const settled = deferred<'settled'>();
    let settleTimer: Timer | undefined;
    try {
      for (;;) {
        const r = settleTimer ? await Promise.race([it.next(), settled.promise]) : await it.next();
        if (r === 'settled' || r.done) break;
        open.push({ toy: r.value, discriminator: decodeAdv(r.value.serviceData)?.discriminator });
        if (discriminator !== undefined || open.length > 1) break;
        // Listen a little longer for a second open window before choosing this one.
        settleTimer = this.#scheduler.setTimer(() => settled.resolve('settled'), PAIR_SETTLE_MS);
      }
    } catch (e) {
      throw asSdkError(e);
    } finally {
      settleTimer?.cancel();
      await it.return?.();
    }
    if (open.length === 1) return open[0]!.toy;
    if (open.length > 1) {
      const list = open
        .map((o) => (o.discriminator === undefined ? '?' : String(o.discriminator)))
        .join(', ');
      throw new SdkError(
        'SEVERAL_TOYS',
        `${open.length} toys have their pairing window open (discriminators ${list}): give the discriminator printed on the tag (--discriminator N) or the setup payload of its QR code`,
      );
    }
    if (radio.hostsVirtualAir) {
      throw new SdkError(
        'NO_TOY_FOUND',
        'no simulated toy is running on the virtual radio: start one in another terminal (npm start), hold its listen paw 3 s, and try again',
      );
    }
    if (sawOtherDiscriminator) {
      throw new SdkError(
        'NO_TOY_FOUND',
        `no toy with discriminator ${discriminator} has its pairing window open (other toys do): check the number on the tag`,
      );
    }
    throw new SdkError(
      'NO_TOY_FOUND',
      `no toy with its pairing window open was found in ${seconds(timeoutMs)} s${sawClosed ? ' (toys are in range with their windows closed)' : ''}: hold the toy's listen paw for 3 s until the heart pulses, then try again`,
    );
  }

  async #connectDriver(id: string, identity: PhoneIdentity, timeoutMs: number): Promise<PhoneDriver> {
    const { central } = await this.#openRadio();
    try {
      const connection = await central.connect(id, { timeoutMs });
      try {
        return await PhoneDriver.open(connection, {
          identity,
          random: this.#random,
          scheduler: this.#scheduler,
          partials: this.#partialsFor(identity.phoneId),
        });
      } catch (e) {
        await connection.disconnect().catch(() => undefined);
        throw e;
      }
    } catch (e) {
      throw asSdkError(e);
    }
  }

  #partialsFor(key: Uint8Array): MemoryPartialStore {
    const k = toHex(key);
    let p = this.#partials.get(k);
    if (!p) {
      p = new MemoryPartialStore();
      this.#partials.set(k, p);
    }
    return p;
  }

  /** Finds `toy` by its rotating tag (or, failing that, tries toys that send no service data). */
  async #openSession(
    radio: OpenedRadio,
    toy: StoredToy,
    identity: PhoneIdentity,
    timeoutMs: number,
  ): Promise<ToySession> {
    const noData: DiscoveredToy[] = [];
    let match: DiscoveredToy | undefined;
    try {
      for await (const d of radio.central.scan({
        timeoutMs,
        filter: (sd) => {
          if (sd === undefined) return true;
          const adv = decodeAdv(sd);
          return !!adv?.tag && resolveTag(adv.tag, toy.tagKey);
        },
      })) {
        if (d.serviceData === undefined) {
          noData.push(d);
          continue;
        }
        match = d;
        break;
      }
    } catch (e) {
      throw asSdkError(e);
    }
    const candidates = match ? [match] : noData;
    let lastError: SdkError | undefined;
    for (const candidate of candidates) {
      try {
        return await this.#handshake(candidate.id, toy, identity, timeoutMs);
      } catch (e) {
        lastError = asSdkError(e);
        // With a tag match this is the toy: its answer is final. Without one, try the next.
        if (match) throw lastError;
      }
    }
    if (radio.hostsVirtualAir) {
      throw new SdkError(
        'NO_TOY_FOUND',
        'no simulated toy is running on the virtual radio: start one in another terminal (npm start)',
      );
    }
    throw new SdkError(
      'NO_TOY_FOUND',
      `toy ${describe(toy)} was not found in ${seconds(timeoutMs)} s: is it switched on, in range, and not connected to another phone?`,
    );
  }

  async #handshake(
    id: string,
    toy: StoredToy,
    identity: PhoneIdentity,
    timeoutMs: number,
  ): Promise<ToySession> {
    const driver = await this.#connectDriver(id, identity, timeoutMs);
    const open = deferred<void>();
    let alert: number | undefined;
    const off = driver.onEvent((e) => {
      if (e.type === 'session-open') open.resolve();
      else if (e.type === 'alert') alert = e.code;
      else if (e.type === 'closed') open.reject(closeError(e.reason, alert));
    });
    const timer = this.#scheduler.setTimer(
      () => open.reject(new SdkError('TIMEOUT', 'the toy did not open the session in time')),
      SESSION_OPEN_LIMIT_MS,
    );
    try {
      driver.act((engine, now) => engine.openSession(toy, now));
      await open.promise;
    } catch (e) {
      await driver.close().catch(() => undefined);
      throw asSdkError(e);
    } finally {
      timer.cancel();
      off();
    }
    const session = new ToySession({
      driver,
      toy,
      keystore: this.keystore,
      identity,
      scheduler: this.#scheduler,
      random: this.#random,
      requestTimeoutMs: this.#options.requestTimeoutMs ?? RESPONSE_TIMEOUT_MS,
      keepAliveMs: this.#options.keepAliveMs ?? KEEP_ALIVE_MS,
      onClosed: (s) => this.#sessions.delete(s),
    });
    if (session.isOpen) this.#sessions.add(session);
    // The toy counts a session as proven only once the phone's first record arrives, and drops a
    // connection that is not proven within 10 s (PROTOCOL.md §4.3): send one at once, so an app
    // may take its time before its first request (encoding a long message, waiting for its user).
    try {
      await session.status();
    } catch (e) {
      await session.close();
      throw asSdkError(e);
    }
    return session;
  }
}

/** The advertisement in service data; undefined when there is none, null when it does not decode. */
function decodeAdv(sd: Uint8Array | undefined): Advertisement | undefined | null {
  if (sd === undefined) return undefined;
  try {
    return decodeAdvertisement(sd);
  } catch (e) {
    if (e instanceof PawLinkError) return null;
    throw e;
  }
}

function describe(t: StoredToy): string {
  const id = toHex(t.toyId).slice(0, 8);
  return t.label ? `${id} (${t.label})` : id;
}

function checkDiscriminator(d: unknown): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 4095) {
    throw new SdkError('BAD_INPUT', `the discriminator is a whole number from 0 to 4095, not ${String(d)}`);
  }
  return d;
}

function checkTimeout(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new SdkError('BAD_INPUT', `a timeout is a positive number of ms, not ${String(v)}`);
  }
  return v;
}

function checkLabel(label: unknown, what = 'toy label'): void {
  if (
    typeof label !== 'string' ||
    Buffer.byteLength(label) > 32 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u001f\u007f\ufeff]/.test(label)
  ) {
    throw new SdkError('BAD_NAME', `the ${what} must be at most 32 UTF-8 bytes without control characters`);
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
