/**
 * A paw: a squeeze switch. The toy's behaviour reads it as a press (released quickly) or a hold
 * (released after a while, or still held past a threshold). Time comes from the caller.
 */
export type PawName = 'listen' | 'record';

/** Released within this time: a press. Longer: a hold of that duration. Milliseconds. */
export const PRESS_MAX_MS = 1_000;

export type PawRelease = { kind: 'press' } | { kind: 'hold'; durationMs: number };

export class Paw {
  #downAt: number | undefined;

  constructor(readonly name: PawName) {}

  get isDown(): boolean {
    return this.#downAt !== undefined;
  }

  /** How long the paw has been held at `now` (0 when up). */
  heldFor(now: number): number {
    return this.#downAt === undefined ? 0 : Math.max(0, now - this.#downAt);
  }

  /** The paw is squeezed. A second `down` without an `up` changes nothing. */
  down(now: number): void {
    this.#downAt ??= now;
  }

  /** The paw is let go: what the squeeze was, or undefined if it was not down. */
  up(now: number): PawRelease | undefined {
    if (this.#downAt === undefined) return undefined;
    const durationMs = Math.max(0, now - this.#downAt);
    this.#downAt = undefined;
    return durationMs < PRESS_MAX_MS ? { kind: 'press' } : { kind: 'hold', durationMs };
  }
}
