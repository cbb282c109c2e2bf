import { describe, expect, it } from 'vitest';
import { Battery } from '../../../firmware-sim/hardware/battery.js';
import { HeartLed } from '../../../firmware-sim/hardware/led.js';
import { Paw } from '../../../firmware-sim/hardware/paw.js';

describe('paw', () => {
  it('reads a quick squeeze as a press and a long one as a hold of its duration', () => {
    const paw = new Paw('listen');
    paw.down(1_000);
    expect(paw.up(1_200)).toEqual({ kind: 'press' });
    paw.down(2_000);
    paw.down(2_500); // bouncing: still the first squeeze
    expect(paw.heldFor(4_000)).toBe(2_000);
    expect(paw.up(5_100)).toEqual({ kind: 'hold', durationMs: 3_100 });
    expect(paw.up(6_000)).toBeUndefined();
  });
});

describe('heart LED', () => {
  it('shows the highest-priority indication and falls back when it is cleared', () => {
    const led = new HeartLed();
    const seen: string[] = [];
    led.onChange((p, layer) => seen.push(`${layer}:${p.mode}`));
    led.set('newMessage', { mode: 'blink', periodMs: 1_000, onMs: 200 }, 0);
    led.set('recording', { mode: 'on' }, 10);
    led.set('pairing', { mode: 'pulse', periodMs: 2_000 }, 20); // below recording: no change shown
    expect(led.shown().layer).toBe('recording');
    led.set('recording', undefined, 30);
    expect(led.shown().layer).toBe('pairing');
    expect(seen).toEqual(['newMessage:blink', 'recording:on', 'pairing:pulse']);
  });

  it('blinks with its period and duty cycle', () => {
    const led = new HeartLed();
    led.set('newMessage', { mode: 'blink', periodMs: 1_000, onMs: 200 }, 5_000);
    expect(led.litAt(5_100)).toBe(true);
    expect(led.litAt(5_300)).toBe(false);
    expect(led.litAt(6_150)).toBe(true);
  });
});

describe('battery', () => {
  it('drains while running and refills while charging, within 0..100', () => {
    const b = new Battery(0, { percent: 50, lifetimeMs: 1_000, chargeMs: 100 });
    expect(b.percent(250)).toBe(25);
    expect(b.percent(10_000)).toBe(0);
    b.setCharging(true, 10_000);
    expect(b.percent(10_050)).toBe(50);
    expect(b.percent(20_000)).toBe(100);
  });
});
