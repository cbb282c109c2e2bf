/**
 * The toy's storage on its encrypted flash: the engine's ToyStorage contract (partials, atomic
 * completion, remembered completions, ids never reused across reboots), capacity policy, messages,
 * settings, identity, factory reset, power cuts at every byte, the files in the state directory,
 * what a flash dump reveals, and a real upload through the protocol engines with power cuts.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlashError, ToyError } from '../../firmware-sim/errors.js';
import { FlashStore, type FlashStoreOptions, MemoryFlash } from '../../firmware-sim/flash.js';
import { SECURE_ELEMENT_FILE } from '../../firmware-sim/secure-element.js';
import {
  DEFAULT_SETTINGS,
  openToyStorage,
  type StoragePolicy,
  ToyFlashStorage,
} from '../../firmware-sim/storage.js';
import { bytesEqual, toHex } from '../../protocol/bytes.js';
import { sha256 } from '../../protocol/crypto.js';
import { ToyEngine } from '../../protocol/engine/toy.js';
import {
  createToyPairingState,
  decodeToyPairingState,
  encodeToyPairingState,
  provisionToy,
  ToyPairing,
} from '../../protocol/pairing/index.js';
import { type RandomSource, seededRandom } from '../../protocol/random.js';
import { generateKeyPair, type KeyPair } from '../../protocol/session/index.js';
import type { TransferInit } from '../../protocol/transfer/index.js';
import { syntheticContainer } from '../protocol/container/synth.js';
import {
  LinkSim,
  makePhone,
  syntheticMessage,
  type TestToy,
  TestToyApp,
} from '../protocol/engine/harness.js';
import { testSealer } from './flash-helpers.js';

/** 256 pages of 256 bytes (64 KiB): small enough to cut the power at every byte of a commit. */
const GEOMETRY = { size: 256 * 256, pageSize: 256 };
const LAYOUT: FlashStoreOptions = { slotCount: 2, slotPages: 6 };
const POLICY: Partial<StoragePolicy> = { slotReserveBytes: 1024, metadataReservePages: 4 };

interface Rig {
  device: MemoryFlash;
  storage: ToyFlashStorage;
  reboot(): Rig;
}

function rig(
  options: {
    policy?: Partial<StoragePolicy>;
    image?: Uint8Array;
    seed?: string;
    size?: number;
    layout?: FlashStoreOptions;
  } = {},
): Rig {
  const sealer = testSealer(options.seed ?? 'storage');
  const layout = options.layout ?? LAYOUT;
  const open = (image?: Uint8Array): Rig => {
    const device = image
      ? new MemoryFlash({ image, pageSize: GEOMETRY.pageSize })
      : new MemoryFlash({ ...GEOMETRY, size: options.size ?? GEOMETRY.size });
    const storage = new ToyFlashStorage(FlashStore.open(device, sealer, layout), {
      policy: { ...POLICY, ...options.policy },
      partialChunkPages: 4,
    });
    return { device, storage, reboot: () => open(device.dump()) };
  };
  return open(options.image);
}

function initFor(transferId: number, content: Uint8Array): TransferInit {
  return {
    type: 'TransferInit',
    transferId,
    direction: 0,
    codec: 1,
    totalBytes: content.length,
    sha256: sha256(content),
    startOffset: 0,
  };
}

function container(seed: string, packets: number): Uint8Array {
  return syntheticContainer(seededRandom(seed), packets, 20, 40);
}

/** Uploads `content` as transfer `tid` in appends of `step` bytes and completes it. */
function upload(s: ToyFlashStorage, tid: number, content: Uint8Array, step = 700): number {
  s.beginPartial(initFor(tid, content), 0);
  for (let at = 0; at < content.length; at += step) s.appendPartial(tid, at, content.subarray(at, at + step));
  const id = s.allocateMessageId();
  s.completePartial(tid, id, content, sha256(content));
  return id;
}

/** Everything the toy keeps, as comparable JSON. */
function toyState(s: ToyFlashStorage): string {
  const messages = s.listMessages().map((m) => ({ ...m, sha: toHex(sha256(s.readMessage(m.id)!)) }));
  const partials = [1, 2, 3, 7].map((tid) => {
    const p = s.loadPartial(tid);
    return p && { tid, bytes: toHex(sha256(p.committed)), total: p.init.totalBytes };
  });
  const completed = [1, 2, 3, 7].map((tid) => s.completedTransfer(tid)?.messageId);
  const identity = s.loadIdentity();
  return JSON.stringify({
    messages,
    partials,
    completed,
    settings: s.loadSettings(),
    pairing: s.loadPairingState() && toHex(s.loadPairingState()!),
    identity: identity && toHex(identity.publicKey),
    clock: s.clockSeconds,
  });
}

/**
 * Cuts the power at every `step`-th unit the operation writes; after each reboot the storage must
 * hold exactly the state before or after it. Returns how many cuts gave each.
 */
function cutToyEverywhere(
  base: Rig,
  op: (s: ToyFlashStorage) => void,
  step = 1,
): { units: number; before: number; after: number } {
  const image = base.device.dump();
  const clean = rig({ image });
  const before = toyState(clean.storage);
  const start = clean.device.bytesWritten;
  op(clean.storage);
  const units = clean.device.bytesWritten - start;
  const after = toyState(clean.storage);
  expect(after).not.toBe(before);
  const counts = { units, before: 0, after: 0 };
  for (let cut = 0; cut < units; cut += step) {
    const r = rig({ image });
    r.device.cutPowerAfter(cut);
    expect(() => op(r.storage)).toThrow(FlashError);
    const state = toyState(r.reboot().storage);
    if (state === before) counts.before++;
    else if (state === after) counts.after++;
    else expect.fail(`a power cut after ${cut} of ${units} units left a mixed state`);
  }
  return counts;
}

function toyError(run: () => unknown): ToyError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ToyError);
    return e as ToyError;
  }
  return expect.fail('expected a ToyError');
}

function provisioned(random: RandomSource): { pairingState: Uint8Array; staticKeyPair: KeyPair } {
  const { discriminator, verifier } = provisionToy(random, { iterations: 1000 });
  const staticKeyPair = generateKeyPair(random);
  const pairingState = encodeToyPairingState(
    createToyPairingState({ discriminator, verifier, toyStaticPublicKey: staticKeyPair.publicKey }, random),
  );
  return { pairingState, staticKeyPair };
}

describe('ToyFlashStorage: the ToyStorage contract', () => {
  it('keeps an unfinished upload across a reboot, whatever the append sizes, and goes on appending after it', () => {
    const content = container('partial', 150);
    let r = rig();
    r.storage.beginPartial(initFor(7, content), 0);
    const cuts = [0, 1, 200, 997, 1000, 2500, 2501];
    for (let i = 0; i + 1 < cuts.length; i++) {
      r.storage.appendPartial(7, cuts[i]!, content.subarray(cuts[i]!, cuts[i + 1]!));
    }
    r = r.reboot();
    const p = r.storage.loadPartial(7)!;
    expect(p.init).toEqual(initFor(7, content));
    expect(bytesEqual(p.committed, content.subarray(0, 2501))).toBe(true);
    r.storage.appendPartial(7, 2501, content.subarray(2501));
    expect(bytesEqual(r.reboot().storage.loadPartial(7)!.committed, content)).toBe(true);
    expect(r.storage.listMessages()).toEqual([]);
  });

  it('beginPartial keeps exactly keepBytes (also inside a chunk), or drops everything for keepBytes 0', () => {
    const content = container('keep', 150);
    const r = rig();
    r.storage.beginPartial(initFor(1, content), 0);
    r.storage.appendPartial(1, 0, content.subarray(0, 2600));
    r.storage.beginPartial({ ...initFor(1, content), startOffset: 1500 }, 1500);
    expect(bytesEqual(r.reboot().storage.loadPartial(1)!.committed, content.subarray(0, 1500))).toBe(true);
    r.storage.appendPartial(1, 1500, content.subarray(1500, 3000));
    expect(bytesEqual(r.storage.loadPartial(1)!.committed, content.subarray(0, 3000))).toBe(true);
    r.storage.beginPartial(initFor(1, content), 0);
    expect(r.reboot().storage.loadPartial(1)!.committed.length).toBe(0);
    expect(r.storage.store.keys('part/00000001/')).toEqual([]);
  });

  it('refuses an append at the wrong offset, without a partial, or a keep beyond what is stored, changing nothing', () => {
    const content = container('refuse', 40);
    const r = rig();
    expect(toyError(() => r.storage.appendPartial(3, 0, content)).code).toBe('NO_PARTIAL');
    r.storage.beginPartial(initFor(3, content), 0);
    r.storage.appendPartial(3, 0, content.subarray(0, 100));
    const image = r.device.dump();
    expect(toyError(() => r.storage.appendPartial(3, 99, content.subarray(99, 200))).code).toBe('BAD_OFFSET');
    expect(toyError(() => r.storage.beginPartial(initFor(3, content), 101)).code).toBe('BAD_KEEP');
    expect(toyError(() => r.storage.beginPartial(initFor(4, content), 1)).code).toBe('BAD_KEEP');
    expect(r.device.dump()).toEqual(image);
  });

  it('completes an upload atomically: message stored, partial gone, completion remembered; a power cut at every byte leaves one or the other', () => {
    const content = container('complete', 24);
    const base = rig();
    base.storage.beginPartial(initFor(2, content), 0);
    base.storage.appendPartial(2, 0, content);
    const id = base.storage.allocateMessageId();
    const r = cutToyEverywhere(base, (s) => s.completePartial(2, id, content, sha256(content)));
    expect(r.before).toBeGreaterThan(0);
    expect(r.after).toBeGreaterThan(0);
    const done = rig({ image: base.device.dump() });
    done.storage.completePartial(2, id, content, sha256(content));
    const after = done.reboot().storage;
    expect(bytesEqual(after.readMessage(id)!, content)).toBe(true);
    expect(after.loadPartial(2)).toBeUndefined();
    expect(after.completedTransfer(2)).toEqual({ messageId: id, sha256: sha256(content) });
    expect(after.store.keys('part/')).toEqual([]);
  });

  it('remembers the last 64 completions (PROTOCOL.md §4.6) and forgets older ones', () => {
    let r = rig({ policy: { maxMessages: 64 } });
    const content = container('many', 2);
    for (let tid = 1; tid <= 70; tid++) {
      const id = upload(r.storage, tid, content);
      r.storage.deleteMessage(id);
    }
    r = r.reboot();
    expect(r.storage.completedTransfer(6)).toBeUndefined();
    expect(r.storage.completedTransfer(7)?.messageId).toBe(7);
    expect(r.storage.completedTransfer(70)?.messageId).toBe(70);
  });

  it('allocates message ids from 1 that are never reused, across deletes and reboots, until a factory reset', () => {
    let r = rig();
    const random = seededRandom('ids');
    r.storage.provision(provisioned(random));
    const content = container('ids', 5);
    expect(upload(r.storage, 1, content)).toBe(1);
    expect(r.storage.allocateMessageId()).toBe(2); // allocated, never completed: still used up
    r.storage.deleteMessage(1);
    r = r.reboot();
    expect(upload(r.storage, 2, content)).toBe(3);
    r = r.reboot();
    expect(r.storage.allocateMessageId()).toBe(4);
    r.storage.factoryReset(generateKeyPair(random), random);
    expect(r.reboot().storage.allocateMessageId()).toBe(1);
  });

  it('refuses to complete a message under an id that is already stored', () => {
    const r = rig();
    const content = container('dup', 5);
    const id = upload(r.storage, 1, content);
    expect(toyError(() => r.storage.completePartial(2, id, content, sha256(content))).code).toBe(
      'DUPLICATE_MESSAGE_ID',
    );
  });

  it('dropPartial deletes a partial and all its chunks; dropping nothing writes nothing', () => {
    const content = container('drop', 100);
    const r = rig();
    r.storage.beginPartial(initFor(5, content), 0);
    r.storage.appendPartial(5, 0, content);
    r.storage.dropPartial(5);
    expect(r.storage.loadPartial(5)).toBeUndefined();
    expect(r.storage.store.keys('part/')).toEqual([]);
    const written = r.device.bytesWritten;
    r.storage.dropPartial(5);
    expect(r.device.bytesWritten).toBe(written);
  });

  it('never resumes a damaged partial: loadPartial gives nothing and the next begin replaces it', () => {
    const content = container('damaged', 100);
    const r = rig();
    r.storage.beginPartial(initFor(1, content), 0);
    r.storage.appendPartial(1, 0, content);
    const where = r.storage.store.locate('part/00000001/00000000');
    if (!where || where.inline) return expect.fail('the chunk should be in pages');
    const image = r.device.dump();
    image[where.pages[0]! * 256 + 50]! ^= 0x04;
    const damaged = rig({ image });
    expect(damaged.storage.loadPartial(1)).toBeUndefined();
    damaged.storage.beginPartial(initFor(1, content), 0);
    damaged.storage.appendPartial(1, 0, content);
    expect(bytesEqual(damaged.storage.loadPartial(1)!.committed, content)).toBe(true);
  });

  it('keeps at most maxPartials unfinished uploads, dropping the oldest', () => {
    const r = rig({ policy: { maxPartials: 2 } });
    const content = container('evict', 10);
    for (const tid of [1, 2, 3]) {
      r.storage.beginPartial(initFor(tid, content), 0);
      r.storage.appendPartial(tid, 0, content.subarray(0, 50));
    }
    const after = r.reboot().storage;
    expect(after.loadPartial(1)).toBeUndefined();
    expect(after.loadPartial(2)?.committed.length).toBe(50);
    expect(after.loadPartial(3)?.committed.length).toBe(50);
  });
});

describe('ToyFlashStorage: capacity', () => {
  it('holds at most maxMessages: uploads leave the recording slot free, recordings leave the incoming slots free', () => {
    const r = rig({ policy: { maxMessages: 8, minIncomingSlots: 2, minRecordingSlots: 1 } });
    const content = container('slots', 2);
    for (let tid = 1; tid <= 7; tid++) {
      expect(r.storage.hasSpace(content.length)).toBe(true);
      upload(r.storage, tid, content);
    }
    expect(r.storage.hasSpace(content.length)).toBe(false); // the 8th slot is the recording's
    expect(r.storage.canStoreRecording(content.length)).toBe(true);
    r.storage.storeRecording(content);
    expect(r.storage.canStoreRecording(content.length)).toBe(false);
    expect(toyError(() => r.storage.storeRecording(content)).code).toBe('STORAGE_FULL');
    // Recordings alone stop where the 2 incoming slots begin.
    const q = rig({ policy: { maxMessages: 8, minIncomingSlots: 2, minRecordingSlots: 1 } });
    for (let i = 0; i < 6; i++) q.storage.storeRecording(content);
    expect(q.storage.canStoreRecording(content.length)).toBe(false);
    expect(q.storage.hasSpace(content.length)).toBe(true);
  });

  it('with the protocol limit of 64: 63 uploads, then only the recording, then full', () => {
    const r = rig({ policy: { maxMessages: 64 }, size: 1024 * 256, layout: { slotCount: 2, slotPages: 16 } });
    const content = container('64', 4);
    for (let tid = 1; tid <= 63; tid++) upload(r.storage, tid, content);
    expect(r.storage.hasSpace(content.length)).toBe(false);
    r.storage.storeRecording(content);
    expect(r.storage.stats()).toMatchObject({ incomingCount: 63, recordingCount: 1, unplayedCount: 63 });
    expect(r.storage.canStoreRecording(content.length)).toBe(false);
  });

  it('counts the flash an unfinished upload still needs (its chunks and its final copy) before accepting another', () => {
    const r = rig();
    const free = r.storage.stats().freeBytes;
    const big = Math.floor(free / 2.5);
    expect(r.storage.hasSpace(big)).toBe(true);
    const content = new Uint8Array(big);
    r.storage.beginPartial(initFor(1, content), 0);
    expect(r.storage.hasSpace(big)).toBe(false);
    expect(r.storage.hasSpace(1000)).toBe(true);
    expect(r.storage.stats().freeBytes).toBeLessThan(free - 2 * big);
  });

  it('a recording that does not fit is refused with STORAGE_FULL and the flash is unchanged', () => {
    const r = rig();
    const huge = container('huge', 2500);
    const image = r.device.dump();
    expect(toyError(() => r.storage.storeRecording(huge)).code).toBe('STORAGE_FULL');
    expect(r.device.dump()).toEqual(image);
  });
});

describe('ToyFlashStorage: messages, settings, identity, clock', () => {
  it('lists, marks played and deletes messages; counts them for Status', () => {
    let t = 100;
    const r = rig();
    const s = new ToyFlashStorage(r.storage.store, {
      clockSeconds: () => t,
      partialChunkPages: 4,
      policy: POLICY,
    });
    const a = upload(s, 1, container('a', 50));
    t = 200;
    const rec = s.storeRecording(container('b', 100));
    expect(rec).toMatchObject({ kind: 'recording', played: false, durationMs: 1994, createdAtSeconds: 200 });
    expect(s.listMessages().map((m) => m.id)).toEqual([a, rec.id]);
    expect(s.listMessages('recording').map((m) => m.id)).toEqual([rec.id]);
    expect(s.getMessage(a)).toMatchObject({ kind: 'incoming', durationMs: 994, createdAtSeconds: 100 });
    expect(s.stats()).toMatchObject({ incomingCount: 1, unplayedCount: 1, recordingCount: 1 });
    expect(s.markPlayed(a)).toBe(true);
    expect(s.stats().unplayedCount).toBe(0);
    expect(s.deleteMessage(rec.id)).toBe(true);
    expect(s.deleteMessage(rec.id)).toBe(false);
    expect(s.markPlayed(999)).toBe(false);
    const again = new ToyFlashStorage(rig({ image: r.device.dump() }).storage.store);
    expect(again.listMessages()).toEqual([{ ...s.getMessage(a)!, played: true }]);
    expect(again.readMessage(rec.id)).toBeUndefined();
    expect(again.clockSeconds).toBe(200);
  });

  it('refuses a recording that is not a voice container', () => {
    const r = rig();
    expect(toyError(() => r.storage.storeRecording(Uint8Array.of(1, 2, 3))).code).toBe('BAD_CONTAINER');
  });

  it('keeps volume and LED mode across reboots, with defaults and range checks', () => {
    const r = rig();
    expect(r.storage.loadSettings()).toEqual(DEFAULT_SETTINGS);
    r.storage.saveSettings({ volume: 255, led: { mode: 'blink', periodMs: 1000, onMs: 100 } });
    expect(r.reboot().storage.loadSettings()).toEqual({
      volume: 255,
      led: { mode: 'blink', periodMs: 1000, onMs: 100 },
    });
    expect(toyError(() => r.storage.saveSettings({ volume: 256, led: { mode: 'on' } })).code).toBe(
      'BAD_SETTINGS',
    );
    expect(
      toyError(() => r.storage.saveSettings({ volume: 1, led: { mode: 'blink', periodMs: 300, onMs: 100 } }))
        .code,
    ).toBe('BAD_SETTINGS');
    expect(
      toyError(() => r.storage.saveSettings({ volume: 1, led: { mode: 'blink', periodMs: 1000, onMs: 990 } }))
        .code,
    ).toBe('BAD_SETTINGS');
  });

  it('stores the identity and pairing state once at provisioning, and the pairing state on every persist', () => {
    const random = seededRandom('identity');
    const r = rig();
    expect(r.storage.provisioned).toBe(false);
    const p = provisioned(random);
    r.storage.provision(p);
    expect(toyError(() => r.storage.provision(p)).code).toBe('ALREADY_PROVISIONED');
    const after = r.reboot();
    expect(after.storage.provisioned).toBe(true);
    expect(after.storage.loadIdentity()).toEqual(p.staticKeyPair);
    expect(after.storage.loadPairingState()).toEqual(p.pairingState);
    after.storage.savePairingState(Uint8Array.of(1, 2, 3));
    expect(after.reboot().storage.loadPairingState()).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('keeps the clock as a high-water mark that never goes back', () => {
    const r = rig();
    r.storage.saveClock(500);
    r.storage.saveClock(400);
    expect(r.reboot().storage.clockSeconds).toBe(500);
  });

  it('a factory reset keeps only what is printed on the toy and is one commit (power cut at every third byte)', () => {
    const random = seededRandom('reset');
    const base = rig();
    const p = provisioned(random);
    base.storage.provision(p);
    base.storage.saveClock(1234);
    base.storage.saveSettings({ volume: 9, led: { mode: 'on' } });
    upload(base.storage, 1, container('r1', 10));
    const content = container('r2', 10);
    base.storage.beginPartial(initFor(2, content), 0);
    base.storage.appendPartial(2, 0, content.subarray(0, 100));
    const newKeys = generateKeyPair(seededRandom('new static key'));
    const cuts = cutToyEverywhere(base, (s) => s.factoryReset(newKeys, seededRandom('reset random')), 3);
    expect(cuts.before).toBeGreaterThan(0);
    expect(cuts.after).toBeGreaterThan(0);

    const resetRig = rig({ image: base.device.dump() });
    const old = decodeToyPairingState(p.pairingState);
    const resetBytes = resetRig.storage.factoryReset(newKeys, random);
    const s = resetRig.reboot().storage;
    const fresh = decodeToyPairingState(resetBytes);
    expect(fresh.discriminator).toBe(old.discriminator);
    expect(fresh.verifier).toEqual(old.verifier);
    expect(fresh.toyId).not.toEqual(old.toyId);
    expect(fresh.pairings).toEqual([]);
    expect(fresh.toyStaticPublicKey).toEqual(newKeys.publicKey);
    expect(s.listMessages()).toEqual([]);
    expect(s.loadPartial(2)).toBeUndefined();
    expect(s.completedTransfer(1)).toBeUndefined();
    expect(s.loadSettings()).toEqual(DEFAULT_SETTINGS);
    expect(s.loadIdentity()).toEqual(newKeys);
    expect(s.loadPairingState()).toEqual(resetBytes);
    expect(s.clockSeconds).toBe(1234);
    expect(s.store.keys().sort()).toEqual(['sys/counters', 'sys/identity', 'sys/pairing']);
    // Nothing of the old messages stays on the flash: every written data page belongs to a live value.
    const image = resetRig.device.dump();
    const live = new Set(
      s.store.keys().flatMap((k) => {
        const where = s.store.locate(k);
        return where && !where.inline ? where.pages : [];
      }),
    );
    const dataStart = 2 * 6;
    for (let page = dataStart; page < 256; page++) {
      const written = !image.subarray(page * 256, page * 256 + 256).every((b) => b === 0xff);
      expect(written).toBe(live.has(page));
    }
  });
});

describe('ToyFlashStorage on disk (openToyStorage)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // The default policy holds back 4 incoming + 1 recording slots of 372 kB: too much for 1 MiB.
  const options = {
    flashSize: 1024 * 1024,
    random: seededRandom('disk'),
    storage: { policy: { slotReserveBytes: 4096 } },
  };

  it('creates the state directory 0700 with secure-element.key and flash.bin 0600, and reopens the same state', () => {
    dir = join(mkdtempSync(join(tmpdir(), 'pawlink-state-')), 'toy');
    const first = openToyStorage(dir, options);
    first.storage.saveSettings({ volume: 77, led: { mode: 'off' } });
    first.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, SECURE_ELEMENT_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'flash.bin')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'flash.bin')).size).toBe(1024 * 1024);
    const second = openToyStorage(dir, { ...options, random: seededRandom('disk 2') });
    expect(second.secureElement.created).toBe(false);
    expect(second.storage.loadSettings().volume).toBe(77);
    second.close();
  });

  it('flash.bin holds no plaintext of a stored message, of the static private key or of the device key', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-state-'));
    const random = seededRandom('dump');
    const opened = openToyStorage(dir, options);
    const p = provisioned(random);
    opened.storage.provision(p);
    const message = syntheticMessage('dump', 20);
    upload(opened.storage, 1, message, 4096);
    const recording = container('dump rec', 300);
    opened.storage.storeRecording(recording);
    opened.close();
    const image = readFileSync(join(dir, 'flash.bin'));
    const deviceKey = readFileSync(join(dir, SECURE_ELEMENT_FILE)).subarray(5, 37);
    // Any stored copy of a secret (or of a piece of it longer than stride + window bytes) would
    // contain one of these windows.
    const leaks = (secret: Uint8Array, window: number, stride = Math.max(window, 64)) => {
      for (let at = 0; at + window <= secret.length; at += stride) {
        if (image.indexOf(Buffer.from(secret.subarray(at, at + window))) >= 0) return true;
      }
      return false;
    };
    // Control: the scan finds what is there (the plaintext index header magic).
    expect(leaks(new TextEncoder().encode('PLKV'), 4)).toBe(true);
    expect(leaks(message, 16)).toBe(false);
    expect(leaks(recording, 16)).toBe(false);
    expect(leaks(p.staticKeyPair.privateKey, 8)).toBe(false);
    expect(leaks(deviceKey, 8)).toBe(false);
    expect(leaks(p.pairingState, 16)).toBe(false);
  });

  it('without its secure-element.key, or with another one, the flash is refused and left untouched', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-state-'));
    const opened = openToyStorage(dir, options);
    opened.storage.saveSettings({ volume: 1, led: { mode: 'on' } });
    opened.close();
    const keyPath = join(dir, SECURE_ELEMENT_FILE);
    const key = readFileSync(keyPath);
    const image = readFileSync(join(dir, 'flash.bin'));
    const refused = (): ToyError =>
      toyError(() => openToyStorage(dir, { ...options, random: seededRandom('other') }));
    rmSync(keyPath);
    expect(refused().code).toBe('SECURE_ELEMENT_MISSING');
    const elsewhere = mkdtempSync(join(tmpdir(), 'pawlink-other-'));
    openToyStorage(elsewhere, { ...options, random: seededRandom('other') }).close();
    writeFileSync(keyPath, readFileSync(join(elsewhere, SECURE_ELEMENT_FILE)), { mode: 0o600 });
    rmSync(elsewhere, { recursive: true, force: true });
    const wrong = refused();
    expect(wrong).toBeInstanceOf(FlashError);
    expect(wrong.code).toBe('WRONG_DEVICE_KEY');
    expect(readFileSync(join(dir, 'flash.bin')).equals(image)).toBe(true);
    writeFileSync(keyPath, key, { mode: 0o600 });
    const back = openToyStorage(dir, options);
    expect(back.storage.loadSettings().volume).toBe(1);
    back.close();
  });
});

describe('ToyFlashStorage under the protocol engine', () => {
  /** A toy of the engine harness whose storage is ToyFlashStorage on a simulated 2 MiB flash. */
  function flashToy(seed: string) {
    const random = seededRandom(`toy ${seed}`);
    const { setupCode, discriminator, verifier } = provisionToy(random, { iterations: 1000 });
    const staticKeyPair = generateKeyPair(random);
    const sealer = testSealer(seed, random);
    const layout = {};
    let device = new MemoryFlash({ size: 2 * 1024 * 1024, pageSize: 4096 });
    let storage = new ToyFlashStorage(FlashStore.open(device, sealer, layout));
    storage.provision({
      staticKeyPair,
      pairingState: encodeToyPairingState(
        createToyPairingState(
          { discriminator, verifier, toyStaticPublicKey: staticKeyPair.publicKey },
          random,
        ),
      ),
    });
    const app = new TestToyApp();
    const build = () =>
      new ToyEngine({
        staticKeyPair: storage.loadIdentity()!,
        storage,
        app,
        random,
        pairing: new ToyPairing({
          state: decodeToyPairingState(storage.loadPairingState()!),
          random,
          persist: (b) => storage.savePairingState(b),
        }),
      });
    const toy = {
      engine: build(),
      app,
      setupCode,
      staticKeyPair,
      random,
      get device() {
        return device;
      },
      get flashStorage() {
        return storage;
      },
      /** Power off and on: a new device on the flash image, new storage and engine. */
      reboot() {
        device = new MemoryFlash({ image: device.dump(), pageSize: 4096 });
        storage = new ToyFlashStorage(FlashStore.open(device, sealer, layout));
        toy.engine = build();
      },
    };
    return toy;
  }

  it('an upload survives power cuts at random flash writes: after each reboot it resumes and is stored exactly once', () => {
    const message = syntheticMessage('power', 30);
    const toy = flashToy('power');
    const sim = new LinkSim(toy as unknown as TestToy);
    const mum = makePhone('mum');
    expect(toy.engine.pairing.openWindowByPaw(sim.now, 3_000).opened).toBe(true);
    sim.connect(mum).pair(toy.setupCode, sim.now);
    const paired = sim.waitFor('paired').toy;
    sim.cut();
    const random = seededRandom('power cuts');
    let transferId: number | undefined;
    let done: { messageId: number } | undefined;
    let cuts = 0;
    for (let attempt = 0; attempt < 12 && !done; attempt++) {
      sim.connect(mum).openSession(paired, sim.now);
      sim.waitFor('session-open');
      // The first four sessions lose power somewhere in their first ~100 kB of flash writes (an
      // upload of this message writes ~1 MB: chunk rewrites, indexes and erases).
      if (attempt < 4)
        toy.device.cutPowerAfter(1000 + Math.floor(((random(1)[0]! << 8) | random(1)[0]!) * 1.5));
      transferId = sim.phone!.upload(message, sim.now, transferId);
      // A power cut stops the toy where it stands (the engine reports storage failures it can
      // answer, but a device without power answers nothing): the run ends when the power goes.
      sim.runUntil(
        () => toy.device.poweredOff || !sim.up || sim.phoneEvents.some((e) => e.type === 'upload-done'),
      );
      if (toy.device.poweredOff) {
        cuts++;
        toy.reboot();
        sim.cut();
        // Nothing partial is ever listed or playable after a power cut.
        for (const m of toy.flashStorage.listMessages()) {
          expect(bytesEqual(toy.flashStorage.readMessage(m.id)!, message)).toBe(true);
        }
        continue;
      }
      const d = sim.phoneEvents.find((e) => e.type === 'upload-done');
      if (d && d.type === 'upload-done') done = d;
    }
    expect(cuts).toBe(4);
    expect(done).toBeDefined();
    toy.reboot();
    const stored = toy.flashStorage.listMessages();
    expect(stored.map((m) => m.id)).toEqual([done!.messageId]);
    expect(bytesEqual(toy.flashStorage.readMessage(done!.messageId)!, message)).toBe(true);
    expect(toy.flashStorage.stats().partialCount).toBe(0);
    expect(toy.flashStorage.completedTransfer(transferId!)?.messageId).toBe(done!.messageId);
  });
});
