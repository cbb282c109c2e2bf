/**
 * Simulated time for the virtual radio: a discrete-event scheduler with a time scale.
 *
 * Every controller action (a command's answer, an advertising event, a connection event, a
 * supervision timeout) is a task at a simulated time in ms. Tasks run in time order; tasks at one
 * time run together, and the scheduler yields to the event loop (setImmediate) before the next
 * time, so the hosts react — queue data, send the next command — between two connection events as
 * they would between two radio events.
 *
 * - `timeScale: 1` (default): simulated time is wall-clock time; a 15 ms interval takes 15 ms.
 * - `timeScale: s` in (0, 1): a task at simulated time t runs at wall time s·t (0.01 = 100× faster);
 *   when the process falls behind, tasks run back to back. The hosts' own computing time counts, scaled.
 * - `timeScale: 0`: virtual time. Tasks run as fast as the hosts answer and simulated time moves
 *   only from task to task, so host computing takes no simulated time: measurements do not depend
 *   on the machine. For tests and benchmarks of the link model.
 *
 * Timers are unref'd: the scheduler never waits for a future task in a process with nothing else
 * to do (the virtual HCI sockets keep a process alive while started, as a real socket's poll
 * handle does). Tasks due now run from a ref'd setImmediate, which ends once they have run.
 */
import { clearImmediate, clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { RadioError } from '../errors.js';

export interface Clock {
  /** Simulated time, ms since the scheduler started. */
  now(): number;
}

interface Task {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export interface Scheduled {
  cancel(): void;
}

export class Scheduler implements Clock {
  readonly timeScale: number;
  private readonly heap: Task[] = [];
  private seq = 0;
  private simNow = 0;
  private readonly wallOrigin = performance.now();
  private dispatching = false;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(timeScale = 1) {
    if (!(timeScale >= 0 && timeScale <= 1)) {
      throw new RadioError(
        'BAD_TIME_SCALE',
        `time scale ${timeScale} is not in 0..1 (1 = real pace, 0 = virtual)`,
      );
    }
    this.timeScale = timeScale;
  }

  now(): number {
    if (this.timeScale === 0 || this.dispatching) return this.simNow;
    return Math.max(this.simNow, (performance.now() - this.wallOrigin) / this.timeScale);
  }

  /** Runs `run` at simulated time `time` (or now, if `time` has passed). */
  at(time: number, run: () => void): Scheduled {
    const task: Task = { time: Math.max(time, this.now()), seq: this.seq++, run, cancelled: false };
    if (this.closed) return { cancel() {} };
    this.push(task);
    if (!this.dispatching && task.time < this.armedFor) this.arm();
    return {
      cancel: () => {
        task.cancelled = true;
      },
    };
  }

  after(delayMs: number, run: () => void): Scheduled {
    return this.at(this.now() + delayMs, run);
  }

  /** `after` in the shape of radio/clock.ts's Scheduler, so the air's clock can drive the drivers. */
  setTimer(run: () => void, delayMs: number): Scheduled {
    return this.after(Math.max(0, delayMs), run);
  }

  /** True when no task is pending. */
  get idle(): boolean {
    return this.heap.every((t) => t.cancelled);
  }

  /** Drops every pending task; later `at` calls do nothing. */
  close(): void {
    this.closed = true;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    const next = this.heap[0];
    if (!next || this.closed) return;
    this.armedFor = next.time;
    const wallDelay =
      this.timeScale === 0 ? 0 : next.time * this.timeScale - (performance.now() - this.wallOrigin);
    if (wallDelay <= 0) {
      // Ref'd: an unref'd immediate would wait for some other event to wake the loop.
      this.immediate = setImmediate(() => this.tick());
    } else {
      this.timer = setTimeout(() => this.tick(), wallDelay);
      this.timer.unref();
    }
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private tick(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const first = this.heap[0];
    if (!first) return;
    if (this.timeScale > 0 && first.time * this.timeScale > performance.now() - this.wallOrigin + 0.5) {
      this.arm(); // a timer fired early
      return;
    }
    const time = first.time;
    this.simNow = Math.max(this.simNow, time);
    this.dispatching = true;
    try {
      // Tasks the hosts add at this same time (answers to answers) run in this turn too.
      while (this.heap.length > 0 && this.heap[0]!.time <= time) {
        const task = this.pop();
        if (!task.cancelled) task.run();
      }
    } finally {
      this.dispatching = false;
      this.arm();
    }
  }

  private push(task: Task): void {
    const h = this.heap;
    h.push(task);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Task {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Task, b: Task): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
