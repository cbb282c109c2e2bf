/**
 * The heart LED. Several indications may want it at once; the one with the highest priority shows
 * (PROTOCOL.md §8 "LED priorities"): recording > factory reset pending > pairing window > identify >
 * new message > the base mode the app set. Each indication is a pattern; `litAt(now)` says whether
 * the LED is on.
 */
export type LedPattern =
  | { mode: 'off' }
  | { mode: 'on' }
  /** On for `onMs` of every `periodMs`. */
  | { mode: 'blink'; periodMs: number; onMs: number }
  /** Breathing: brightness rises and falls over `periodMs`; "lit" while above half. */
  | { mode: 'pulse'; periodMs: number };

/** Indications, highest priority first. */
export const LED_LAYERS = ['recording', 'resetPending', 'pairing', 'identify', 'newMessage', 'base'] as const;
export type LedLayer = (typeof LED_LAYERS)[number];

export class HeartLed {
  #layers = new Map<LedLayer, LedPattern>([['base', { mode: 'off' }]]);
  #since = 0;
  #listeners: Array<(pattern: LedPattern, layer: LedLayer) => void> = [];

  /** Sets (or with undefined clears) one indication. The base layer is never cleared, only set. */
  set(layer: LedLayer, pattern: LedPattern | undefined, now: number): void {
    const before = this.shown();
    if (pattern === undefined && layer !== 'base') this.#layers.delete(layer);
    else if (pattern !== undefined) this.#layers.set(layer, pattern);
    const after = this.shown();
    if (before.layer !== after.layer || JSON.stringify(before.pattern) !== JSON.stringify(after.pattern)) {
      this.#since = now;
      for (const l of this.#listeners) l(after.pattern, after.layer);
    }
  }

  /** The indication showing now. */
  shown(): { layer: LedLayer; pattern: LedPattern } {
    for (const layer of LED_LAYERS) {
      const pattern = this.#layers.get(layer);
      if (pattern) return { layer, pattern };
    }
    return { layer: 'base', pattern: { mode: 'off' } };
  }

  has(layer: LedLayer): boolean {
    return this.#layers.has(layer);
  }

  /** Whether the LED is lit at `now`. */
  litAt(now: number): boolean {
    const { pattern } = this.shown();
    const t = Math.max(0, now - this.#since);
    switch (pattern.mode) {
      case 'off':
        return false;
      case 'on':
        return true;
      case 'blink':
        return t % pattern.periodMs < pattern.onMs;
      case 'pulse':
        return Math.sin((2 * Math.PI * (t % pattern.periodMs)) / pattern.periodMs - Math.PI / 2) > 0;
    }
  }

  /** Called whenever the showing indication changes. */
  onChange(listener: (pattern: LedPattern, layer: LedLayer) => void): void {
    this.#listeners.push(listener);
  }
}

/** A short human description, for the simulator's status line. */
export function describeLed(p: LedPattern): string {
  switch (p.mode) {
    case 'off':
    case 'on':
      return p.mode;
    case 'blink':
      return `blink ${p.onMs}/${p.periodMs} ms`;
    case 'pulse':
      return `pulse ${p.periodMs} ms`;
  }
}
