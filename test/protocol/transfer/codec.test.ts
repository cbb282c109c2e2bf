import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  decodeTransferMessage,
  encodeTransferMessage,
  isTransferPlaintext,
  type TransferMessage,
} from '../../../protocol/transfer/codec.js';
import { MAX_BLOCK_BYTES, TransferMessageType } from '../../../protocol/transfer/constants.js';
import { transferMessage } from './arbitraries.js';

const code = (c: string) => expect.objectContaining({ name: 'TransferError', code: c });

/** Expected encoded length of each message type (type byte + transferId + fields). */
const FIXED_LEN: Record<string, number> = {
  TransferInit: 47,
  TransferAccept: 15,
  BlockAck: 9,
  End: 5,
  Done: 10,
  TransferAbort: 6,
  DownloadRequest: 9,
};

describe('transfer message codec', () => {
  it('round-trips every message and has the documented lengths', () => {
    fc.assert(
      fc.property(transferMessage, (msg) => {
        const bytes = encodeTransferMessage(msg);
        expect(bytes[0]).toBe(TransferMessageType[msg.type]);
        expect(bytes.length).toBe(msg.type === 'Block' ? 9 + msg.data.length : FIXED_LEN[msg.type]);
        expect(decodeTransferMessage(bytes)).toEqual(msg);
      }),
      { numRuns: 1000 },
    );
  });

  it('writes fields little-endian in the documented order', () => {
    const init: TransferMessage = {
      type: 'TransferInit',
      transferId: 0x04030201,
      direction: 0,
      codec: 1,
      totalBytes: 0x0001b2c3,
      sha256: new Uint8Array(32).fill(0xee),
      startOffset: 0x1000,
    };
    expect(toHex(encodeTransferMessage(init))).toBe(
      `40 01020304 00 01 c3b20100 ${'ee'.repeat(32)} 00100000`.replace(/ /g, ''),
    );
    const accept: TransferMessage = {
      type: 'TransferAccept',
      transferId: 1,
      maxBlock: 2012,
      window: 16384,
      startOffset: 4096,
    };
    expect(toHex(encodeTransferMessage(accept))).toBe('4101000000dc070040000000100000');
    expect(
      toHex(encodeTransferMessage({ type: 'Block', transferId: 1, offset: 17, data: Uint8Array.of(9) })),
    ).toBe('42010000001100000009');
  });

  it('routes by type range: 0x40..0x4F is transfer, 0x48..0x4F reserved, others refused', () => {
    expect(isTransferPlaintext(Uint8Array.of(0x40))).toBe(true);
    expect(isTransferPlaintext(Uint8Array.of(0x4f))).toBe(true);
    expect(isTransferPlaintext(Uint8Array.of(0x3f))).toBe(false);
    expect(isTransferPlaintext(Uint8Array.of(0x50))).toBe(false);
    expect(isTransferPlaintext(new Uint8Array(0))).toBe(false);
    for (let t = 0x48; t <= 0x4f; t++) {
      expect(() => decodeTransferMessage(Uint8Array.of(t, 0, 0, 0, 0))).toThrowError(code('UNKNOWN_TYPE'));
    }
    expect(() => decodeTransferMessage(Uint8Array.of(0x01, 0, 0, 0, 0))).toThrowError(
      code('NOT_A_TRANSFER_MESSAGE'),
    );
    expect(() => decodeTransferMessage(Uint8Array.of(0x50))).toThrowError(code('NOT_A_TRANSFER_MESSAGE'));
    expect(() => decodeTransferMessage(new Uint8Array(0))).toThrowError(code('TRUNCATED'));
  });

  it('refuses every truncation and any trailing byte', () => {
    fc.assert(
      fc.property(
        transferMessage.filter((m) => m.type !== 'Block'),
        (msg) => {
          const bytes = encodeTransferMessage(msg);
          for (let n = 1; n < bytes.length; n++) {
            expect(() => decodeTransferMessage(bytes.subarray(0, n))).toThrowError(code('TRUNCATED'));
          }
          const longer = new Uint8Array(bytes.length + 1);
          longer.set(bytes);
          expect(() => decodeTransferMessage(longer)).toThrowError(code('TRAILING_BYTES'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses empty and oversize blocks on both sides', () => {
    const header = fromHex('420100000000000000');
    expect(() => decodeTransferMessage(header)).toThrowError(code('EMPTY_BLOCK'));
    const big = new Uint8Array(9 + MAX_BLOCK_BYTES + 1);
    big.set(header);
    expect(() => decodeTransferMessage(big)).toThrowError(code('BLOCK_TOO_LARGE'));
    expect(decodeTransferMessage(big.subarray(0, 9 + MAX_BLOCK_BYTES)).type).toBe('Block');
    expect(() =>
      encodeTransferMessage({ type: 'Block', transferId: 1, offset: 0, data: new Uint8Array(0) }),
    ).toThrowError(code('EMPTY_BLOCK'));
    expect(() =>
      encodeTransferMessage({
        type: 'Block',
        transferId: 1,
        offset: 0,
        data: new Uint8Array(MAX_BLOCK_BYTES + 1),
      }),
    ).toThrowError(code('BLOCK_TOO_LARGE'));
  });

  it('ties Done.messageId to its status and refuses DownloadRequest for message 0', () => {
    expect(() => decodeTransferMessage(fromHex('45010000000000000000'))).toThrowError(code('BAD_MESSAGE_ID'));
    expect(() => decodeTransferMessage(fromHex('45010000000107000000'))).toThrowError(code('BAD_MESSAGE_ID'));
    expect(decodeTransferMessage(fromHex('45010000000007000000'))).toEqual({
      type: 'Done',
      transferId: 1,
      status: 0,
      messageId: 7,
    });
    expect(() => decodeTransferMessage(fromHex('470100000000000000'))).toThrowError(code('BAD_MESSAGE_ID'));
    expect(() =>
      encodeTransferMessage({ type: 'Done', transferId: 1, status: 0, messageId: 0 }),
    ).toThrowError(code('BAD_MESSAGE_ID'));
    expect(() =>
      encodeTransferMessage({ type: 'DownloadRequest', transferId: 1, messageId: 0 }),
    ).toThrowError(code('BAD_MESSAGE_ID'));
  });

  it('refuses out-of-range fields and a wrong hash length on encode', () => {
    const accept = {
      type: 'TransferAccept',
      transferId: 1,
      maxBlock: 0x10000,
      window: 1,
      startOffset: 0,
    } as const;
    expect(() => encodeTransferMessage(accept)).toThrowError(code('OUT_OF_RANGE'));
    expect(() => encodeTransferMessage({ type: 'End', transferId: -1 })).toThrowError(code('OUT_OF_RANGE'));
    expect(() => encodeTransferMessage({ type: 'TransferAbort', transferId: 1, status: 256 })).toThrowError(
      code('OUT_OF_RANGE'),
    );
    expect(() =>
      encodeTransferMessage({
        type: 'TransferInit',
        transferId: 1,
        direction: 0,
        codec: 1,
        totalBytes: 100,
        sha256: new Uint8Array(31),
        startOffset: 0,
      }),
    ).toThrowError(code('BAD_LENGTH'));
  });

  it('decodes into fresh objects that do not alias the input', () => {
    const bytes = encodeTransferMessage({
      type: 'Block',
      transferId: 5,
      offset: 0,
      data: Uint8Array.of(1, 2, 3),
    });
    const msg = decodeTransferMessage(bytes);
    bytes.fill(0xff);
    expect(msg).toEqual({ type: 'Block', transferId: 5, offset: 0, data: Uint8Array.of(1, 2, 3) });
  });
});
