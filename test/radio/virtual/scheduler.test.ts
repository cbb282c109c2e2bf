import { describe, expect, it } from 'vitest';
import { RadioError } from '../../../radio/errors.js';
import { Scheduler } from '../../../radio/virtual/index.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('scheduler', () => {
  it('runs tasks in time order, ties in the order they were added, on later turns of the event loop', async () => {
    const s = new Scheduler(0);
    const ran: string[] = [];
    s.at(30, () => ran.push('c'));
    s.at(10, () => ran.push('a'));
    s.at(10, () => ran.push('b'));
    s.after(0, () => ran.push('now'));
    expect(ran).toEqual([]);
    while (!s.idle) await turn();
    expect(ran).toEqual(['now', 'a', 'b', 'c']);
    expect(s.now()).toBe(30);
  });

  it('in virtual time, simulated time moves only from task to task', async () => {
    const s = new Scheduler(0);
    const seen: number[] = [];
    s.at(60_000, () => seen.push(s.now()));
    const cancelled = s.at(5, () => seen.push(-1));
    cancelled.cancel();
    while (!s.idle) await turn();
    expect(seen).toEqual([60_000]);
  });

  it('at a time scale, simulated time follows the wall clock scaled, and tasks still run in order', async () => {
    const s = new Scheduler(0.01);
    const ran: number[] = [];
    const done = new Promise<void>((resolve) => {
      s.after(500, () => ran.push(2));
      s.after(100, () => ran.push(1));
      s.after(900, () => resolve());
    });
    await done;
    expect(ran).toEqual([1, 2]);
    expect(s.now()).toBeGreaterThanOrEqual(900);
  });

  it('refuses a time scale outside 0..1, and does nothing once closed', () => {
    expect(() => new Scheduler(2)).toThrow(RadioError);
    const s = new Scheduler(0);
    s.close();
    s.at(1, () => {
      throw new Error('ran after close');
    });
    expect(s.idle).toBe(true);
  });
});
