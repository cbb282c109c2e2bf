/**
 * Time for the radio layer, injected: the in-memory link and the drivers never call `setTimeout`
 * or `performance.now()` themselves, they take a `Scheduler`.
 *
 * - `realScheduler`: the process's monotonic clock and timers (the BLE adapters run on it).
 * - `ManualClock`: virtual time. Tests advance it explicitly (`advance`, `runAll`), or let it run
 *   by itself (`auto`): it then jumps from one due timer to the next as fast as the event loop
 *   turns, letting promise chains settle between timers, so a 60-second exchange in virtual time
 *   takes a few milliseconds of wall time and is exactly reproducible.
 */

/** A pending timer; `cancel` is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Milliseconds on a monotonic clock (any origin). */
  now(): number;
  /** Calls `fn` once, `delayMs` (≥ 0) from now, on a later turn of the event loop. */
  setTimer(fn: () => void, delayMs: number): Timer;
}

/** Wall-clock time: `performance.now()` and Node's timers. */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer(fn, delayMs) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface ManualClockOptions {
  /** Virtual time at creation, ms (default 0). */
  start?: number;
  /** Run timers by itself, one per event-loop turn (default false: only `advance`/`runAll` run them). */
  auto?: boolean;
}

/**
 * Virtual time. Timers fire in (due time, creation order) order; a timer set for "now" or the
 * past fires on the next step, never inside `setTimer`.
 */
export class ManualClock implements Scheduler {
  #now: number;
  #seq = 0;
  #entries: Entry[] = [];
  #auto: boolean;
  #pumpScheduled = false;

  constructor(options: ManualClockOptions = {}) {
    this.#now = options.start ?? 0;
    this.#auto = options.auto ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#entries.length;
  }

  setTimer(fn: () => void, delayMs: number): Timer {
    const entry: Entry = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    // Keep the list sorted by (at, seq): insert after every entry due no later.
    let i = this.#entries.length;
    while (i > 0 && this.#entries[i - 1]!.at > entry.at) i--;
    this.#entries.splice(i, 0, entry);
    this.#schedulePump();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        const k = this.#entries.indexOf(entry);
        if (k >= 0) this.#entries.splice(k, 1);
      },
    };
  }

  /** Fires the next timer (moving time to it). Returns false when none is pending. */
  step(): boolean {
    const entry = this.#entries.shift();
    if (!entry) return false;
    entry.cancelled = true;
    this.#now = Math.max(this.#now, entry.at);
    entry.fn();
    return true;
  }

  /** Moves time forward by `ms`, firing every timer due by then (including ones they set). */
  advance(ms: number): void {
    const end = this.#now + Math.max(0, ms);
    while (this.#entries.length > 0 && this.#entries[0]!.at <= end) this.step();
    this.#now = end;
  }

  /** Fires timers until none is left, or `maxSteps` of them have fired. Returns the count fired. */
  runAll(maxSteps = 1_000_000): number {
    let n = 0;
    while (n < maxSteps && this.step()) n++;
    return n;
  }

  /** Starts or stops running timers by itself (see the module comment). */
  setAuto(auto: boolean): void {
    this.#auto = auto;
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (!this.#auto || this.#pumpScheduled || this.#entries.length === 0) return;
    this.#pumpScheduled = true;
    // setImmediate runs after the microtask queue has drained: every promise chain a timer started
    // settles before virtual time moves on.
    setImmediate(() => {
      this.#pumpScheduled = false;
      if (!this.#auto) return;
      this.step();
      this.#schedulePump();
    });
  }
}
