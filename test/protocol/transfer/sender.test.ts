import { describe, expect, it } from 'vitest';
import { concat } from '../../../protocol/bytes.js';
import { MAX_CONTAINER_BYTES } from '../../../protocol/container/constants.js';
import { packetBoundaries } from '../../../protocol/container/container.js';
import { sha256 } from '../../../protocol/crypto.js';
import { seededRandom } from '../../../protocol/random.js';
import type { TransferAccept, TransferBlock, TransferMessage } from '../../../protocol/transfer/codec.js';
import {
  COMMIT_INTERVAL,
  MAX_BLOCK_BYTES,
  MIN_BLOCK_BYTES,
  TransferDirection,
  TransferStatus,
} from '../../../protocol/transfer/constants.js';
import { newTransferId, TransferSender } from '../../../protocol/transfer/sender.js';
import { syntheticContainer } from '../container/synth.js';

const code = (c: string) => expect.objectContaining({ name: 'TransferError', code: c });
const content = syntheticContainer(seededRandom('sender'), 400); // about 20 kB
const ID = 0x0badcafe;

function sender(extra: Partial<ConstructorParameters<typeof TransferSender>[0]> = {}): TransferSender {
  return new TransferSender({ transferId: ID, direction: TransferDirection.Upload, content, ...extra });
}

function accept(
  startOffset = 0,
  maxBlock = MAX_BLOCK_BYTES,
  window = COMMIT_INTERVAL + maxBlock,
): TransferAccept {
  return { type: 'TransferAccept', transferId: ID, maxBlock, window, startOffset };
}

const blocks = (out: TransferMessage[]) => out.filter((m): m is TransferBlock => m.type === 'Block');
const end = (b: TransferBlock) => b.offset + b.data.length;

/** Snapshot of everything observable, to prove a refused message changed nothing. */
const observe = (s: TransferSender) => JSON.stringify([s.state, s.progress, s.status, s.messageId]);

describe('TransferSender', () => {
  it('starts with a TransferInit describing the content', () => {
    const s = sender({ startOffset: 17 });
    expect(s.start()).toEqual({
      type: 'TransferInit',
      transferId: ID,
      direction: 0,
      codec: 1,
      totalBytes: content.length,
      sha256: sha256(content),
      startOffset: 17,
    });
    expect(s.state).toBe('awaiting-accept');
    expect(() => s.start()).toThrowError(code('BAD_STATE'));
  });

  it('refuses bad content and options at construction', () => {
    const bad = content.slice();
    bad[0] = 0;
    expect(() => sender({ content: bad })).toThrowError(code('INVALID_CONTENT'));
    expect(() => sender({ content: new Uint8Array(5) })).toThrowError(code('TOO_SMALL'));
    expect(() => sender({ content: new Uint8Array(MAX_CONTAINER_BYTES + 1) })).toThrowError(
      code('TOO_LARGE'),
    );
    expect(() => sender({ codec: 2 })).toThrowError(code('UNSUPPORTED_CODEC'));
    expect(() => sender({ direction: 2 })).toThrowError(code('BAD_DIRECTION'));
    expect(() => sender({ transferId: 2 ** 32 })).toThrowError(code('OUT_OF_RANGE'));
    expect(() => sender({ maxBlock: MIN_BLOCK_BYTES - 1 })).toThrowError(code('BAD_OPTIONS'));
    expect(() => sender({ startOffset: content.length + 1 })).toThrowError(code('BAD_START_OFFSET'));
  });

  it('sends whole-packet blocks up to the window, then more as acks arrive, then End', () => {
    const s = sender();
    s.start();
    const boundaries = new Set(packetBoundaries(content));
    const window = COMMIT_INTERVAL + MAX_BLOCK_BYTES;
    let out = s.onAccept(accept(0, MAX_BLOCK_BYTES, window));
    const sent: TransferBlock[] = [];
    let acked = 0;
    while (s.state === 'sending') {
      const bs = blocks(out);
      expect(bs.length).toBeGreaterThan(0);
      for (const b of bs) {
        expect(b.offset).toBe(sent.length === 0 ? 0 : end(sent[sent.length - 1]!));
        expect(b.data.length).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
        expect(boundaries.has(end(b))).toBe(true);
        expect(end(b)).toBeLessThanOrEqual(acked + window);
        sent.push(b);
      }
      acked = end(sent[sent.length - 1]!);
      out = s.onBlockAck({ type: 'BlockAck', transferId: ID, committedOffset: acked });
    }
    expect(out[out.length - 1]).toEqual({ type: 'End', transferId: ID });
    const all = [...sent, ...blocks(out)];
    expect(concat(...all.map((b) => b.data))).toEqual(content);
    expect(s.state).toBe('awaiting-done');
  });

  it('uses the smaller of its own and the receiver maxBlock', () => {
    const s = sender({ maxBlock: MIN_BLOCK_BYTES });
    s.start();
    const out = s.onAccept(accept(0, MAX_BLOCK_BYTES, 10 * MAX_BLOCK_BYTES));
    for (const b of blocks(out)) expect(b.data.length).toBeLessThanOrEqual(MIN_BLOCK_BYTES);
  });

  it('resumes from the receiver startOffset, and sends End at once when all is committed', () => {
    const b = packetBoundaries(content);
    const s = sender({ startOffset: 0 });
    s.start();
    const out = s.onAccept(accept(b[100]!));
    expect(blocks(out)[0]!.offset).toBe(b[100]);
    expect(s.progress.committedBytes).toBe(b[100]);

    const whole = sender();
    whole.start();
    expect(whole.onAccept(accept(content.length))).toEqual([{ type: 'End', transferId: ID }]);
    expect(whole.progress.fraction).toBe(1);
  });

  it('refuses an Accept that could deadlock or points inside a packet, and changes nothing', () => {
    const s = sender();
    s.start();
    const before = observe(s);
    expect(() => s.onAccept(accept(0, MAX_BLOCK_BYTES, COMMIT_INTERVAL + MAX_BLOCK_BYTES - 1))).toThrowError(
      code('BAD_ACCEPT'),
    );
    expect(() => s.onAccept(accept(0, MIN_BLOCK_BYTES - 1, 100_000))).toThrowError(code('BAD_ACCEPT'));
    expect(() => s.onAccept(accept(18))).toThrowError(code('BAD_START_OFFSET'));
    expect(() => s.onAccept(accept(content.length + 1))).toThrowError(code('BAD_START_OFFSET'));
    expect(() => s.onAccept({ ...accept(), transferId: 1 })).toThrowError(code('UNKNOWN_TRANSFER'));
    expect(observe(s)).toBe(before);
    expect(blocks(s.onAccept(accept())).length).toBeGreaterThan(0);
  });

  it('refuses acks that go backwards or beyond what was sent, and messages a sender never gets', () => {
    const s = sender();
    s.start();
    const out = s.onAccept(accept());
    const last = end(blocks(out).at(-1)!);
    const before = observe(s);
    expect(() => s.onBlockAck({ type: 'BlockAck', transferId: ID, committedOffset: last + 1 })).toThrowError(
      code('BAD_ACK'),
    );
    expect(() => s.onBlockAck({ type: 'BlockAck', transferId: ID, committedOffset: 0 })).toThrowError(
      code('BAD_ACK'),
    );
    expect(() => s.handle({ type: 'End', transferId: ID })).toThrowError(code('UNEXPECTED_MESSAGE'));
    expect(() => s.handle({ type: 'Block', transferId: ID, offset: 0, data: Uint8Array.of(1) })).toThrowError(
      code('UNEXPECTED_MESSAGE'),
    );
    expect(() => s.handle(accept())).toThrowError(code('UNEXPECTED_MESSAGE'));
    expect(() => s.handle({ type: 'Done', transferId: ID, status: 0, messageId: 3 })).toThrowError(
      code('UNEXPECTED_MESSAGE'),
    );
    expect(observe(s)).toBe(before);
  });

  it('finishes on Done: ok with a messageId, or failed with the status', () => {
    const ok = sender();
    ok.start();
    ok.onAccept(accept(content.length));
    ok.handle({ type: 'Done', transferId: ID, status: TransferStatus.Ok, messageId: 42 });
    expect([ok.state, ok.messageId, ok.status, ok.progress.fraction]).toEqual(['done', 42, 0, 1]);

    const bad = sender();
    bad.start();
    bad.onAccept(accept(content.length));
    bad.handle({ type: 'Done', transferId: ID, status: TransferStatus.HashMismatch, messageId: 0 });
    expect([bad.state, bad.messageId, bad.status]).toEqual([
      'failed',
      undefined,
      TransferStatus.HashMismatch,
    ]);
  });

  it('accepts Done{Ok} instead of an Accept (the receiver already holds this content)', () => {
    const s = sender();
    s.start();
    s.handle({ type: 'Done', transferId: ID, status: TransferStatus.Ok, messageId: 9 });
    expect(s.state).toBe('done');
    const t = sender();
    t.start();
    expect(() =>
      t.handle({ type: 'Done', transferId: ID, status: TransferStatus.HashMismatch, messageId: 0 }),
    ).toThrowError(code('UNEXPECTED_MESSAGE'));
  });

  it('stops on TransferAbort and on cancel()', () => {
    const s = sender();
    s.start();
    s.onAccept(accept());
    s.handle({ type: 'TransferAbort', transferId: ID, status: TransferStatus.NoSpace });
    expect([s.state, s.status]).toEqual(['aborted', TransferStatus.NoSpace]);
    expect(() => s.handle({ type: 'TransferAbort', transferId: ID, status: 1 })).toThrowError(
      code('UNEXPECTED_MESSAGE'),
    );
    expect(() => s.cancel()).toThrowError(code('BAD_STATE'));

    const c = sender();
    c.start();
    expect(c.cancel()).toEqual({ type: 'TransferAbort', transferId: ID, status: TransferStatus.Cancelled });
    expect(c.state).toBe('aborted');
  });

  it('draws nonzero transferIds from the injected randomness', () => {
    const zeroThenOne = (() => {
      let n = 0;
      return (len: number) => (n++ === 0 ? new Uint8Array(len) : Uint8Array.of(1, 0, 0, 0));
    })();
    expect(newTransferId(zeroThenOne)).toBe(1);
    expect(newTransferId(seededRandom('id'))).toBe(newTransferId(seededRandom('id')));
  });
});
