/**
 * Ogg Opus files (RFC 3533 pages, RFC 7845 encapsulation): a strict reader that returns the first
 * Opus logical stream's header fields and packets, and a writer that turns a voice container into a
 * standard `.opus` file any player opens.
 *
 * Why not codec-parser for reading: codec-parser 2.5 takes the OpusHead from page 0 and the OpusTags
 * from page 1 by page number, so a file whose OpusTags spans pages (cover art, long comments) has
 * its tail parsed as audio; it re-synchronises over garbage silently and does not check page CRCs.
 * The reader below assembles packets by their lacing, checks every CRC (CORRUPT), notices a cut
 * file (TRUNCATED), and is about 100 lines. codec-parser serves the tests as an independent parser
 * of what the writer produces.
 */
import { OGG_OPUS_GRANULE_RATE, VOICE_SAMPLE_RATE } from './constants.js';
import { audioError } from './errors.js';
import { inspectOpusPacket } from './opus-packet.js';

/** The OpusHead fields (RFC 7845 §5.1) and the packets of one Opus logical stream. */
export interface OggOpusStream {
  /** OpusHead version (0..15 are version 0.x, readable). */
  version: number;
  channels: number;
  /** Samples at 48 kHz to drop from the decoder's output. */
  preSkip48k: number;
  /** The sample rate the encoder was given, in Hz (information only; 0 = unspecified). */
  inputSampleRate: number;
  /** Gain to apply on output, Q7.8 dB (RFC 7845 §5.1). */
  outputGainQ8: number;
  mappingFamily: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMapping: number[];
  /** Audio packets in order (header packets excluded). */
  packets: Uint8Array[];
  /** Granule position of the last page that ends a packet: pre-skip + playable samples, at 48 kHz. */
  finalGranule: number;
}

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const PAGE_HEADER_LEN = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const NO_GRANULE = 0xffffffffffffffffn;

/** True when `bytes` starts with an Ogg page capture pattern. */
export function isOgg(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && CAPTURE.every((b, i) => bytes[i] === b);
}

/**
 * Reads the first Opus logical stream of an Ogg file (pages of other streams are skipped).
 * Throws AudioError: NOT_AUDIO (no Ogg capture pattern), CORRUPT (bad CRC, version or header
 * packet), TRUNCATED (ends inside a page or before the stream's headers), UNSUPPORTED_FORMAT
 * (Ogg without Opus: Vorbis, FLAC, ...), EMPTY_AUDIO (no audio packets).
 */
export function readOggOpus(bytes: Uint8Array): OggOpusStream {
  if (!isOgg(bytes)) throw audioError('NOT_AUDIO', 'not an Ogg file (no "OggS" at the start)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let serial: number | undefined;
  let head: Omit<OggOpusStream, 'packets' | 'finalGranule'> | undefined;
  let headerPackets = 0;
  let partial: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  let finalGranule: bigint | undefined;
  let ended = false;
  const firstCodecs: string[] = [];
  let pos = 0;
  while (pos < bytes.length && !ended) {
    if (pos + PAGE_HEADER_LEN > bytes.length)
      throw audioError('TRUNCATED', `the Ogg file ends inside a page header at byte ${pos}`);
    if (!CAPTURE.every((b, i) => bytes[pos + i] === b))
      throw audioError('CORRUPT', `no Ogg page starts at byte ${pos}`);
    if (bytes[pos + 4] !== 0)
      throw audioError('CORRUPT', `Ogg page version ${bytes[pos + 4]} at byte ${pos}`);
    const flags = bytes[pos + 5]!;
    const granule = view.getBigUint64(pos + 6, true);
    const pageSerial = view.getUint32(pos + 14, true);
    const segments = bytes[pos + 26]!;
    const bodyStart = pos + PAGE_HEADER_LEN + segments;
    if (bodyStart > bytes.length)
      throw audioError('TRUNCATED', `the Ogg file ends inside a segment table at byte ${pos}`);
    const lacing = bytes.subarray(pos + PAGE_HEADER_LEN, bodyStart);
    const bodyLength = lacing.reduce((a, b) => a + b, 0);
    const pageEnd = bodyStart + bodyLength;
    if (pageEnd > bytes.length)
      throw audioError('TRUNCATED', `the Ogg file ends inside a page at byte ${pos}`);
    const stored = view.getUint32(pos + 22, true);
    if (oggCrc(bytes.subarray(pos, pageEnd), 22) !== stored) {
      throw audioError('CORRUPT', `Ogg page at byte ${pos} fails its CRC check`);
    }
    if (serial === undefined && flags & FLAG_BOS) {
      const first = bytes.subarray(bodyStart, bodyStart + Math.min(8, bodyLength));
      const tag = String.fromCharCode(...first);
      if (tag === 'OpusHead') serial = pageSerial;
      else firstCodecs.push(describeCodec(first));
    }
    if (pageSerial === serial) {
      const continued = (flags & FLAG_CONTINUED) !== 0;
      if (continued !== partial.length > 0) {
        throw audioError('CORRUPT', `Ogg page at byte ${pos} breaks a packet's continuation`);
      }
      let offset = bodyStart;
      let endedPacket = false;
      for (const lace of lacing) {
        partial.push(bytes.subarray(offset, offset + lace));
        offset += lace;
        if (lace < 255) {
          const packet = concat(partial);
          partial = [];
          endedPacket = true;
          if (headerPackets === 0) head = parseOpusHead(packet);
          else if (headerPackets === 1) checkOpusTags(packet);
          else packets.push(packet);
          headerPackets++;
        }
      }
      if (endedPacket && granule !== NO_GRANULE && headerPackets > 2) finalGranule = granule;
      if (flags & FLAG_EOS) ended = true;
    }
    pos = pageEnd;
  }
  if (serial === undefined) {
    if (firstCodecs.length > 0) {
      throw audioError(
        'UNSUPPORTED_FORMAT',
        `an Ogg ${firstCodecs.join('/')} file: only Ogg Opus is read (or use WAV)`,
      );
    }
    throw audioError('TRUNCATED', 'the Ogg file has no stream header');
  }
  if (!head || headerPackets < 2) throw audioError('TRUNCATED', 'the Ogg Opus file ends inside its headers');
  if (partial.length > 0) throw audioError('TRUNCATED', 'the Ogg Opus file ends inside a packet');
  if (packets.length === 0) throw audioError('EMPTY_AUDIO', 'the Ogg Opus file holds no audio packets');
  if (finalGranule === undefined) throw audioError('CORRUPT', 'the Ogg Opus file has no granule position');
  return { ...head, packets, finalGranule: Number(finalGranule) };
}

function describeCodec(first: Uint8Array): string {
  const s = String.fromCharCode(...first);
  if (s.startsWith('\x01vorbis')) return 'Vorbis';
  if (s.startsWith('\x7fFLAC')) return 'FLAC';
  if (s.startsWith('Speex')) return 'Speex';
  if (s.startsWith('fishead')) return 'Skeleton';
  return 'unknown-codec';
}

/** RFC 7845 §5.1. */
function parseOpusHead(p: Uint8Array): Omit<OggOpusStream, 'packets' | 'finalGranule'> {
  if (p.length < 19 || String.fromCharCode(...p.subarray(0, 8)) !== 'OpusHead') {
    throw audioError('CORRUPT', 'the Ogg Opus identification header is malformed');
  }
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const version = p[8]!;
  if (version > 15)
    throw audioError(
      'UNSUPPORTED_FORMAT',
      `Ogg Opus version ${version >> 4}.${version & 15} is not readable`,
    );
  const channels = p[9]!;
  if (channels === 0) throw audioError('CORRUPT', 'the Ogg Opus header declares 0 channels');
  const mappingFamily = p[18]!;
  let streamCount = 1;
  let coupledStreamCount = channels > 1 ? 1 : 0;
  let channelMapping = channels > 1 ? [0, 1] : [0];
  if (mappingFamily === 0) {
    if (channels > 2) throw audioError('CORRUPT', `Ogg Opus mapping family 0 with ${channels} channels`);
  } else {
    if (p.length < 21 + channels)
      throw audioError('CORRUPT', 'the Ogg Opus channel mapping table is cut short');
    streamCount = p[19]!;
    coupledStreamCount = p[20]!;
    channelMapping = Array.from(p.subarray(21, 21 + channels));
    if (streamCount === 0 || coupledStreamCount > streamCount) {
      throw audioError('CORRUPT', 'the Ogg Opus stream counts are inconsistent');
    }
  }
  return {
    version,
    channels,
    preSkip48k: v.getUint16(10, true),
    inputSampleRate: v.getUint32(12, true),
    outputGainQ8: v.getInt16(16, true),
    mappingFamily,
    streamCount,
    coupledStreamCount,
    channelMapping,
  };
}

function checkOpusTags(p: Uint8Array): void {
  if (p.length < 8 || String.fromCharCode(...p.subarray(0, 8)) !== 'OpusTags') {
    throw audioError('CORRUPT', 'the Ogg Opus comment header (OpusTags) is missing');
  }
}

export interface OggOpusWriteInput {
  packets: readonly Uint8Array[];
  /** Pre-skip at 16 kHz (the container's). */
  preSkip: number;
  /** Playable samples at 16 kHz (the container's). */
  sampleCount: number;
  /** Channels in the OpusHead, mapping family 0 (default 1; PawLink messages are mono). */
  channels?: 1 | 2;
  /** Output gain in the OpusHead, Q7.8 dB (default 0). */
  outputGainQ8?: number;
  /** User comments in OpusTags, "NAME=value" (default none). */
  comments?: readonly string[];
  /** Vendor string in OpusTags (default "PawLink"). */
  vendor?: string;
  /** Stream serial number (default 0x5041574c, "PAWL"; any value is valid). */
  serial?: number;
}

/** Packets per audio page: 50 x 20 ms = 1 s, a common page duration (small pages seek well). */
const PACKETS_PER_PAGE = 50;
const MAX_SEGMENTS = 255;

/**
 * Writes an Ogg Opus file (RFC 7845): the OpusHead alone on the first page, OpusTags on the next
 * page(s), then the audio packets, up to 1 s per page. Granule positions count 48 kHz samples
 * (each packet's duration read from its TOC); the last page's is pre-skip + sampleCount, which
 * trims the end exactly (RFC 7845 §4.4). A packet longer than a page continues on the next one.
 */
export function encodeOggOpus(input: OggOpusWriteInput): Uint8Array {
  const serial = input.serial ?? 0x5041574c;
  const ratio = OGG_OPUS_GRANULE_RATE / VOICE_SAMPLE_RATE; // 3
  const preSkip48k = input.preSkip * ratio;
  const head = new Uint8Array(19);
  const hv = new DataView(head.buffer);
  head.set(ascii('OpusHead'));
  head[8] = 1; // version
  head[9] = input.channels ?? 1;
  hv.setUint16(10, preSkip48k, true);
  hv.setUint32(12, VOICE_SAMPLE_RATE, true); // the encoder's input rate: information only
  hv.setInt16(16, input.outputGainQ8 ?? 0, true);
  head[18] = 0; // mapping family 0: mono or stereo, no table
  const fields = [
    ascii(input.vendor ?? 'PawLink'),
    ...(input.comments ?? []).map((c) => new TextEncoder().encode(c)),
  ];
  const tags = new Uint8Array(8 + fields.reduce((a, f) => a + 4 + f.length, 0) + 4);
  const tv = new DataView(tags.buffer);
  tags.set(ascii('OpusTags'));
  let at = 8;
  fields.forEach((f, i) => {
    tv.setUint32(at, f.length, true);
    tags.set(f, at + 4);
    at += 4 + f.length;
    if (i === 0) {
      tv.setUint32(at, fields.length - 1, true); // user comment count follows the vendor string
      at += 4;
    }
  });

  const writer = new PageWriter(serial);
  writer.packet(head, 0n);
  writer.flush(FLAG_BOS);
  writer.packet(tags, 0n);
  writer.flush(0);
  let decoded = BigInt(0);
  const last = input.packets.length - 1;
  input.packets.forEach((p, i) => {
    const info = inspectOpusPacket(p);
    decoded += BigInt(typeof info === 'string' ? 960 : info.samples48k);
    const granule = i === last ? BigInt(preSkip48k + input.sampleCount * ratio) : decoded;
    writer.packet(p, granule);
    if (i === last) writer.flush(FLAG_EOS);
    else if (writer.packetsOnPage >= PACKETS_PER_PAGE) writer.flush(0);
  });
  return concat(writer.pages);
}

/** Lays packets out into pages: lacing values, continuation across pages, granules, CRCs. */
class PageWriter {
  readonly pages: Uint8Array[] = [];
  readonly #serial: number;
  #seq = 0;
  #lacing: number[] = [];
  #body: Uint8Array[] = [];
  #granule = NO_GRANULE; // of the last packet that ended on the current page
  #continued = false;
  packetsOnPage = 0;

  constructor(serial: number) {
    this.#serial = serial;
  }

  /** Adds a packet whose end has granule position `granule`. */
  packet(p: Uint8Array, granule: bigint): void {
    let offset = 0;
    for (;;) {
      if (this.#lacing.length === MAX_SEGMENTS) {
        this.flush(0);
        this.#continued = offset > 0; // the next page starts inside this packet
      }
      const n = Math.min(255, p.length - offset);
      this.#lacing.push(n);
      this.#body.push(p.subarray(offset, offset + n));
      offset += n;
      if (n < 255) break;
    }
    this.#granule = granule;
    this.packetsOnPage++;
  }

  /** Closes the current page (if it holds anything) with extra header `flags`. */
  flush(flags: number): void {
    if (this.#lacing.length === 0) return;
    const body = concat(this.#body);
    const page = new Uint8Array(PAGE_HEADER_LEN + this.#lacing.length + body.length);
    const v = new DataView(page.buffer);
    page.set(CAPTURE);
    page[5] = flags | (this.#continued ? FLAG_CONTINUED : 0);
    v.setBigUint64(6, this.#granule, true);
    v.setUint32(14, this.#serial >>> 0, true);
    v.setUint32(18, this.#seq++, true);
    page[26] = this.#lacing.length;
    page.set(this.#lacing, PAGE_HEADER_LEN);
    page.set(body, PAGE_HEADER_LEN + this.#lacing.length);
    v.setUint32(22, oggCrc(page, 22), true);
    this.pages.push(page);
    this.#lacing = [];
    this.#body = [];
    this.#granule = NO_GRANULE;
    this.#continued = false;
    this.packetsOnPage = 0;
  }
}

let crcTable: Uint32Array | undefined;

/**
 * The Ogg CRC-32 (RFC 3533 §6: polynomial 0x04c11db7, initial value 0, no reflection, no final XOR)
 * of `page`, with the 4 bytes at `crcOffset` taken as zero.
 */
export function oggCrc(page: Uint8Array, crcOffset: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      crcTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const b = i >= crcOffset && i < crcOffset + 4 ? 0 : page[i]!;
    crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  }
  return crc;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
