/**
 * The simulated NOR flash (device rules, power cuts, the image file) and the encrypted key-value
 * store on it: round trips, large values, capacity, atomic commits under a power cut at every byte,
 * tampering, wrong key, and what a dump of the flash reveals.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FlashError } from '../../firmware-sim/errors.js';
import { FileFlash, FlashStore, INDEX_HEADER_LEN, MemoryFlash } from '../../firmware-sim/flash.js';
import { bytesEqual } from '../../protocol/bytes.js';
import {
  bytesOf,
  cutEverywhere,
  reboot,
  SMALL,
  SMALL_LAYOUT,
  smallStore,
  snapshot,
  testSealer,
} from './flash-helpers.js';

function flashError(run: () => unknown): FlashError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(FlashError);
    return e as FlashError;
  }
  return expect.fail('expected a FlashError');
}

/** Does `haystack` contain any `window`-byte slice of `needle`? */
function containsAnySlice(haystack: Uint8Array, needle: Uint8Array, window = 16): boolean {
  const h = Buffer.from(haystack);
  for (let at = 0; at + window <= needle.length; at += window) {
    if (h.indexOf(Buffer.from(needle.subarray(at, at + window))) >= 0) return true;
  }
  return false;
}

describe('MemoryFlash: the device rules', () => {
  it('starts erased, programs erased bytes, and refuses to program a byte twice without changing anything', () => {
    const f = new MemoryFlash(SMALL);
    expect(f.read(0, 4)).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    f.program(10, Uint8Array.of(1, 2, 3));
    expect(f.read(9, 5)).toEqual(Uint8Array.of(0xff, 1, 2, 3, 0xff));
    const before = f.dump();
    expect(flashError(() => f.program(8, Uint8Array.of(9, 9, 9))).code).toBe('NOT_ERASED');
    expect(f.dump()).toEqual(before);
    f.erase(0);
    expect(f.read(10, 3)).toEqual(Uint8Array.of(0xff, 0xff, 0xff));
    f.program(10, Uint8Array.of(7));
    expect(f.read(10, 1)).toEqual(Uint8Array.of(7));
  });

  it('refuses reads, programs and erases outside the device', () => {
    const f = new MemoryFlash(SMALL);
    expect(flashError(() => f.read(SMALL.size - 1, 2)).code).toBe('OUT_OF_BOUNDS');
    expect(flashError(() => f.program(-1, Uint8Array.of(1))).code).toBe('OUT_OF_BOUNDS');
    expect(flashError(() => f.erase(64)).code).toBe('OUT_OF_BOUNDS');
    expect(flashError(() => new MemoryFlash({ size: 1000, pageSize: 256 })).code).toBe('BAD_GEOMETRY');
    expect(flashError(() => new MemoryFlash({ size: 4096, pageSize: 100 })).code).toBe('BAD_GEOMETRY');
  });

  it('a power cut mid-program keeps the bytes before it, half-programs one byte, and leaves the device off until a reboot', () => {
    const f = new MemoryFlash(SMALL);
    f.cutPowerAfter(3);
    expect(flashError(() => f.program(0, Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05))).code).toBe(
      'POWER_CUT',
    );
    const image = f.dump();
    expect([...image.subarray(0, 6)]).toEqual([0x01, 0x02, 0x03, 0xf4, 0xff, 0xff]);
    expect(f.poweredOff).toBe(true);
    expect(flashError(() => f.read(0, 1)).code).toBe('POWER_CUT');
    expect(flashError(() => f.erase(1)).code).toBe('POWER_CUT');
    const rebooted = new MemoryFlash({ image, pageSize: SMALL.pageSize });
    expect(rebooted.read(0, 3)).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('a power cut mid-erase leaves the page partly erased, counted in bytes like a program', () => {
    const f = new MemoryFlash(SMALL);
    f.program(256, new Uint8Array(256));
    const start = f.bytesWritten;
    f.cutPowerAfter(100);
    expect(flashError(() => f.erase(1)).code).toBe('POWER_CUT');
    expect(f.bytesWritten - start).toBe(100);
    const page = f.dump().subarray(256, 512);
    expect(page.subarray(0, 100).every((b) => b === 0xff)).toBe(true);
    expect(page[100]).toBe(0x0f);
    expect(page.subarray(101).every((b) => b === 0)).toBe(true);
  });
});

describe('FileFlash: the image file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an erased image of the flash size with mode 0600 and keeps writes across reopening', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-flash-'));
    const path = join(dir, 'flash.bin');
    const f = FileFlash.open(path, SMALL);
    expect(statSync(path).size).toBe(SMALL.size);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    f.program(300, Uint8Array.of(42, 43));
    f.sync();
    f.close();
    const g = FileFlash.open(path, SMALL);
    expect(g.read(299, 4)).toEqual(Uint8Array.of(0xff, 42, 43, 0xff));
    g.close();
  });

  it('refuses an image of another size instead of using it', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-flash-'));
    const path = join(dir, 'flash.bin');
    FileFlash.open(path, SMALL).close();
    expect(flashError(() => FileFlash.open(path, { size: SMALL.size * 2, pageSize: 256 })).code).toBe(
      'IMAGE_SIZE_MISMATCH',
    );
    expect(statSync(path).size).toBe(SMALL.size);
  });

  it('keeps a torn write in the file after a power cut; the same process reopens it (a reboot)', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-flash-'));
    const path = join(dir, 'flash.bin');
    const f = FileFlash.open(path, SMALL);
    f.cutPowerAfter(2);
    expect(flashError(() => f.program(0, Uint8Array.of(1, 2, 3, 4))).code).toBe('POWER_CUT');
    const g = FileFlash.open(path, SMALL);
    expect([...g.read(0, 4)]).toEqual([1, 2, 0xf3, 0xff]);
    g.close();
  });

  it('refuses an image locked by another running process, and takes over the lock of a dead one', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-flash-'));
    const path = join(dir, 'flash.bin');
    writeFileSync(`${path}.lock`, String(process.ppid));
    expect(flashError(() => FileFlash.open(path, SMALL)).code).toBe('STATE_IN_USE');
    const deadPid = Number(
      execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']),
    );
    writeFileSync(`${path}.lock`, String(deadPid));
    const f = FileFlash.open(path, SMALL);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    f.close();
  });
});

describe('FlashStore: values', () => {
  it('round-trips puts, overwrites, deletes, batches and prefix listings, also after a reboot', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer);
    const big = bytesOf('big', 1500);
    store.put('a/small', Uint8Array.of(1, 2, 3));
    store.put('a/big', big);
    store.put('b/empty', new Uint8Array(0));
    store.put('a/small', Uint8Array.of(4));
    store.batch([
      { op: 'put', key: 'c/x', value: Uint8Array.of(9) },
      { op: 'delete', key: 'b/empty' },
      { op: 'put', key: 'c/y', value: big.subarray(0, 700) },
    ]);
    store.delete('missing');
    expect(store.keys()).toEqual(['a/big', 'a/small', 'c/x', 'c/y']);
    expect(store.keys('a/')).toEqual(['a/big', 'a/small']);
    expect(store.get('a/small')).toEqual(Uint8Array.of(4));
    expect(store.get('a/big')).toEqual(big);
    expect(store.get('b/empty')).toBeUndefined();
    expect(store.valueLength('c/y')).toBe(700);
    const after = reboot(device, sealer).store;
    expect(snapshot(after)).toEqual(snapshot(store));
  });

  it('applies the last op on a key within a batch and writes nothing for a batch that changes nothing', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer);
    store.batch([
      { op: 'put', key: 'k', value: Uint8Array.of(1) },
      { op: 'delete', key: 'k' },
      { op: 'put', key: 'k', value: Uint8Array.of(2) },
    ]);
    expect(store.get('k')).toEqual(Uint8Array.of(2));
    const written = device.bytesWritten;
    store.batch([{ op: 'delete', key: 'absent' }]);
    store.batch([]);
    expect(device.bytesWritten).toBe(written);
  });

  it('stores a 400 kB value (larger than a voice container) in whole pages on a 16 MiB flash', () => {
    const sealer = testSealer();
    const device = new MemoryFlash();
    const store = FlashStore.open(device, sealer);
    const value = bytesOf('400k', 400_000);
    const free = store.stats().freePages;
    store.put('msg/1', value);
    expect(store.stats().freePages).toBe(free - Math.ceil((400_000 + 28) / 4096));
    expect(store.stats().totalBytes).toBe((4096 - 4 * 16) * 4096);
    expect(bytesEqual(reboot(device, sealer, {}).store.get('msg/1')!, value)).toBe(true);
  });

  it('refuses a commit that does not fit with FULL and leaves the flash byte for byte unchanged', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer, (s) => s.put('keep', bytesOf('keep', 2000)));
    const image = device.dump();
    const state = snapshot(store);
    const free = store.stats().freeBytes;
    const e = flashError(() =>
      store.batch([
        { op: 'put', key: 'x', value: Uint8Array.of(1) },
        { op: 'put', key: 'too-big', value: new Uint8Array(free) },
      ]),
    );
    expect(e.code).toBe('FULL');
    expect(device.dump()).toEqual(image);
    expect(snapshot(store)).toEqual(state);
    store.put('fits', new Uint8Array(free - 28)); // exactly the free pages, sealed
    expect(store.stats().freePages).toBe(0);
  });

  it('refuses a commit whose index would overflow its slot with INDEX_FULL, changing nothing', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer);
    const image = device.dump();
    const many = Array.from({ length: 20 }, (_, i) => ({
      op: 'put' as const,
      key: `inline/${i}`,
      value: new Uint8Array(60),
    }));
    expect(flashError(() => store.batch(many)).code).toBe('INDEX_FULL');
    expect(device.dump()).toEqual(image);
  });

  it('refuses bad keys and values with typed errors', () => {
    const { store } = smallStore(testSealer());
    expect(flashError(() => store.put('', Uint8Array.of(1))).code).toBe('BAD_KEY');
    expect(flashError(() => store.put('x'.repeat(256), Uint8Array.of(1))).code).toBe('BAD_KEY');
    expect(flashError(() => store.put('k', 'text' as unknown as Uint8Array)).code).toBe('BAD_VALUE');
  });
});

describe('FlashStore: a power cut at every byte of a write', () => {
  const sealer = testSealer('cuts');
  const base = smallStore(sealer, (s) => {
    s.put('inline', Uint8Array.of(1, 2, 3));
    s.put('paged', bytesOf('paged', 900));
    s.put('other', bytesOf('other', 400));
  }).device.dump();

  const ops: Array<[string, (s: FlashStore) => void]> = [
    ['a put of a small (inline) value', (s) => s.put('new', Uint8Array.of(7))],
    ['a put of a multi-page value', (s) => s.put('new', bytesOf('new', 1200))],
    ['an overwrite of a multi-page value', (s) => s.put('paged', bytesOf('paged 2', 1000))],
    ['a delete (its pages erased after the commit)', (s) => s.delete('paged')],
    [
      'a batch of puts and deletes',
      (s) =>
        s.batch([
          { op: 'put', key: 'inline', value: Uint8Array.of(9) },
          { op: 'delete', key: 'other' },
          { op: 'put', key: 'b1', value: bytesOf('b1', 600) },
          { op: 'put', key: 'b2', value: Uint8Array.of(5, 5) },
        ]),
    ],
  ];

  for (const [name, op] of ops) {
    it(`${name}: the reopened store holds exactly the state before or after`, () => {
      const r = cutEverywhere(base, SMALL.pageSize, sealer, op);
      expect(r.units).toBeGreaterThan(300);
      expect(r.before).toBeGreaterThan(0);
      expect(r.after).toBeGreaterThan(0);
      expect(r.before + r.after).toBe(r.units);
    });
  }

  it('a power cut during the clean-up at mount is finished by the next mount', () => {
    // Leave an interrupted commit (two index slots, garbage pages), then cut the mount's recovery.
    const device = new MemoryFlash({ image: base, pageSize: SMALL.pageSize });
    const store = FlashStore.open(device, sealer, SMALL_LAYOUT);
    const before = snapshot(store);
    device.cutPowerAfter(900);
    expect(() => store.put('big', bytesOf('big', 1500))).toThrow(FlashError);
    const torn = device.dump();
    const probe = new MemoryFlash({ image: torn, pageSize: SMALL.pageSize });
    FlashStore.open(probe, sealer, SMALL_LAYOUT);
    const recoveryUnits = probe.bytesWritten;
    expect(recoveryUnits).toBeGreaterThan(0);
    for (let cut = 0; cut < recoveryUnits; cut += 7) {
      const d = new MemoryFlash({ image: torn, pageSize: SMALL.pageSize });
      d.cutPowerAfter(cut);
      expect(() => FlashStore.open(d, sealer, SMALL_LAYOUT)).toThrow(FlashError);
      expect(snapshot(reboot(d, sealer).store)).toEqual(before);
    }
  });

  it('random sequences of commits, cut at a random byte, reopen to the state before or after the cut commit', () => {
    const op = fc.oneof(
      fc.record({
        op: fc.constant('put' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd/1', 'd/2'),
        size: fc.oneof(fc.nat(90), fc.integer({ min: 91, max: 1600 })),
      }),
      fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd/1', 'd/2') }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (batches, cutSeed) => {
          const s = testSealer('prop');
          const device = new MemoryFlash(SMALL);
          let store = FlashStore.open(device, s, SMALL_LAYOUT);
          const last = batches.length - 1;
          const asOps = (b: (typeof batches)[number], i: number) =>
            b.map((o) =>
              o.op === 'put'
                ? { op: 'put' as const, key: o.key, value: bytesOf(`${i} ${o.key}`, o.size) }
                : { op: 'delete' as const, key: o.key },
            );
          const fits = (run: () => void) => {
            try {
              run();
              return true;
            } catch (e) {
              if (e instanceof FlashError && (e.code === 'FULL' || e.code === 'INDEX_FULL')) return false;
              throw e;
            }
          };
          for (let i = 0; i < last; i++) fits(() => store.batch(asOps(batches[i]!, i)));
          const before = snapshot(store);
          const image = device.dump();
          // Learn the commit's size on a copy, then cut it somewhere inside.
          const probeDevice = new MemoryFlash({ image, pageSize: SMALL.pageSize });
          const probe = FlashStore.open(probeDevice, s, SMALL_LAYOUT);
          if (!fits(() => probe.batch(asOps(batches[last]!, last)))) return;
          const after = snapshot(probe);
          const units = probeDevice.bytesWritten;
          if (units === 0) return;
          const cutDevice = new MemoryFlash({ image, pageSize: SMALL.pageSize });
          store = FlashStore.open(cutDevice, s, SMALL_LAYOUT);
          cutDevice.cutPowerAfter(cutSeed % units);
          expect(() => store.batch(asOps(batches[last]!, last))).toThrow(FlashError);
          const state = snapshot(reboot(cutDevice, s).store);
          expect([JSON.stringify(before), JSON.stringify(after)]).toContain(JSON.stringify(state));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('FlashStore: damage, tampering and keys', () => {
  it('a bit flipped in a value page is detected on read (CORRUPT_VALUE); other values still read', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer, (s) => {
      s.put('victim', bytesOf('victim', 800));
      s.put('other', bytesOf('other', 800));
    });
    const image = device.dump();
    const where = store.locate('victim');
    expect(where?.inline).toBe(false);
    const page = where && !where.inline ? where.pages[0]! : -1;
    image[page * 256 + 40]! ^= 0x01;
    const tampered = FlashStore.open(new MemoryFlash({ image, pageSize: 256 }), sealer, SMALL_LAYOUT);
    expect(flashError(() => tampered.get('victim')).code).toBe('CORRUPT_VALUE');
    expect(tampered.get('other')).toEqual(bytesOf('other', 800));
  });

  it('a value moved to another key does not open: swapping two values pages is detected', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer, (s) => {
      s.put('first', bytesOf('first', 500));
      s.put('second', bytesOf('second', 500));
    });
    const image = device.dump();
    const pagesOf = (key: string) => {
      const where = store.locate(key);
      if (!where || where.inline) return expect.fail(`${key} is not in pages`);
      return where.pages;
    };
    const first = pagesOf('first');
    const second = pagesOf('second');
    expect(first.length).toBe(second.length);
    first.forEach((p, i) => {
      const q = second[i]!;
      const a = image.slice(p * 256, p * 256 + 256);
      image.set(image.slice(q * 256, q * 256 + 256), p * 256);
      image.set(a, q * 256);
    });
    const swapped = FlashStore.open(new MemoryFlash({ image, pageSize: 256 }), sealer, SMALL_LAYOUT);
    expect(flashError(() => swapped.get('first')).code).toBe('CORRUPT_VALUE');
    expect(flashError(() => swapped.get('second')).code).toBe('CORRUPT_VALUE');
  });

  it('a bit flipped in the current index makes mount fail with CORRUPT_IMAGE (no silent fallback to an old state)', () => {
    const sealer = testSealer();
    const { device, store } = smallStore(sealer, (s) => {
      s.put('a', bytesOf('a', 700));
      s.put('b', Uint8Array.of(1));
    });
    const image = device.dump();
    image[store.currentIndex.offset + INDEX_HEADER_LEN + 20]! ^= 0x80;
    expect(
      flashError(() => FlashStore.open(new MemoryFlash({ image, pageSize: 256 }), sealer, SMALL_LAYOUT)).code,
    ).toBe('CORRUPT_IMAGE');
  });

  it('an image written under another device key is refused with WRONG_DEVICE_KEY and left untouched', () => {
    const { device } = smallStore(testSealer('key A'), (s) => s.put('a', bytesOf('a', 700)));
    const image = device.dump();
    const other = new MemoryFlash({ image, pageSize: 256 });
    expect(flashError(() => FlashStore.open(other, testSealer('key B'), SMALL_LAYOUT)).code).toBe(
      'WRONG_DEVICE_KEY',
    );
    expect(other.dump()).toEqual(image);
  });

  it('an image formatted with another layout is refused with LAYOUT_MISMATCH', () => {
    const sealer = testSealer();
    const { device } = smallStore(sealer);
    const again = new MemoryFlash({ image: device.dump(), pageSize: 256 });
    expect(flashError(() => FlashStore.open(again, sealer, { slotCount: 2, slotPages: 3 })).code).toBe(
      'LAYOUT_MISMATCH',
    );
  });

  it('a cut first format is formatted again; format() wipes a damaged image', () => {
    const sealer = testSealer();
    const device = new MemoryFlash(SMALL);
    device.cutPowerAfter(30);
    expect(() => FlashStore.open(device, sealer, SMALL_LAYOUT)).toThrow(FlashError);
    const rebooted = reboot(device, sealer);
    const store = rebooted.store;
    expect(store.keys()).toEqual([]);
    store.put('x', bytesOf('x', 500));
    const image = rebooted.device.dump();
    expect(
      flashError(() =>
        FlashStore.open(new MemoryFlash({ image, pageSize: 256 }), testSealer('new key'), SMALL_LAYOUT),
      ).code,
    ).toBe('WRONG_DEVICE_KEY');
    const fresh = new MemoryFlash({ image, pageSize: 256 });
    const wiped = FlashStore.format(fresh, testSealer('new key'), SMALL_LAYOUT);
    expect(wiped.keys()).toEqual([]);
    expect(FlashStore.open(fresh, testSealer('new key'), SMALL_LAYOUT).keys()).toEqual([]);
  });

  it('a dump holds no plaintext of any value, and a deleted value leaves no ciphertext behind', () => {
    const sealer = testSealer();
    const secret = bytesOf('plaintext', 3000);
    const { device, store } = smallStore(sealer, (s) => {
      s.put('big', secret);
      s.put('small', secret.subarray(0, 48));
    });
    const image = device.dump();
    expect(containsAnySlice(image, secret)).toBe(false);
    expect(containsAnySlice(image, secret.subarray(0, 48))).toBe(false);
    // The sealed value is on the flash now; after the delete its pages are erased.
    const sealedPages: Uint8Array[] = [];
    for (let p = 4; p < 64; p++) {
      const page = image.subarray(p * 256, p * 256 + 256);
      if (!page.every((b) => b === 0xff)) sealedPages.push(page.slice());
    }
    expect(sealedPages.length).toBe(Math.ceil((3000 + 28) / 256));
    store.delete('big');
    const after = device.dump();
    for (const page of sealedPages) expect(Buffer.from(after).indexOf(Buffer.from(page))).toBe(-1);
  });

  it('spreads commits over the index slots round-robin and keeps exactly one index between commits', () => {
    const sealer = testSealer();
    const device = new MemoryFlash(SMALL);
    const store = FlashStore.open(device, sealer, { slotCount: 4, slotPages: 1 });
    const slotsWithIndex = () =>
      [0, 1, 2, 3].filter((s) => {
        const page = device.read(s * 256, 4);
        return page[0] === 0x50 && page[1] === 0x4c;
      });
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      store.put('k', Uint8Array.of(i));
      const slots = slotsWithIndex();
      expect(slots.length).toBe(1);
      seen.add(slots[0]!);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    expect(store.stats().seq).toBe(9);
  });
});
