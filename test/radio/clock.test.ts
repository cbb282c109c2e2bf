/** Injected time: the manual virtual clock and the real scheduler. */
import { describe, expect, it } from 'vitest';
import { ManualClock, realScheduler } from '../../radio/clock.js';

describe('ManualClock', () => {
  it('fires timers in due order, equal times in the order they were set, never inside setTimer', () => {
    const clock = new ManualClock({ start: 100 });
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@20'), 20);
    clock.setTimer(() => fired.push('a@10'), 10);
    clock.setTimer(() => fired.push('c@20'), 20);
    clock.setTimer(() => fired.push('now'), 0);
    expect(fired).toEqual([]);
    clock.advance(15);
    expect(fired).toEqual(['now', 'a@10']);
    expect(clock.now()).toBe(115);
    clock.advance(5);
    expect(fired).toEqual(['now', 'a@10', 'b@20', 'c@20']);
  });

  it('advance runs timers set by timers when they fall due within the step; cancel removes them', () => {
    const clock = new ManualClock();
    const at: number[] = [];
    clock.setTimer(() => {
      at.push(clock.now());
      clock.setTimer(() => at.push(clock.now()), 5);
    }, 5);
    const cancelled = clock.setTimer(() => at.push(-1), 7);
    cancelled.cancel();
    cancelled.cancel();
    clock.advance(10);
    expect(at).toEqual([5, 10]);
    expect(clock.pending).toBe(0);
  });

  it('runAll jumps from timer to timer', () => {
    const clock = new ManualClock();
    const at: number[] = [];
    for (const d of [3_000, 10, 500]) clock.setTimer(() => at.push(clock.now()), d);
    expect(clock.runAll()).toBe(3);
    expect(at).toEqual([10, 500, 3_000]);
  });

  it('in auto mode runs timers by itself, letting promise chains settle between them', async () => {
    const clock = new ManualClock({ auto: true });
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimer(r, ms));
    const log: string[] = [];
    const a = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        log.push(`a${clock.now()}`);
      }
    })();
    const b = (async () => {
      await sleep(15);
      log.push(`b${clock.now()}`);
      await Promise.resolve();
      await sleep(0);
      log.push(`b${clock.now()}`);
    })();
    await Promise.all([a, b]);
    expect(log).toEqual(['a10', 'b15', 'b15', 'a20', 'a30']);
  });
});

describe('realScheduler', () => {
  it('fires a timer later and not after cancel', async () => {
    const fired: string[] = [];
    realScheduler.setTimer(() => fired.push('cancelled'), 1).cancel();
    await new Promise<void>((r) => realScheduler.setTimer(r, 2));
    await new Promise<void>((r) => setTimeout(r, 5));
    expect(fired).toEqual([]);
    expect(realScheduler.now()).toBeGreaterThan(0);
  });
});
