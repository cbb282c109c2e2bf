import { describe, expect, it } from 'vitest';
import { concat } from '../../../protocol/bytes.js';
import { MAX_CONTAINER_BYTES } from '../../../protocol/container/constants.js';
import { encodeContainer, packetBoundaries, planBlocks } from '../../../protocol/container/container.js';
import { sha256 } from '../../../protocol/crypto.js';
import { seededRandom } from '../../../protocol/random.js';
import type { TransferBlock, TransferInit } from '../../../protocol/transfer/codec.js';
import {
  COMMIT_INTERVAL,
  DEFAULT_WINDOW,
  MAX_BLOCK_BYTES,
  MIN_BLOCK_BYTES,
  TransferDirection,
  TransferStatus,
} from '../../../protocol/transfer/constants.js';
import {
  type ReceiverOptions,
  type ReceiverOutput,
  TransferReceiver,
} from '../../../protocol/transfer/receiver.js';
import { syntheticContainer, syntheticPackets } from '../container/synth.js';

const code = (c: string) => expect.objectContaining({ name: 'TransferError', code: c });
const content = syntheticContainer(seededRandom('receiver'), 400); // about 20 kB
const boundaries = packetBoundaries(content);
const ID = 77;

function initFor(bytes: Uint8Array, extra: Partial<TransferInit> = {}): TransferInit {
  return {
    type: 'TransferInit',
    transferId: ID,
    direction: TransferDirection.Upload,
    codec: 1,
    totalBytes: bytes.length,
    sha256: sha256(bytes),
    startOffset: 0,
    ...extra,
  };
}

let nextId = 100;
const options = (extra: Partial<ReceiverOptions> = {}): ReceiverOptions => ({
  direction: TransferDirection.Upload,
  assignMessageId: () => nextId++,
  ...extra,
});

/** The blocks a compliant sender would send from `start`. */
function blocksFrom(start: number, maxBlock = MAX_BLOCK_BYTES, bytes = content): TransferBlock[] {
  const b = bytes === content ? boundaries : packetBoundaries(bytes);
  return planBlocks(b, maxBlock, start).map((s) => ({
    type: 'Block',
    transferId: ID,
    offset: s.offset,
    data: bytes.slice(s.offset, s.offset + s.length),
  }));
}

const kinds = (out: ReceiverOutput[]) => out.map((o) => (o.kind === 'send' ? o.message.type : o.kind));
const observe = (r: TransferReceiver) =>
  JSON.stringify([r.state, r.receivedOffset, r.committedOffset, r.status, Array.from(r.committed)]);

describe('TransferReceiver.open (limits at Init, before anything is stored)', () => {
  it('accepts a valid Init: begin, then TransferAccept with its limits', () => {
    const { receiver, outputs } = TransferReceiver.open(initFor(content), options());
    expect(outputs).toEqual([
      { kind: 'begin', init: initFor(content), keepBytes: 0 },
      {
        kind: 'send',
        message: {
          type: 'TransferAccept',
          transferId: ID,
          maxBlock: MAX_BLOCK_BYTES,
          window: DEFAULT_WINDOW,
          startOffset: 0,
        },
      },
    ]);
    expect(receiver.state).toBe('receiving');
  });

  it('refuses every bad Init with its own code', () => {
    const open =
      (init: Partial<TransferInit>, o: Partial<ReceiverOptions> = {}) =>
      () =>
        TransferReceiver.open(initFor(content, init), options(o));
    expect(open({ totalBytes: MAX_CONTAINER_BYTES + 1 })).toThrowError(code('TOO_LARGE'));
    expect(open({ totalBytes: 0 })).toThrowError(code('EMPTY_TRANSFER'));
    expect(open({ totalBytes: 19 })).toThrowError(code('TOO_SMALL'));
    expect(open({ codec: 2 })).toThrowError(code('UNSUPPORTED_CODEC'));
    expect(open({ codec: 0 })).toThrowError(code('UNSUPPORTED_CODEC'));
    expect(open({ direction: 1 })).toThrowError(code('BAD_DIRECTION'));
    expect(open({ direction: 7 }, { direction: 7 })).toThrowError(code('BAD_DIRECTION'));
    expect(open({ startOffset: content.length + 1 })).toThrowError(code('BAD_START_OFFSET'));
    expect(open({}, { hasSpace: () => false })).toThrowError(code('NO_SPACE'));
    expect(open({ sha256: new Uint8Array(3) })).toThrowError(code('BAD_LENGTH'));
  });

  it('asks the free-space check for the bytes still needed', () => {
    const asked: number[] = [];
    const hasSpace = (n: number) => {
      asked.push(n);
      return true;
    };
    TransferReceiver.open(initFor(content), options({ hasSpace }));
    const persisted = { init: initFor(content), committed: content.slice(0, boundaries[50]) };
    TransferReceiver.open(initFor(content), options({ hasSpace }), persisted);
    expect(asked).toEqual([content.length, content.length - boundaries[50]!]);
  });

  it('refuses options that could deadlock', () => {
    const open = (o: Partial<ReceiverOptions>) => () => TransferReceiver.open(initFor(content), options(o));
    expect(open({ maxBlock: 2000, window: COMMIT_INTERVAL + 1999 })).toThrowError(code('BAD_OPTIONS'));
    expect(open({ maxBlock: MIN_BLOCK_BYTES - 1 })).toThrowError(code('BAD_OPTIONS'));
    expect(open({ maxBlock: MAX_BLOCK_BYTES + 1 })).toThrowError(code('BAD_OPTIONS'));
    expect(open({ commitInterval: COMMIT_INTERVAL + 1 })).toThrowError(code('BAD_OPTIONS'));
    expect(open({ commitInterval: 0 })).toThrowError(code('BAD_OPTIONS'));
  });

  it('resumes from persisted committed bytes of the same content', () => {
    const persisted = { init: initFor(content), committed: content.slice(0, boundaries[120]) };
    const { receiver, outputs } = TransferReceiver.open(
      initFor(content, { startOffset: 5 }),
      options(),
      persisted,
    );
    expect(outputs[0]).toEqual({
      kind: 'begin',
      init: initFor(content, { startOffset: 5 }),
      keepBytes: boundaries[120],
    });
    expect(outputs[1]).toMatchObject({ message: { type: 'TransferAccept', startOffset: boundaries[120] } });
    expect(receiver.committedOffset).toBe(boundaries[120]);
  });

  it('restarts from 0 when the same transferId now names different content, and says so', () => {
    const other = syntheticContainer(seededRandom('other'), 400);
    const persisted = { init: initFor(content), committed: content.slice(0, boundaries[120]) };
    const { outputs } = TransferReceiver.open(initFor(other), options(), persisted);
    expect(outputs[0]).toMatchObject({ kind: 'begin', keepBytes: 0, restarted: 'CONTENT_CHANGED' });
    expect(outputs[1]).toMatchObject({ message: { startOffset: 0 } });
  });

  it('restarts from 0 when the stored bytes are not a valid prefix', () => {
    const corrupt = content.slice(0, boundaries[120]);
    corrupt[boundaries[3]!]! ^= 0xff; // a length prefix
    const cases = [corrupt, content.slice(0, boundaries[120]! - 1), new Uint8Array(content.length + 1)];
    for (const committed of cases) {
      const { outputs } = TransferReceiver.open(initFor(content), options(), {
        init: initFor(content),
        committed,
      });
      expect(outputs[0]).toMatchObject({ kind: 'begin', keepBytes: 0, restarted: 'STORED_INVALID' });
    }
  });
});

describe('TransferReceiver blocks', () => {
  it('commits every interval, acks each commit, and completes with Done{Ok}', () => {
    const { receiver } = TransferReceiver.open(initFor(content), options({ commitInterval: 4096 }));
    const commits: Uint8Array[] = [];
    let uncommitted = 0;
    for (const b of blocksFrom(0)) {
      const out = receiver.handle(b);
      uncommitted += b.data.length;
      if (uncommitted >= 4096) {
        expect(kinds(out)).toEqual(['commit', 'BlockAck']);
        const c = out[0] as Extract<ReceiverOutput, { kind: 'commit' }>;
        expect(c.offset).toBe(concat(...commits).length);
        commits.push(c.bytes);
        expect(out[1]).toMatchObject({ message: { committedOffset: receiver.committedOffset } });
        uncommitted = 0;
      } else {
        expect(out).toEqual([]);
      }
    }
    const out = receiver.handle({ type: 'End', transferId: ID });
    expect(kinds(out)).toEqual(['commit', 'complete', 'Done']);
    commits.push((out[0] as Extract<ReceiverOutput, { kind: 'commit' }>).bytes);
    expect(concat(...commits)).toEqual(content);
    const complete = out[1] as Extract<ReceiverOutput, { kind: 'complete' }>;
    expect(complete.content).toEqual(content);
    expect(out[2]).toEqual({
      kind: 'send',
      message: { type: 'Done', transferId: ID, status: TransferStatus.Ok, messageId: complete.messageId },
    });
    expect(receiver.state).toBe('complete');
    expect(receiver.progress.fraction).toBe(1);
  });

  it('refuses duplicated, reordered, gapped and overlapping blocks without changing anything', () => {
    const bs = blocksFrom(0, MIN_BLOCK_BYTES);
    const { receiver } = TransferReceiver.open(initFor(content), options({ maxBlock: MIN_BLOCK_BYTES }));
    receiver.handle(bs[0]!);
    receiver.handle(bs[1]!);
    const before = observe(receiver);
    const overlap: TransferBlock = {
      ...bs[2]!,
      offset: bs[2]!.offset - 1,
      data: content.slice(bs[2]!.offset - 1, end(bs[2]!)),
    };
    for (const bad of [bs[1]!, bs[0]!, bs[3]!, overlap]) {
      expect(() => receiver.handle(bad)).toThrowError(code('UNEXPECTED_OFFSET'));
      expect(observe(receiver)).toBe(before);
    }
    receiver.handle(bs[2]!);
    expect(receiver.receivedOffset).toBe(end(bs[2]!));
  });

  it('refuses a block that splits a packet, is too long, passes the end or the window, or breaks the container', () => {
    const { receiver } = TransferReceiver.open(initFor(content), options({ maxBlock: MIN_BLOCK_BYTES }));
    const before = observe(receiver);
    const block = (len: number, data?: Uint8Array): TransferBlock => ({
      type: 'Block',
      transferId: ID,
      offset: 0,
      data: data ?? content.slice(0, len),
    });
    expect(() => receiver.handle(block(boundaries[5]! - 1))).toThrowError(code('SPLITS_PACKET'));
    expect(() => receiver.handle(block(MIN_BLOCK_BYTES + 1))).toThrowError(code('BLOCK_TOO_LARGE'));
    const wrongMagic = content.slice(0, boundaries[5]);
    wrongMagic[0] = 0x51;
    expect(() => receiver.handle(block(0, wrongMagic))).toThrowError(code('BAD_CONTENT'));
    expect(() => receiver.handle({ ...block(boundaries[5]!), transferId: ID + 1 })).toThrowError(
      code('UNKNOWN_TRANSFER'),
    );
    expect(observe(receiver)).toBe(before);

    // Past the end: a tiny container, then a block that claims more bytes than totalBytes.
    const tiny = encodeContainer({ preSkip: 0, packets: [Uint8Array.of(1, 2, 3)] });
    const t = TransferReceiver.open(initFor(tiny), options()).receiver;
    const longer = concat(tiny, Uint8Array.of(1, 0, 9));
    expect(() => t.handle({ type: 'Block', transferId: ID, offset: 0, data: longer })).toThrowError(
      code('BLOCK_PAST_END'),
    );
  });

  it('refuses End before all bytes arrived, and messages a receiver never gets', () => {
    const { receiver } = TransferReceiver.open(initFor(content), options());
    receiver.handle(blocksFrom(0)[0]!);
    const before = observe(receiver);
    expect(() => receiver.handle({ type: 'End', transferId: ID })).toThrowError(code('END_EARLY'));
    expect(() => receiver.handle(initFor(content))).toThrowError(code('UNEXPECTED_MESSAGE'));
    expect(() => receiver.handle({ type: 'BlockAck', transferId: ID, committedOffset: 1 })).toThrowError(
      code('UNEXPECTED_MESSAGE'),
    );
    expect(() => receiver.handle({ type: 'Done', transferId: ID, status: 0, messageId: 1 })).toThrowError(
      code('UNEXPECTED_MESSAGE'),
    );
    expect(observe(receiver)).toBe(before);
  });

  it('discards on a hash mismatch: nothing becomes playable', () => {
    const altered = content.slice();
    altered[boundaries[10]! + 5]! ^= 1; // inside a packet: the container stays valid
    const { receiver } = TransferReceiver.open(initFor(content), options());
    const outs = blocksFrom(0, MAX_BLOCK_BYTES, altered).flatMap((b) => receiver.handle(b));
    const end = receiver.handle({ type: 'End', transferId: ID });
    expect(kinds([...outs, ...end]).includes('complete')).toBe(false);
    expect(end).toEqual([
      { kind: 'discard', transferId: ID, status: TransferStatus.HashMismatch },
      {
        kind: 'send',
        message: { type: 'Done', transferId: ID, status: TransferStatus.HashMismatch, messageId: 0 },
      },
    ]);
    expect(receiver.state).toBe('discarded');
  });

  it('discards a content whose hash matches but whose packets are fewer than its header says', () => {
    const packets = syntheticPackets(seededRandom('short'), 5);
    const lying = encodeContainer({ preSkip: 0, packets });
    lying.set([0x41, 0x06, 0, 0], 13); // sampleCount 1601 needs 6 packets; only 5 follow
    const { receiver } = TransferReceiver.open(initFor(lying), options());
    receiver.handle({ type: 'Block', transferId: ID, offset: 0, data: lying });
    const out = receiver.handle({ type: 'End', transferId: ID });
    expect(kinds(out)).toEqual(['discard', 'Done']);
    expect(out[0]).toMatchObject({ status: TransferStatus.InvalidContent });
  });

  it('stops on TransferAbort (keeping the partial unless cancelled) and on abort()', () => {
    const a = TransferReceiver.open(initFor(content), options()).receiver;
    expect(a.handle({ type: 'TransferAbort', transferId: ID, status: TransferStatus.Busy })).toEqual([
      { kind: 'aborted', transferId: ID, status: TransferStatus.Busy, keepPartial: true },
    ]);
    const b = TransferReceiver.open(initFor(content), options()).receiver;
    expect(
      b.handle({ type: 'TransferAbort', transferId: ID, status: TransferStatus.Cancelled }),
    ).toMatchObject([{ keepPartial: false }]);
    const c = TransferReceiver.open(initFor(content), options()).receiver;
    expect(c.abort(TransferStatus.StorageFailed)).toEqual([
      {
        kind: 'send',
        message: { type: 'TransferAbort', transferId: ID, status: TransferStatus.StorageFailed },
      },
      { kind: 'aborted', transferId: ID, status: TransferStatus.StorageFailed, keepPartial: true },
    ]);
    expect(() => c.abort()).toThrowError(code('BAD_STATE'));
    expect(() => c.handle(blocksFrom(0)[0]!)).toThrowError(code('UNEXPECTED_MESSAGE'));
  });

  it('refuses a message id of 0 from the driver without completing', () => {
    const tiny = encodeContainer({ preSkip: 0, packets: [Uint8Array.of(1)] });
    const { receiver } = TransferReceiver.open(initFor(tiny), options({ assignMessageId: () => 0 }));
    receiver.handle({ type: 'Block', transferId: ID, offset: 0, data: tiny });
    expect(() => receiver.handle({ type: 'End', transferId: ID })).toThrowError(code('BAD_MESSAGE_ID'));
    expect(receiver.state).toBe('receiving');
    expect(receiver.committedOffset).toBe(0);
  });
});

function end(b: TransferBlock): number {
  return b.offset + b.data.length;
}
