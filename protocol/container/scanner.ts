/**
 * The one parser of the voice container. `ContainerScanner` validates a container fed in arbitrary
 * chunks (the transfer receiver feeds it block by block and asks whether a block ended on a packet
 * boundary); `decodeContainer` in container.ts is the same scanner fed all bytes at once. Both
 * therefore accept exactly the same byte strings and report the same error code for the same bytes:
 * every check fires at a fixed byte position, whatever the chunking.
 *
 * Layout (PROTOCOL.md, "Voice container"; all integers little-endian):
 *
 *   offset size field
 *   0      4    magic "PAWV"
 *   4      1    version = 1
 *   5      4    sample rate in Hz = 16000
 *   9      1    channels = 1
 *   10     1    frame duration in ms = 20
 *   11     2    pre-skip in samples, 0..960
 *   13     4    sample count (decoded samples after pre-skip), >= 1
 *   17     ...  packets: u16 length (1..1275) then that many bytes of one Opus packet
 *
 * Sample-count rule: the packet count is exactly ceil((sampleCount + preSkip) / 320), at most 6000.
 */
import { Reader } from '../bytes.js';
import { ContainerError } from '../errors.js';
import {
  CHANNELS,
  CONTAINER_HEADER_LEN,
  CONTAINER_MAGIC,
  CONTAINER_VERSION,
  FRAME_DURATION_MS,
  MAX_CONTAINER_BYTES,
  MAX_PACKET_BYTES,
  MAX_PACKETS,
  MAX_PRE_SKIP,
  MIN_PACKET_BYTES,
  SAMPLE_RATE_HZ,
  SAMPLES_PER_PACKET,
} from './constants.js';

/** The decoded container header. Only one value is allowed for version, rate, channels and frame. */
export interface ContainerHeader {
  version: typeof CONTAINER_VERSION;
  sampleRate: typeof SAMPLE_RATE_HZ;
  channels: typeof CHANNELS;
  frameDurationMs: typeof FRAME_DURATION_MS;
  /** Samples (at 16 kHz) the player drops from the start of the decoded output (RFC 7845 section 4.2). */
  preSkip: number;
  /** Decoded samples after pre-skip: the message's exact length (sampleCount / 16 = milliseconds). */
  sampleCount: number;
}

/** What a complete, valid container holds, without its packets. */
export interface ContainerInfo {
  header: ContainerHeader;
  packetCount: number;
  byteLength: number;
  /** Exact duration in milliseconds (sampleCount / 16, may be fractional). */
  durationMs: number;
}

/**
 * The packet count a header implies: ceil((sampleCount + preSkip) / 320). Every packet decodes to
 * 320 samples; the first preSkip are dropped and the output is cut to sampleCount, so the last packet
 * contributes 1..320 samples (end trimming, like Ogg Opus, RFC 7845 section 4.4) and no packet is
 * wholly trimmed away.
 */
export function packetsForSamples(sampleCount: number, preSkip: number): number {
  return Math.ceil((sampleCount + preSkip) / SAMPLES_PER_PACKET);
}

/**
 * Checks the header fields (shared by the scanner and by `encodeContainer`, so both enforce the same
 * rules). Returns the implied packet count.
 */
export function checkHeaderFields(preSkip: number, sampleCount: number): number {
  if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > MAX_PRE_SKIP) {
    throw new ContainerError('BAD_PRE_SKIP', `pre-skip ${preSkip} is outside 0..${MAX_PRE_SKIP} samples`);
  }
  if (!Number.isInteger(sampleCount) || sampleCount < 1) {
    throw new ContainerError('BAD_SAMPLE_COUNT', `sample count ${sampleCount} must be a positive integer`);
  }
  const packets = packetsForSamples(sampleCount, preSkip);
  if (packets > MAX_PACKETS) {
    throw new ContainerError(
      'BAD_SAMPLE_COUNT',
      `sample count ${sampleCount} + pre-skip ${preSkip} needs ${packets} packets, more than ${MAX_PACKETS} (120 s)`,
    );
  }
  return packets;
}

/** Checks one packet length (shared by the scanner and `encodeContainer`). */
export function checkPacketLength(length: number, at: string): void {
  if (length < MIN_PACKET_BYTES) {
    throw new ContainerError('EMPTY_PACKET', `zero-length packet ${at} (a lost-packet marker, not audio)`);
  }
  if (length > MAX_PACKET_BYTES) {
    throw new ContainerError(
      'PACKET_TOO_LARGE',
      `packet ${at} is ${length} bytes, more than ${MAX_PACKET_BYTES}`,
    );
  }
}

function parseHeader(bytes: Uint8Array): { header: ContainerHeader; expected: number } {
  const r = new Reader(bytes, ContainerError, 'container header');
  const magic = r.bytes(4);
  if (!magic.every((b, i) => b === CONTAINER_MAGIC[i])) {
    throw new ContainerError('BAD_MAGIC', 'not a PawLink voice container (magic is not "PAWV")');
  }
  const version = r.u8();
  if (version !== CONTAINER_VERSION) {
    throw new ContainerError(
      'UNSUPPORTED_VERSION',
      `container version ${version} (only ${CONTAINER_VERSION})`,
    );
  }
  const sampleRate = r.u32();
  if (sampleRate !== SAMPLE_RATE_HZ) {
    throw new ContainerError(
      'UNSUPPORTED_SAMPLE_RATE',
      `sample rate ${sampleRate} Hz (only ${SAMPLE_RATE_HZ})`,
    );
  }
  const channels = r.u8();
  if (channels !== CHANNELS) {
    throw new ContainerError('UNSUPPORTED_CHANNELS', `${channels} channels (only mono)`);
  }
  const frame = r.u8();
  if (frame !== FRAME_DURATION_MS) {
    throw new ContainerError(
      'UNSUPPORTED_FRAME_DURATION',
      `frame duration ${frame} ms (only ${FRAME_DURATION_MS})`,
    );
  }
  const preSkip = r.u16();
  const sampleCount = r.u32();
  r.end();
  const expected = checkHeaderFields(preSkip, sampleCount);
  return {
    header: {
      version: CONTAINER_VERSION,
      sampleRate: SAMPLE_RATE_HZ,
      channels: CHANNELS,
      frameDurationMs: FRAME_DURATION_MS,
      preSkip,
      sampleCount,
    },
    expected,
  };
}

/** The scanner's whole state: small, copied on every push so a failing push changes nothing. */
interface ScanState {
  /** Bytes consumed so far. */
  offset: number;
  /** Header bytes gathered while the header is incomplete. */
  headerBytes: number[];
  header: ContainerHeader | undefined;
  /** Packets the header implies. */
  expected: number;
  /** Complete packets so far. */
  packets: number;
  /** Low byte of a length prefix split across chunks, or -1. */
  prefixLow: number;
  /** Bytes still missing from the current packet body (0 when not inside a packet). */
  packetLeft: number;
}

/**
 * Streaming validator of a voice container. `push` is atomic: it either accepts the whole chunk or
 * throws a ContainerError and leaves the scanner exactly as it was.
 */
export class ContainerScanner {
  private s: ScanState = {
    offset: 0,
    headerBytes: [],
    header: undefined,
    expected: 0,
    packets: 0,
    prefixLow: -1,
    packetLeft: 0,
  };

  /** @param maxBytes total size limit (default MAX_CONTAINER_BYTES); a byte beyond it is TOO_LARGE. */
  constructor(private readonly maxBytes: number = MAX_CONTAINER_BYTES) {}

  /** Bytes accepted so far. */
  get offset(): number {
    return this.s.offset;
  }

  /** The header, once its 17 bytes have been accepted. */
  get header(): ContainerHeader | undefined {
    return this.s.header;
  }

  /** Complete packets accepted so far. */
  get packetCount(): number {
    return this.s.packets;
  }

  /**
   * True when `offset` is a boundary: the start (0), the end of the header, or the end of a packet.
   * Transfer blocks start and end only on boundaries.
   */
  get atBoundary(): boolean {
    const s = this.s;
    if (s.offset === 0) return true;
    return s.header !== undefined && s.prefixLow < 0 && s.packetLeft === 0;
  }

  /**
   * Validates `chunk` as the next bytes of the container. Returns the boundaries (absolute offsets)
   * completed inside it: the header end and each packet end, in order. With `requireBoundary`, a
   * chunk that does not end on a boundary is refused (SPLITS_PACKET) and not accepted.
   * Throws ContainerError; on throw nothing changes.
   */
  push(chunk: Uint8Array, requireBoundary = false): number[] {
    const prev = this.s;
    let { offset, header, expected, packets, prefixLow, packetLeft } = prev;
    let headerBytes = prev.headerBytes;
    const ends: number[] = [];
    // Bytes beyond maxBytes are refused at the first such byte, after any earlier error.
    const usable = Math.max(0, Math.min(chunk.length, this.maxBytes - offset));
    let i = 0;
    while (i < usable) {
      if (header === undefined) {
        const take = Math.min(CONTAINER_HEADER_LEN - headerBytes.length, usable - i);
        headerBytes = headerBytes.concat(Array.from(chunk.subarray(i, i + take)));
        i += take;
        if (headerBytes.length === CONTAINER_HEADER_LEN) {
          ({ header, expected } = parseHeader(Uint8Array.from(headerBytes)));
          headerBytes = [];
          ends.push(offset + i);
        }
      } else if (packetLeft > 0) {
        const take = Math.min(packetLeft, usable - i);
        packetLeft -= take;
        i += take;
        if (packetLeft === 0) {
          packets += 1;
          ends.push(offset + i);
        }
      } else {
        let length: number;
        if (prefixLow >= 0) {
          length = prefixLow | (chunk[i]! << 8);
          prefixLow = -1;
          i += 1;
        } else {
          if (packets >= expected) {
            throw new ContainerError(
              'TRAILING_BYTES',
              `bytes after the last of the ${expected} packets the header implies, at offset ${offset + i}`,
            );
          }
          if (usable - i < 2) {
            prefixLow = chunk[i]!;
            i += 1;
            continue;
          }
          length = chunk[i]! | (chunk[i + 1]! << 8);
          i += 2;
        }
        checkPacketLength(length, `${packets + 1} at offset ${offset + i - 2}`);
        packetLeft = length;
      }
    }
    if (usable < chunk.length) {
      throw new ContainerError('TOO_LARGE', `container exceeds ${this.maxBytes} bytes`);
    }
    offset += chunk.length;
    const next: ScanState = { offset, headerBytes, header, expected, packets, prefixLow, packetLeft };
    if (requireBoundary && !(header !== undefined && prefixLow < 0 && packetLeft === 0)) {
      throw new ContainerError('SPLITS_PACKET', `offset ${offset} is inside the header or a packet`);
    }
    this.s = next;
    return ends;
  }

  /**
   * Checks that the bytes accepted so far form a complete container and describes it. Does not
   * change the scanner. Throws TRUNCATED (inside the header or a packet) or PACKET_COUNT_MISMATCH
   * (fewer packets than the sample count implies).
   */
  finish(): ContainerInfo {
    const s = this.s;
    if (s.header === undefined || s.prefixLow >= 0 || s.packetLeft > 0) {
      throw new ContainerError('TRUNCATED', `container truncated at offset ${s.offset}`);
    }
    if (s.packets !== s.expected) {
      throw new ContainerError(
        'PACKET_COUNT_MISMATCH',
        `${s.packets} packets but sample count ${s.header.sampleCount} and pre-skip ${s.header.preSkip} imply ${s.expected}`,
      );
    }
    return {
      header: { ...s.header },
      packetCount: s.packets,
      byteLength: s.offset,
      durationMs: s.header.sampleCount / (SAMPLE_RATE_HZ / 1000),
    };
  }
}
