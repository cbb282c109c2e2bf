/**
 * Helpers for the flash tests: a small flash geometry (so a power cut can be tried at every byte),
 * a sealer from an in-memory secure element, snapshots of a store's content, and the "cut the power
 * at every byte of this operation, reboot, compare" driver.
 */
import { expect } from 'vitest';
import { FlashError } from '../../firmware-sim/errors.js';
import {
  type FlashSealer,
  FlashStore,
  type FlashStoreOptions,
  MemoryFlash,
} from '../../firmware-sim/flash.js';
import { SecureElement } from '../../firmware-sim/secure-element.js';
import { toHex } from '../../protocol/bytes.js';
import { type RandomSource, seededRandom } from '../../protocol/random.js';

/** 64 pages of 256 bytes, 2 index slots of 2 pages: 60 data pages (15 KiB). */
export const SMALL = { size: 64 * 256, pageSize: 256 } as const;
export const SMALL_LAYOUT: FlashStoreOptions = { slotCount: 2, slotPages: 2 };

/** One random stream per test: nonces never repeat across the reboots a test makes. */
export function testSealer(
  seed = 'device key',
  random: RandomSource = seededRandom(`nonces ${seed}`),
): FlashSealer {
  return SecureElement.inMemory(seededRandom(seed)(32)).flashSealer(random);
}

export function bytesOf(seed: string, length: number): Uint8Array {
  return seededRandom(seed)(length);
}

/** Every key and value of a store, values as hex. */
export function snapshot(store: FlashStore): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of store.keys()) out[k] = toHex(store.get(k)!);
  return out;
}

/** A "reboot": a new device on the dumped image, and the store mounted on it. */
export function reboot(
  device: MemoryFlash,
  sealer: FlashSealer,
  layout: FlashStoreOptions = SMALL_LAYOUT,
): { device: MemoryFlash; store: FlashStore } {
  const next = new MemoryFlash({ image: device.dump(), pageSize: device.pageSize });
  return { device: next, store: FlashStore.open(next, sealer, layout) };
}

export interface CutResult {
  /** Flash units the operation writes when nothing fails. */
  units: number;
  /** How many cut points left the state before / after the operation. */
  before: number;
  after: number;
}

/**
 * Runs `op` on a store mounted on `image` once without a fault (to learn the expected state and
 * the number of units written), then once per unit with the power cut at that unit: the reopened
 * store must hold exactly the state before or the state after, and accept a further commit.
 */
export function cutEverywhere(
  image: Uint8Array,
  pageSize: number,
  sealer: FlashSealer,
  op: (store: FlashStore) => void,
  options: { layout?: FlashStoreOptions; step?: number } = {},
): CutResult {
  const layout = options.layout ?? SMALL_LAYOUT;
  const mount = () => {
    const device = new MemoryFlash({ image, pageSize });
    return { device, store: FlashStore.open(device, sealer, layout) };
  };
  const clean = mount();
  const before = snapshot(clean.store);
  const start = clean.device.bytesWritten;
  op(clean.store);
  const units = clean.device.bytesWritten - start;
  const after = snapshot(clean.store);
  expect(after).not.toEqual(before);
  const result: CutResult = { units, before: 0, after: 0 };
  for (let cut = 0; cut < units; cut += options.step ?? 1) {
    const { device, store } = mount();
    device.cutPowerAfter(cut);
    let thrown: unknown;
    try {
      op(store);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(FlashError);
    expect((thrown as FlashError).code).toBe('POWER_CUT');
    const rebooted = reboot(device, sealer, layout);
    const state = snapshot(rebooted.store);
    if (JSON.stringify(state) === JSON.stringify(before)) result.before++;
    else if (JSON.stringify(state) === JSON.stringify(after)) result.after++;
    else
      expect.fail(`a power cut after ${cut} of ${units} units left a state that is neither before nor after`);
    // The rebooted store works: a new commit lands and survives another reboot.
    rebooted.store.put('after-reboot', Uint8Array.of(cut & 0xff));
    expect(reboot(rebooted.device, sealer, layout).store.get('after-reboot')).toEqual(
      Uint8Array.of(cut & 0xff),
    );
  }
  return result;
}

/** A fresh small device with a store on it, optionally filled. */
export function smallStore(
  sealer: FlashSealer,
  fill: (store: FlashStore) => void = () => {},
): { device: MemoryFlash; store: FlashStore } {
  const device = new MemoryFlash(SMALL);
  const store = FlashStore.open(device, sealer, SMALL_LAYOUT);
  fill(store);
  return { device, store };
}
