/**
 * Small helpers of the SDK (not part of its public API): turning what the lower layers throw into
 * `SdkError`s with one-line messages, the texts for the toy's application error codes, a promise
 * with its settle functions, and an async queue for `ToySession.events()`.
 */
import { randomBytes } from 'node:crypto';
import { toHex } from '../protocol/bytes.js';
import { PawLinkError } from '../protocol/errors.js';
import type { AppErrorCode } from '../protocol/messages/index.js';
import type { RandomSource } from '../protocol/random.js';
import { SdkError } from './errors.js';

/** The OS CSPRNG as a RandomSource. */
export const systemRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));

/** First line only: an error message is one line for a person, never a stack. */
export function oneLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/**
 * Any error as an `SdkError`: an SdkError as it is; another PawLinkError (radio, audio, pairing,
 * session...) with the same code and message, the original as `cause`; anything else (a bug) as
 * INTERNAL with its message.
 */
export function asSdkError(e: unknown): SdkError {
  if (e instanceof SdkError) return e;
  if (e instanceof PawLinkError) return new SdkError(e.code, oneLine(e.message), { cause: e });
  const message = e instanceof Error ? e.message : String(e);
  return new SdkError('INTERNAL', `internal error: ${oneLine(message)}`, { cause: e });
}

/** What each application error code (PROTOCOL.md §8) means for the app's user. */
const APP_ERROR_TEXT: Record<AppErrorCode, string> = {
  BAD_REQUEST: 'the toy could not read the request (an SDK/toy version mismatch?)',
  UNSUPPORTED: 'this toy does not support that request',
  NOT_ADMIN: "only an admin phone may do that: this phone is a member of the toy's family",
  NOT_FOUND: 'the toy has no such message or pairing',
  STORAGE_FULL: "the toy's storage is full: delete some messages first",
  BUSY: 'the toy is busy (a recording, or a factory reset waiting for its paw confirmation): try again shortly',
  WINDOW_ALREADY_OPEN: "the toy's pairing window is already open",
  PAIRINGS_FULL: 'the toy already has 16 paired phones: remove one first',
  PAIRING_LOCKED: 'pairing is locked on this toy (too many wrong codes): only a factory reset unlocks it',
  INTERNAL: 'the toy failed internally; nothing was changed',
};

/** The SdkError for an `Error` response from the toy (code = the application error code). */
export function appError(code: AppErrorCode, what: string, detail?: string): SdkError {
  const text = APP_ERROR_TEXT[code] ?? `the toy answered ${code}`;
  return new SdkError(code, `${what}: ${text}${detail ? ` (${oneLine(detail)})` : ''}`);
}

/** What each pairing failure (PairingError code) means for the person holding the toy. */
const PAIRING_TEXT: Record<string, string> = {
  BAD_CONFIRMATION:
    "wrong setup code: check the 8 digits on the toy's tag (every wrong try counts against the toy's limit)",
  BUSY: 'another phone is pairing with the toy right now: try again in a minute',
  WINDOW_CLOSED:
    "the toy's pairing window closed: hold the toy's listen paw for 3 s (the heart pulses) and try again",
  LOCKED: 'pairing is locked on this toy (too many wrong codes): only a factory reset unlocks it',
  TABLE_FULL: 'the toy already has 16 paired phones: an admin must remove one first',
  TIMEOUT: 'pairing took too long (over 30 s): try again closer to the toy',
  UNSUPPORTED_VERSION: 'the toy speaks another pairing version: update the app or the toy',
  INVALID_MESSAGE: 'the toy refused a pairing message (a radio problem or an impostor): try again',
  ABORTED: 'the pairing was cancelled',
  DECRYPT_FAILED: "the toy's identity did not verify (an impostor?): pairing refused",
};

export function pairingError(e: PawLinkError): SdkError {
  const text = PAIRING_TEXT[e.code];
  return new SdkError(e.code, text ?? `pairing failed: ${oneLine(e.message)}`, { cause: e });
}

export function hex(bytes: Uint8Array): string {
  return toHex(bytes);
}

/** Parses lowercase or uppercase hex of exactly `length` bytes; undefined if it is not that. */
export function parseHex(text: string, length: number): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length !== length * 2 || !/^[0-9a-fA-F]*$/.test(text))
    return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (the caller went away) must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** An unbounded async queue: `push` values, `end` it; iterate it once. */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiting: Deferred<IteratorResult<T>> | undefined;
  #ended = false;
  readonly #onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn;
  }

  push(value: T): void {
    if (this.#ended) return;
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.resolve({ value, done: false });
    } else this.#items.push(value);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    this.#waiting = deferred();
    return this.#waiting.promise;
  }

  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.end();
    this.#onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
