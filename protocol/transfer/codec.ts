/**
 * Transfer message codecs: the record plaintexts of the transfer layer (PROTOCOL.md, "Transfer
 * messages"). Every message starts with its type byte (0x40..0x47) and the transferId (u32 LE);
 * all integers are little-endian.
 *
 * The decoder checks structure only: type, exact length, block data size and the messageId rule of
 * Done/DownloadRequest. Values that depend on context (direction, codec, sizes, offsets, status
 * codes, window rules) are checked by the state machines, so a refusal can name the transferId in a
 * TransferAbort. `encodeTransferMessage` enforces the same rules, so what it writes always decodes.
 */
import { Reader, Writer } from '../bytes.js';
import { TransferError } from '../errors.js';
import {
  MAX_BLOCK_BYTES,
  TRANSFER_HASH_LEN,
  TRANSFER_TYPE_FIRST,
  TRANSFER_TYPE_LAST,
  TransferMessageType,
  TransferStatus,
} from './constants.js';

/** Sender -> receiver: offer a content. 47 bytes. */
export interface TransferInit {
  type: 'TransferInit';
  transferId: number;
  /** 0 = upload (phone -> toy), 1 = download (toy -> phone); checked by the receiver. */
  direction: number;
  /** 1 = voice container; checked by the receiver. */
  codec: number;
  totalBytes: number;
  /** SHA-256 of the whole content (32 bytes). */
  sha256: Uint8Array;
  /** Where the sender believes the receiver stands (0 for a new transfer). Advisory. */
  startOffset: number;
}

/** Receiver -> sender: go ahead. 15 bytes. */
export interface TransferAccept {
  type: 'TransferAccept';
  transferId: number;
  /** Largest Block data in bytes. */
  maxBlock: number;
  /** Bytes the sender may have in flight beyond the last committed offset. */
  window: number;
  /** The receiver's committed length: the sender starts here. Authoritative. */
  startOffset: number;
}

/** Sender -> receiver: bytes [offset, offset + data.length) of the content, whole packets. 9 + n bytes. */
export interface TransferBlock {
  type: 'Block';
  transferId: number;
  offset: number;
  data: Uint8Array;
}

/** Receiver -> sender: everything below committedOffset is persisted. 9 bytes. */
export interface BlockAck {
  type: 'BlockAck';
  transferId: number;
  committedOffset: number;
}

/** Sender -> receiver: all blocks sent. 5 bytes. */
export interface TransferEnd {
  type: 'End';
  transferId: number;
}

/** Receiver -> sender: the outcome. 10 bytes. messageId != 0 exactly when status is Ok. */
export interface TransferDone {
  type: 'Done';
  transferId: number;
  status: TransferStatus;
  messageId: number;
}

/** Either side: stop this transfer. 6 bytes. */
export interface TransferAbort {
  type: 'TransferAbort';
  transferId: number;
  status: TransferStatus;
}

/** Phone -> toy: send me message `messageId` as transfer `transferId`. 9 bytes. messageId != 0. */
export interface DownloadRequest {
  type: 'DownloadRequest';
  transferId: number;
  messageId: number;
}

export type TransferMessage =
  | TransferInit
  | TransferAccept
  | TransferBlock
  | BlockAck
  | TransferEnd
  | TransferDone
  | TransferAbort
  | DownloadRequest;

/** True when a record plaintext belongs to the transfer layer (first byte in 0x40..0x4F). */
export function isTransferPlaintext(plaintext: Uint8Array): boolean {
  const t = plaintext[0];
  return t !== undefined && t >= TRANSFER_TYPE_FIRST && t <= TRANSFER_TYPE_LAST;
}

function checkBlockData(data: Uint8Array): void {
  if (data.length === 0) throw new TransferError('EMPTY_BLOCK', 'a Block carries at least one byte');
  if (data.length > MAX_BLOCK_BYTES) {
    throw new TransferError(
      'BLOCK_TOO_LARGE',
      `Block data is ${data.length} bytes, more than ${MAX_BLOCK_BYTES}`,
    );
  }
}

function checkDoneMessageId(status: number, messageId: number): void {
  if ((status === TransferStatus.Ok) !== (messageId !== 0)) {
    throw new TransferError(
      'BAD_MESSAGE_ID',
      status === TransferStatus.Ok
        ? 'Done{Ok} must name a message (messageId != 0)'
        : 'a failed Done has messageId 0',
    );
  }
}

/** Encodes a transfer message. Throws TransferError (OUT_OF_RANGE, BAD_LENGTH, EMPTY_BLOCK...). */
export function encodeTransferMessage(msg: TransferMessage): Uint8Array {
  const w = new Writer(TransferError).u8(TransferMessageType[msg.type]).u32(msg.transferId);
  switch (msg.type) {
    case 'TransferInit':
      if (msg.sha256.length !== TRANSFER_HASH_LEN) {
        throw new TransferError('BAD_LENGTH', `sha256 must be ${TRANSFER_HASH_LEN} bytes`);
      }
      w.u8(msg.direction).u8(msg.codec).u32(msg.totalBytes).bytes(msg.sha256).u32(msg.startOffset);
      break;
    case 'TransferAccept':
      w.u16(msg.maxBlock).u32(msg.window).u32(msg.startOffset);
      break;
    case 'Block':
      checkBlockData(msg.data);
      w.u32(msg.offset).bytes(msg.data);
      break;
    case 'BlockAck':
      w.u32(msg.committedOffset);
      break;
    case 'End':
      break;
    case 'Done':
      w.u8(msg.status).u32(msg.messageId);
      checkDoneMessageId(msg.status, msg.messageId);
      break;
    case 'TransferAbort':
      w.u8(msg.status);
      break;
    case 'DownloadRequest':
      w.u32(msg.messageId);
      if (msg.messageId === 0)
        throw new TransferError('BAD_MESSAGE_ID', 'DownloadRequest needs messageId != 0');
      break;
  }
  return w.finish();
}

/**
 * Decodes one transfer record plaintext into a fresh object (no aliasing of the input). Throws
 * TransferError: TRUNCATED, TRAILING_BYTES, NOT_A_TRANSFER_MESSAGE (type outside 0x40..0x4F),
 * UNKNOWN_TYPE (reserved 0x48..0x4F), EMPTY_BLOCK, BLOCK_TOO_LARGE, BAD_MESSAGE_ID.
 */
export function decodeTransferMessage(bytes: Uint8Array): TransferMessage {
  if (bytes.length === 0) throw new TransferError('TRUNCATED', 'empty transfer message');
  const t = bytes[0]!;
  if (t < TRANSFER_TYPE_FIRST || t > TRANSFER_TYPE_LAST) {
    throw new TransferError('NOT_A_TRANSFER_MESSAGE', `type 0x${t.toString(16)} is outside 0x40..0x4f`);
  }
  const r = new Reader(bytes, TransferError, 'transfer message');
  r.u8();
  let msg: TransferMessage;
  switch (t) {
    case TransferMessageType.TransferInit: {
      const transferId = r.u32();
      const direction = r.u8();
      const codec = r.u8();
      const totalBytes = r.u32();
      const sha256 = r.bytes(TRANSFER_HASH_LEN);
      const startOffset = r.u32();
      msg = { type: 'TransferInit', transferId, direction, codec, totalBytes, sha256, startOffset };
      break;
    }
    case TransferMessageType.TransferAccept: {
      const transferId = r.u32();
      const maxBlock = r.u16();
      const window = r.u32();
      const startOffset = r.u32();
      msg = { type: 'TransferAccept', transferId, maxBlock, window, startOffset };
      break;
    }
    case TransferMessageType.Block: {
      const transferId = r.u32();
      const offset = r.u32();
      const data = r.rest();
      checkBlockData(data);
      msg = { type: 'Block', transferId, offset, data };
      break;
    }
    case TransferMessageType.BlockAck: {
      const transferId = r.u32();
      msg = { type: 'BlockAck', transferId, committedOffset: r.u32() };
      break;
    }
    case TransferMessageType.End:
      msg = { type: 'End', transferId: r.u32() };
      break;
    case TransferMessageType.Done: {
      const transferId = r.u32();
      const status = r.u8();
      const messageId = r.u32();
      r.end();
      checkDoneMessageId(status, messageId);
      msg = { type: 'Done', transferId, status, messageId };
      break;
    }
    case TransferMessageType.TransferAbort: {
      const transferId = r.u32();
      msg = { type: 'TransferAbort', transferId, status: r.u8() };
      break;
    }
    case TransferMessageType.DownloadRequest: {
      const transferId = r.u32();
      const messageId = r.u32();
      r.end();
      if (messageId === 0) throw new TransferError('BAD_MESSAGE_ID', 'DownloadRequest needs messageId != 0');
      msg = { type: 'DownloadRequest', transferId, messageId };
      break;
    }
    default:
      throw new TransferError('UNKNOWN_TYPE', `transfer type 0x${t.toString(16)} is reserved`);
  }
  r.end();
  return msg;
}
