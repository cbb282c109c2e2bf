/**
 * Small helpers shared by the link implementations (not part of the public API).
 */
import { RadioError } from './errors.js';
import type { RadioErrorCode, Unsubscribe } from './link.js';

export function radioError(code: RadioErrorCode, message: string, cause?: unknown): RadioError {
  return new RadioError(code, message, cause === undefined ? undefined : { cause });
}

/** 'A4990001-4BFD-…' and 'a49900014bfd…' compare equal after this (noble's form: lower case, no dashes). */
export function normalizeUuid(uuid: string): string {
  return uuid.replaceAll('-', '').toLowerCase();
}

/** Runs `fn`; an exception from it is re-thrown on its own turn, so the caller's state stays whole. */
function callSafely(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** A set of listeners, called in the order they were added. */
export class Listeners<A extends unknown[]> {
  #list: Array<(...args: A) => void> = [];

  get size(): number {
    return this.#list.length;
  }

  add(listener: (...args: A) => void): Unsubscribe {
    this.#list.push(listener);
    return () => {
      const i = this.#list.indexOf(listener);
      if (i >= 0) this.#list.splice(i, 1);
    };
  }

  emit(...args: A): void {
    for (const l of [...this.#list]) callSafely(() => l(...args));
  }

  clear(): void {
    this.#list = [];
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  settled: boolean;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve(v) {
      if (d.settled) return;
      d.settled = true;
      resolve(v);
    },
    reject(e) {
      if (d.settled) return;
      d.settled = true;
      reject(e);
    },
  };
  // A rejection nobody awaits (a pending operation failed by a disconnect) is not an error.
  promise.catch(() => {});
  return d;
}

/**
 * A push-driven async iterable with one consumer: `push` values, then `end()` or `fail(e)`.
 * `onReturn` runs once when the consumer stops early or the stream ends.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #values: T[] = [];
  #waiter: Deferred<IteratorResult<T>> | undefined;
  #done = false;
  #error: unknown;
  #onFinish: (() => void) | undefined;

  constructor(onFinish?: () => void) {
    this.#onFinish = onFinish;
  }

  get finished(): boolean {
    return this.#done;
  }

  push(value: T): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value, done: false });
    } else {
      this.#values.push(value);
    }
  }

  end(): void {
    this.#finish(undefined);
  }

  fail(error: unknown): void {
    this.#finish(error ?? new Error('failed'));
  }

  #finish(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    const onFinish = this.#onFinish;
    this.#onFinish = undefined;
    if (onFinish) callSafely(onFinish);
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) {
      if (error !== undefined && this.#values.length === 0) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const value = this.#values.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (this.#done) {
          if (this.#error !== undefined) {
            const e = this.#error;
            this.#error = undefined;
            return Promise.reject(e);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        this.#waiter = deferred<IteratorResult<T>>();
        return this.#waiter.promise;
      },
      return: () => {
        this.#values = [];
        this.#finish(undefined);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
