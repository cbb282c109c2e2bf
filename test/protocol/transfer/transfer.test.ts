/**
 * Sender and receiver together, through encoded messages and a persistent store: whole transfers,
 * cuts and resumes, tampering in flight and in storage, and limits at Init.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../protocol/bytes.js';
import { MAX_CONTAINER_BYTES } from '../../../protocol/container/constants.js';
import { seededRandom } from '../../../protocol/random.js';
import { decodeTransferMessage, encodeTransferMessage } from '../../../protocol/transfer/codec.js';
import {
  COMMIT_INTERVAL,
  MAX_BLOCK_BYTES,
  MIN_BLOCK_BYTES,
  TransferDirection,
  TransferStatus,
} from '../../../protocol/transfer/constants.js';
import { transferStatusName } from '../../../protocol/transfer/status.js';
import { syntheticContainer } from '../container/synth.js';
import {
  type Flight,
  newStorage,
  ReceiverDriver,
  type ReceiverDriverOptions,
  runConnection,
  SenderDriver,
  type Storage,
  type Tamper,
} from './harness.js';

const ID = 0x5eed0001;
/** 60 s of voice: 3000 synthetic packets of 20..80 bytes. */
const minute = syntheticContainer(seededRandom('transfer-60s'), 3000);
const small = syntheticContainer(seededRandom('transfer-small'), 300);

function upload(content: Uint8Array, storage: Storage, opts: ReceiverDriverOptions = { direction: 0 }) {
  const s = new SenderDriver({ transferId: ID, direction: TransferDirection.Upload, content });
  const r = new ReceiverDriver(storage, opts);
  return { s, r };
}

/** Playable messages in storage. */
const playable = (st: Storage) => [...st.messages.values()];
/** Byte equality (vitest's deep equality is slow on 100 kB arrays). */
const same = (a: Uint8Array, b: Uint8Array) => bytesEqual(a, b);
/** The playable messages are exactly `expected`, in order. */
function expectPlayable(st: Storage, expected: Uint8Array[]): void {
  const got = playable(st);
  expect(got.length).toBe(expected.length);
  for (const [i, m] of got.entries()) expect(same(m, expected[i]!)).toBe(true);
}

describe('transfers end to end', () => {
  it('moves a 60 s container in one connection, identical, with Done{Ok}', () => {
    expect(minute.length).toBeGreaterThan(100_000);
    const storage = newStorage();
    const { s, r } = upload(minute, storage);
    const progress: number[] = [];
    const result = runConnection(s, r, {
      tamper: (f) => {
        progress.push(s.sender.progress.fraction);
        return [f.bytes];
      },
    });
    expect(result.cut).toBe(false);
    expect(s.sender.state).toBe('done');
    expectPlayable(storage, [minute]);
    expect(same(storage.messages.get(s.sender.messageId!)!, minute)).toBe(true);
    expect(storage.partials.size).toBe(0);
    // The progress bar only moves forward and ends full.
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
    expect(s.sender.progress.fraction).toBe(1);
  });

  it('downloads from the toy to a phone the same way (direction 1)', () => {
    const storage = newStorage();
    const s = new SenderDriver({ transferId: ID, direction: TransferDirection.Download, content: small });
    const r = new ReceiverDriver(storage, { direction: TransferDirection.Download });
    runConnection(s, r);
    expectPlayable(storage, [small]);
    // A toy-side receiver refuses a download-direction Init.
    const toy = new ReceiverDriver(newStorage(), { direction: TransferDirection.Upload });
    const s2 = new SenderDriver({ transferId: ID, direction: TransferDirection.Download, content: small });
    runConnection(s2, toy);
    expect([s2.sender.state, s2.sender.status]).toEqual(['aborted', TransferStatus.BadDirection]);
  });

  it('never deadlocks for any allowed maxBlock, window and commit interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_BLOCK_BYTES, max: MAX_BLOCK_BYTES }),
        fc.integer({ min: 0, max: 3 * COMMIT_INTERVAL }),
        fc.integer({ min: 1, max: COMMIT_INTERVAL }),
        (maxBlock, extra, commitInterval) => {
          const storage = newStorage();
          const { s, r } = upload(small, storage, {
            direction: 0,
            maxBlock,
            window: COMMIT_INTERVAL + maxBlock + extra,
            commitInterval,
          });
          runConnection(s, r, { maxDeliveries: 5000 });
          expect(s.sender.state).toBe('done');
          expectPlayable(storage, [small]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('resumes after random cuts until Done{Ok}, from only the committed bytes, content identical', () => {
    for (const seed of [
      'resume-a',
      'resume-b',
      'resume-c',
      'resume-d',
      'resume-e',
      'resume-f',
      'resume-g',
      'resume-h',
    ]) {
      const rnd = seededRandom(seed);
      const storage = newStorage();
      let connections = 0;
      let sender: SenderDriver;
      do {
        connections += 1;
        const before = storage.partials.get(ID)?.committed.length ?? 0;
        sender = new SenderDriver({ transferId: ID, direction: 0, content: minute });
        const receiver = new ReceiverDriver(storage, {
          direction: 0,
          commitInterval: 2048 + (rnd(1)[0]! % 2048),
        });
        const cutAfter = connections > 30 ? undefined : 1 + (rnd(1)[0]! % 40);
        const res = runConnection(sender, receiver, { cutAfter });
        if (res.cut) {
          // What survived is exactly a prefix of the content that ends on a packet boundary.
          const kept = storage.partials.get(ID)?.committed ?? new Uint8Array(0);
          expect(same(kept, minute.subarray(0, kept.length))).toBe(true);
          expect(kept.length).toBeGreaterThanOrEqual(before);
          expectPlayable(storage, []);
        }
      } while (sender.sender.state !== 'done');
      expect(connections).toBeGreaterThan(3);
      expectPlayable(storage, [minute]);
    }
  });

  it('resumes where the receiver committed, even when the sender believes otherwise', () => {
    const storage = newStorage();
    const first = upload(small, storage, { direction: 0, commitInterval: 1024 });
    runConnection(first.s, first.r, { cutAfter: 6 });
    const committed = storage.partials.get(ID)!.committed.length;
    expect(committed).toBeGreaterThan(0);
    const s = new SenderDriver({ transferId: ID, direction: 0, content: small, startOffset: 0 });
    const r = new ReceiverDriver(storage, { direction: 0 });
    const res = runConnection(s, r);
    const firstBlock = res.trace.map((f) => decodeTransferMessage(f.bytes)).find((m) => m.type === 'Block');
    expect(firstBlock).toMatchObject({ offset: committed });
    expectPlayable(storage, [small]);
  });

  it('answers a resumed Init of fully committed content with End at once', () => {
    const storage = newStorage();
    const init = { ...new SenderDriver({ transferId: ID, direction: 0, content: small }).sender.start() };
    storage.partials.set(ID, { init, committed: small.slice() });
    const { s, r } = upload(small, storage);
    const res = runConnection(s, r);
    expect(res.trace.map((f) => decodeTransferMessage(f.bytes).type)).toEqual([
      'TransferInit',
      'TransferAccept',
      'End',
      'Done',
    ]);
    expect(s.sender.state).toBe('done');
    expectPlayable(storage, [small]);
  });

  it('restarts from 0 when the same transferId comes back with different content', () => {
    const storage = newStorage();
    const first = upload(small, storage, { direction: 0, commitInterval: 1024 });
    runConnection(first.s, first.r, { cutAfter: 8 });
    const other = syntheticContainer(seededRandom('other-content'), 250);
    const { s, r } = upload(other, storage);
    runConnection(s, r);
    expect(r.log[0]).toMatchObject({ kind: 'begin', keepBytes: 0, restarted: 'CONTENT_CHANGED' });
    expectPlayable(storage, [other]);
  });
});

describe('tampering never makes an altered or partial message playable', () => {
  it('an altered byte in any message in flight: nothing playable but the original', () => {
    let audioHits = 0;
    const clean = runConnection(upload(small, newStorage()).s, upload(small, newStorage()).r).trace;
    fc.assert(
      fc.property(
        fc.nat(clean.length - 1),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (target, position, mask) => {
          const storage = newStorage();
          const { s, r } = upload(small, storage);
          let altered = false;
          let inBlockData = false;
          const tamper: Tamper = (f, i) => {
            if (i !== target) return [f.bytes];
            const bytes = f.bytes.slice();
            const at = position % bytes.length;
            bytes[at]! ^= mask;
            altered = true;
            inBlockData = f.to === 'receiver' && bytes[0] === 0x42 && at >= 9;
            return [bytes];
          };
          runConnection(s, r, { tamper });
          expect(altered).toBe(true);
          for (const m of playable(storage)) expect(same(m, small)).toBe(true);
          // Altered audio bytes are caught by the container checks or the sha256: never playable.
          if (inBlockData) {
            audioHits += 1;
            expectPlayable(storage, []);
          }
        },
      ),
      { numRuns: 1000 },
    );
    expect(audioHits).toBeGreaterThan(100);
  });

  it('an altered byte in the stored committed bytes: never played, and a retry recovers', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 4, max: 20 }),
        (pos, mask, cut) => {
          const storage = newStorage();
          const first = upload(small, storage, { direction: 0, commitInterval: 1024 });
          runConnection(first.s, first.r, { cutAfter: cut });
          const p = storage.partials.get(ID);
          if (p === undefined || p.committed.length === 0) return;
          p.committed[pos % p.committed.length]! ^= mask;
          const second = upload(small, storage);
          runConnection(second.s, second.r);
          for (const m of playable(storage)) expect(same(m, small)).toBe(true);
          if (playable(storage).length > 0) {
            // Completed at once only because the corruption was seen at Init and it started over.
            expect(second.r.log[0]).toMatchObject({ kind: 'begin', restarted: 'STORED_INVALID' });
            seen.add('restarted at Init');
            return;
          }
          // Otherwise the resumed transfer failed (hash mismatch at End, or a block that no longer
          // fits the stored prefix), the corrupted partial is gone, and one retry completes.
          expect([
            TransferStatus.HashMismatch,
            TransferStatus.BadContent,
            TransferStatus.SplitsPacket,
          ]).toContain(second.s.sender.status);
          seen.add(transferStatusName(second.s.sender.status!));
          expect(storage.partials.size).toBe(0);
          const third = upload(small, storage);
          runConnection(third.s, third.r);
          expectPlayable(storage, [small]);
        },
      ),
      { numRuns: 500 },
    );
    expect(seen.has('restarted at Init')).toBe(true);
    expect(seen.has('HASH_MISMATCH')).toBe(true);
  });

  it.each([
    ['dropped', (_b: Uint8Array) => [] as Uint8Array[]],
    ['duplicated', (b: Uint8Array) => [b, b]],
  ])('a %s block is refused, and a resume then completes correctly', (_name, fault) => {
    const storage = newStorage();
    const first = upload(small, storage, { direction: 0, commitInterval: 1024 });
    let blocks = 0;
    const tamper: Tamper = (f) => (isBlock(f) && ++blocks === 4 ? fault(f.bytes) : [f.bytes]);
    runConnection(first.s, first.r, { tamper });
    expect(first.r.errors.map((e) => e.code)).toContain('UNEXPECTED_OFFSET');
    expect([first.s.sender.state, first.s.sender.status]).toEqual([
      'aborted',
      TransferStatus.UnexpectedOffset,
    ]);
    expectPlayable(storage, []);
    const second = upload(small, storage);
    runConnection(second.s, second.r);
    expect(second.s.sender.state).toBe('done');
    expectPlayable(storage, [small]);
  });

  it('reordered blocks are refused, and a resume then completes correctly', () => {
    const storage = newStorage();
    const first = upload(small, storage, { direction: 0, commitInterval: 1024, maxBlock: MIN_BLOCK_BYTES });
    let blocks = 0;
    let held: Uint8Array | undefined;
    const tamper: Tamper = (f) => {
      if (!isBlock(f)) return [f.bytes];
      blocks += 1;
      if (blocks === 3) {
        held = f.bytes;
        return [];
      }
      if (blocks === 4 && held) return [f.bytes, held];
      return [f.bytes];
    };
    runConnection(first.s, first.r, { tamper });
    expect(first.r.errors[0]?.code).toBe('UNEXPECTED_OFFSET');
    expectPlayable(storage, []);
    const second = upload(small, storage);
    runConnection(second.s, second.r);
    expectPlayable(storage, [small]);
  });

  it('a block that splits a packet is refused and nothing of it is stored', () => {
    const storage = newStorage();
    const { s, r } = upload(small, storage);
    const tamper: Tamper = (f) => {
      if (!isBlock(f)) return [f.bytes];
      const m = decodeTransferMessage(f.bytes) as Extract<
        ReturnType<typeof decodeTransferMessage>,
        { type: 'Block' }
      >;
      return [encodeTransferMessage({ ...m, data: m.data.subarray(0, m.data.length - 1) })];
    };
    runConnection(s, r, { tamper });
    expect(r.errors[0]?.code).toBe('SPLITS_PACKET');
    // Nothing of it was committed, and the partial is dropped (the content disagrees with it).
    expect(r.log.filter((o) => o.kind === 'commit')).toEqual([]);
    expect(storage.partials.has(ID)).toBe(false);
    expectPlayable(storage, []);
  });
});

describe('limits at Init refuse before any byte is stored', () => {
  it.each([
    ['TOO_LARGE', { totalBytes: MAX_CONTAINER_BYTES + 1 }, TransferStatus.TooLarge],
    ['EMPTY_TRANSFER', { totalBytes: 0 }, TransferStatus.EmptyTransfer],
    ['UNSUPPORTED_CODEC', { codec: 2 }, TransferStatus.UnsupportedCodec],
    ['BAD_DIRECTION', { direction: 5 }, TransferStatus.BadDirection],
    ['BAD_START_OFFSET', { startOffset: 0xffffffff }, TransferStatus.BadStartOffset],
  ])('%s', (errorCode, change, status) => {
    const storage = newStorage();
    const { s, r } = upload(small, storage);
    const tamper: Tamper = (f) => {
      const m = decodeTransferMessage(f.bytes);
      return m.type === 'TransferInit' ? [encodeTransferMessage({ ...m, ...change })] : [f.bytes];
    };
    const res = runConnection(s, r, { tamper });
    expect(r.errors.map((e) => e.code)).toEqual([errorCode]);
    expect(decodeTransferMessage(res.trace[1]!.bytes)).toEqual({
      type: 'TransferAbort',
      transferId: ID,
      status,
    });
    expect(r.log).toEqual([]); // no begin, no commit
    expect(storage.partials.size).toBe(0);
    expect(s.sender.state).toBe('aborted');
  });

  it('NO_SPACE from the driver free-space check', () => {
    const storage = newStorage();
    const { s, r } = upload(small, storage, { direction: 0, hasSpace: (n) => n < 1000 });
    runConnection(s, r);
    expect([s.sender.status, r.log.length, storage.partials.size]).toEqual([TransferStatus.NoSpace, 0, 0]);
  });
});

function isBlock(f: Flight): boolean {
  return f.to === 'receiver' && f.bytes[0] === 0x42;
}
