/**
 * Encode and decode a whole voice container, list its packet boundaries, and cut it into transfer
 * blocks that each end on a boundary. Decoding is the streaming `ContainerScanner` fed all bytes at
 * once: there is one parser.
 */
import { Writer } from '../bytes.js';
import { ContainerError } from '../errors.js';
import {
  CHANNELS,
  CONTAINER_HEADER_LEN,
  CONTAINER_MAGIC,
  CONTAINER_VERSION,
  FRAME_DURATION_MS,
  MAX_CONTAINER_BYTES,
  MAX_PACKETS,
  PACKET_PREFIX_LEN,
  SAMPLE_RATE_HZ,
  SAMPLES_PER_PACKET,
} from './constants.js';
import { ContainerScanner, checkHeaderFields, checkPacketLength } from './scanner.js';

/** One voice message: its Opus packets (one 20 ms frame each), pre-skip and exact length. */
export interface VoiceContainer {
  /** Samples at 16 kHz to drop from the start of the decoded output (encoder look-ahead; 104 for libopus). */
  preSkip: number;
  /** Decoded samples after pre-skip. */
  sampleCount: number;
  /** The Opus packets in order, each 1..1275 bytes. */
  packets: Uint8Array[];
}

/** What `encodeContainer` needs; `sampleCount` defaults to packets x 320 - preSkip (no end trimming). */
export interface VoiceContainerInput {
  preSkip: number;
  sampleCount?: number;
  packets: readonly Uint8Array[];
}

/** A span of bytes [offset, offset + length) of a container. */
export interface BlockSpan {
  offset: number;
  length: number;
}

/**
 * Builds a container. Validates exactly what the decoder validates (same shared checks), so the
 * output always decodes back to the input. Throws ContainerError.
 */
export function encodeContainer(input: VoiceContainerInput): Uint8Array {
  const { preSkip, packets } = input;
  if (packets.length === 0) {
    throw new ContainerError('NO_PACKETS', 'a container holds at least one packet');
  }
  if (packets.length > MAX_PACKETS) {
    throw new ContainerError(
      'TOO_MANY_PACKETS',
      `${packets.length} packets, more than ${MAX_PACKETS} (120 s)`,
    );
  }
  const sampleCount = input.sampleCount ?? packets.length * SAMPLES_PER_PACKET - preSkip;
  const expected = checkHeaderFields(preSkip, sampleCount);
  if (expected !== packets.length) {
    throw new ContainerError(
      'PACKET_COUNT_MISMATCH',
      `${packets.length} packets but sample count ${sampleCount} and pre-skip ${preSkip} imply ${expected}`,
    );
  }
  let size = CONTAINER_HEADER_LEN;
  packets.forEach((p, i) => {
    checkPacketLength(p.length, `${i + 1}`);
    size += PACKET_PREFIX_LEN + p.length;
  });
  if (size > MAX_CONTAINER_BYTES) {
    throw new ContainerError(
      'TOO_LARGE',
      `container would be ${size} bytes, more than ${MAX_CONTAINER_BYTES}`,
    );
  }
  const w = new Writer(ContainerError)
    .bytes(CONTAINER_MAGIC)
    .u8(CONTAINER_VERSION)
    .u32(SAMPLE_RATE_HZ)
    .u8(CHANNELS)
    .u8(FRAME_DURATION_MS)
    .u16(preSkip)
    .u32(sampleCount);
  for (const p of packets) w.bytes16(p);
  return w.finish();
}

/** Decodes and fully validates a container. Returns fresh copies of the packets. Throws ContainerError. */
export function decodeContainer(bytes: Uint8Array): VoiceContainer {
  const scanner = new ContainerScanner();
  const ends = scanner.push(bytes);
  const info = scanner.finish();
  const packets: Uint8Array[] = [];
  for (let k = 1; k < ends.length; k++) {
    packets.push(bytes.slice(ends[k - 1]! + PACKET_PREFIX_LEN, ends[k]!));
  }
  return { preSkip: info.header.preSkip, sampleCount: info.header.sampleCount, packets };
}

/**
 * Validates a whole container and returns its boundaries in ascending order: 0, the header end (17),
 * then the end of every packet (the last one is the container's length). Throws ContainerError.
 */
export function packetBoundaries(container: Uint8Array): number[] {
  const scanner = new ContainerScanner();
  const ends = scanner.push(container);
  scanner.finish();
  return [0, ...ends];
}

/**
 * Plans blocks over known boundaries: starting at `startOffset` (which must be a boundary), each
 * block is the longest run of whole units (header or length-prefixed packets) of at most `maxBlock`
 * bytes. Throws NOT_A_BOUNDARY for a start inside a unit, BLOCK_TOO_SMALL when one unit does not
 * fit in `maxBlock`. A start equal to the last boundary gives no blocks.
 */
export function planBlocks(boundaries: readonly number[], maxBlock: number, startOffset = 0): BlockSpan[] {
  if (!Number.isInteger(maxBlock) || maxBlock < 1) {
    throw new ContainerError('BLOCK_TOO_SMALL', `block size ${maxBlock} must be a positive integer`);
  }
  let i = indexOfBoundary(boundaries, startOffset);
  if (i < 0) {
    throw new ContainerError('NOT_A_BOUNDARY', `offset ${startOffset} is not a header or packet boundary`);
  }
  const spans: BlockSpan[] = [];
  while (i < boundaries.length - 1) {
    const from = boundaries[i]!;
    let j = i;
    while (j + 1 < boundaries.length && boundaries[j + 1]! - from <= maxBlock) j++;
    if (j === i) {
      throw new ContainerError(
        'BLOCK_TOO_SMALL',
        `the unit at offset ${from} is ${boundaries[i + 1]! - from} bytes, more than the ${maxBlock}-byte block`,
      );
    }
    spans.push({ offset: from, length: boundaries[j]! - from });
    i = j;
  }
  return spans;
}

/**
 * Cuts a container into blocks of at most `maxBlock` bytes that each start and end on a boundary,
 * from `startOffset` (default 0). Validates the container first. Throws ContainerError.
 */
export function cutIntoBlocks(container: Uint8Array, maxBlock: number, startOffset = 0): Uint8Array[] {
  return planBlocks(packetBoundaries(container), maxBlock, startOffset).map((s) =>
    container.slice(s.offset, s.offset + s.length),
  );
}

/** Binary search for an exact boundary; -1 if absent. */
export function indexOfBoundary(boundaries: readonly number[], offset: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = boundaries[mid]!;
    if (v === offset) return mid;
    if (v < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
