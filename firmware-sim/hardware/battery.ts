/**
 * The battery: a simple model so Status has something true to say. It drains linearly while the
 * toy runs (a full charge lasts `lifetimeMs` of simulated time) and refills while charging.
 */
export interface BatteryOptions {
  /** Percent at start, 0–100 (default 100). */
  percent?: number;
  /** Simulated time a full charge lasts, ms (default 14 days: 3 × AA cells in a toy that mostly sleeps). */
  lifetimeMs?: number;
  /** Simulated time from empty to full, ms (default 3 h). */
  chargeMs?: number;
}

export class Battery {
  #percent: number;
  #at: number;
  #charging = false;
  readonly #lifetimeMs: number;
  readonly #chargeMs: number;

  constructor(now: number, options: BatteryOptions = {}) {
    this.#percent = Math.min(100, Math.max(0, options.percent ?? 100));
    this.#at = now;
    this.#lifetimeMs = options.lifetimeMs ?? 14 * 24 * 3_600_000;
    this.#chargeMs = options.chargeMs ?? 3 * 3_600_000;
  }

  #advance(now: number): void {
    const dt = Math.max(0, now - this.#at);
    this.#at = now;
    const delta = this.#charging ? (100 * dt) / this.#chargeMs : (-100 * dt) / this.#lifetimeMs;
    this.#percent = Math.min(100, Math.max(0, this.#percent + delta));
  }

  /** Whole percent at `now`. */
  percent(now: number): number {
    this.#advance(now);
    return Math.round(this.#percent);
  }

  get charging(): boolean {
    return this.#charging;
  }

  setCharging(charging: boolean, now: number): void {
    this.#advance(now);
    this.#charging = charging;
  }
}
