import { describe, expect, it } from 'vitest';
import { ContainerError, TransferError } from '../../../protocol/errors.js';
import { MAX_RECORD_PLAINTEXT_LEN } from '../../../protocol/session/constants.js';
import {
  ASSUMED_MAX_RECORD_PLAINTEXT,
  BLOCK_HEADER_LEN,
  MAX_BLOCK_BYTES,
  TransferStatus,
} from '../../../protocol/transfer/constants.js';
import { abortFor, transferStatusFor, transferStatusName } from '../../../protocol/transfer/status.js';

describe('transfer status codes', () => {
  it('are unique u8 values with stable UPPER_SNAKE names', () => {
    const values = Object.values(TransferStatus);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v >= 0 && v <= 0xff).toBe(true);
    expect(transferStatusName(TransferStatus.HashMismatch)).toBe('HASH_MISMATCH');
    expect(transferStatusName(TransferStatus.UnexpectedOffset)).toBe('UNEXPECTED_OFFSET');
    expect(transferStatusName(0x99)).toBe('UNKNOWN_0x99');
  });

  it('map each TransferError code to the status of the same name', () => {
    expect(transferStatusFor(new TransferError('TOO_LARGE', ''))).toBe(TransferStatus.TooLarge);
    expect(transferStatusFor(new TransferError('SPLITS_PACKET', ''))).toBe(TransferStatus.SplitsPacket);
    expect(transferStatusFor(new TransferError('NO_SPACE', ''))).toBe(TransferStatus.NoSpace);
    expect(transferStatusFor(new TransferError('TRUNCATED', ''))).toBe(TransferStatus.Malformed);
    expect(transferStatusFor(new ContainerError('BAD_MAGIC', ''))).toBe(TransferStatus.Malformed);
    expect(transferStatusFor(new Error('bug'))).toBe(TransferStatus.UnexpectedMessage);
    expect(abortFor(5, new TransferError('END_EARLY', ''))).toEqual({
      type: 'TransferAbort',
      transferId: 5,
      status: TransferStatus.EndEarly,
    });
  });

  it('size one Block to fill exactly one session record', () => {
    expect(ASSUMED_MAX_RECORD_PLAINTEXT).toBe(MAX_RECORD_PLAINTEXT_LEN);
    expect(MAX_BLOCK_BYTES + BLOCK_HEADER_LEN).toBe(MAX_RECORD_PLAINTEXT_LEN);
  });
});
