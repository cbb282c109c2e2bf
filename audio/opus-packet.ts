/**
 * Opus packet framing (RFC 6716 §3): reads the TOC byte and the frame-count/length fields, checks
 * the packet against the rules of §3.4 ([R1]..[R7]) and returns its duration. Pure; no decoding.
 *
 * Two uses: the player checks every stored packet before handing it to libopus (so a malformed
 * packet is concealed and counted instead of making opus-decoder print to stderr), and the Ogg
 * reader checks that a file's packets all last exactly 20 ms before passing them through unchanged.
 */

/** What the TOC byte says (RFC 6716 §3.1). */
export interface OpusToc {
  /** Configuration number 0..31 (Table 2). */
  config: number;
  mode: 'silk' | 'hybrid' | 'celt';
  /** Duration of each frame, in 48 kHz samples (120 = 2.5 ms ... 2880 = 60 ms). */
  frameSamples48k: number;
  stereo: boolean;
  /** Frame-count code c: 0 one frame, 1 two equal, 2 two different, 3 arbitrary (§3.2). */
  code: number;
}

/** A packet that passed [R1]..[R7]. */
export interface OpusPacketInfo extends OpusToc {
  frameCount: number;
  /** Total duration in 48 kHz samples (frameCount x frameSamples48k); 960 = 20 ms. */
  samples48k: number;
}

/** Longest frame payload in bytes ([R2]). */
const MAX_FRAME_BYTES = 1275;
/** Longest packet duration in 48 kHz samples: 120 ms ([R5]). */
const MAX_PACKET_SAMPLES_48K = 5760;

/** SILK frame sizes by config % 4 (10, 20, 40, 60 ms), CELT by config % 4 (2.5, 5, 10, 20 ms), at 48 kHz. */
const SILK_SIZES = [480, 960, 1920, 2880] as const;
const CELT_SIZES = [120, 240, 480, 960] as const;

/** Decodes a TOC byte (any byte is a valid TOC). */
export function parseToc(toc: number): OpusToc {
  const config = toc >> 3;
  const stereo = (toc & 0x04) !== 0;
  const code = toc & 0x03;
  if (config < 12) return { config, mode: 'silk', frameSamples48k: SILK_SIZES[config & 3]!, stereo, code };
  if (config < 16) return { config, mode: 'hybrid', frameSamples48k: config & 1 ? 960 : 480, stereo, code };
  return { config, mode: 'celt', frameSamples48k: CELT_SIZES[config & 3]!, stereo, code };
}

/**
 * Checks a packet against RFC 6716 §3.4 and returns its layout, or a one-line reason it is malformed.
 * A well-formed packet is what libopus's own parser accepts.
 */
export function inspectOpusPacket(packet: Uint8Array): OpusPacketInfo | string {
  if (packet.length < 1) return 'empty packet (RFC 6716 [R1]: at least the TOC byte)';
  const toc = parseToc(packet[0]!);
  const body = packet.length - 1;
  let frameCount: number;
  switch (toc.code) {
    case 0:
      if (body > MAX_FRAME_BYTES) return `frame of ${body} bytes, more than ${MAX_FRAME_BYTES} ([R2])`;
      frameCount = 1;
      break;
    case 1:
      if (body % 2 !== 0) return `code 1 packet with an odd payload of ${body} bytes ([R3])`;
      if (body / 2 > MAX_FRAME_BYTES)
        return `frames of ${body / 2} bytes, more than ${MAX_FRAME_BYTES} ([R3])`;
      frameCount = 2;
      break;
    case 2: {
      const first = readFrameLength(packet, 1);
      if (first === undefined) return 'code 2 packet ends inside its first frame length ([R4])';
      const rest = packet.length - first.next;
      if (first.length > rest)
        return `code 2 first frame of ${first.length} bytes overruns the packet ([R4])`;
      if (rest - first.length > MAX_FRAME_BYTES)
        return `second frame longer than ${MAX_FRAME_BYTES} bytes ([R4])`;
      frameCount = 2;
      break;
    }
    default: {
      const reason = checkCode3(packet, toc.frameSamples48k);
      if (typeof reason === 'string') return reason;
      frameCount = reason;
    }
  }
  return { ...toc, frameCount, samples48k: frameCount * toc.frameSamples48k };
}

/** [R5]..[R7] for a code 3 packet; returns the frame count M or a reason. */
function checkCode3(packet: Uint8Array, frameSamples48k: number): number | string {
  if (packet.length < 2) return 'code 3 packet without its frame count byte ([R6])';
  const countByte = packet[1]!;
  const vbr = (countByte & 0x80) !== 0;
  const padded = (countByte & 0x40) !== 0;
  const m = countByte & 0x3f;
  if (m === 0) return 'code 3 packet with 0 frames ([R5])';
  if (m * frameSamples48k > MAX_PACKET_SAMPLES_48K)
    return `code 3 packet of ${m} frames lasts over 120 ms ([R5])`;
  let pos = 2;
  let padding = 0;
  if (padded) {
    // Padding length: bytes of 255 add 254 each and continue; the first other byte ends it (§3.2.5).
    for (;;) {
      if (pos >= packet.length) return 'code 3 packet ends inside its padding length ([R6])';
      const b = packet[pos++]!;
      padding += b === 255 ? 254 : b;
      if (b !== 255) break;
    }
  }
  let available = packet.length - pos - padding;
  if (available < 0) return 'code 3 padding longer than the packet ([R6])';
  if (!vbr) {
    if (available % m !== 0)
      return `code 3 CBR payload of ${available} bytes does not split into ${m} frames ([R6])`;
    if (available / m > MAX_FRAME_BYTES)
      return `code 3 CBR frames longer than ${MAX_FRAME_BYTES} bytes ([R6])`;
    return m;
  }
  for (let i = 0; i < m - 1; i++) {
    const f = readFrameLength(packet, pos);
    if (f === undefined) return 'code 3 packet ends inside a frame length ([R7])';
    available -= f.next - pos;
    pos = f.next;
    if (f.length > available) return 'code 3 VBR frames overrun the packet ([R7])';
    available -= f.length;
  }
  if (available < 0) return 'code 3 VBR frames overrun the packet ([R7])';
  if (available > MAX_FRAME_BYTES) return `code 3 last frame longer than ${MAX_FRAME_BYTES} bytes ([R7])`;
  return m;
}

/** A frame length in 1 or 2 bytes (§3.2.1): 0..251 in one byte; 252..255 then a second byte x 4. */
function readFrameLength(packet: Uint8Array, at: number): { length: number; next: number } | undefined {
  if (at >= packet.length) return undefined;
  const b0 = packet[at]!;
  if (b0 < 252) return { length: b0, next: at + 1 };
  if (at + 1 >= packet.length) return undefined;
  return { length: b0 + 4 * packet[at + 1]!, next: at + 2 };
}

/** Duration of one PawLink packet in 48 kHz samples: 20 ms (PROTOCOL.md §10). */
export const VOICE_PACKET_SAMPLES_48K = 960;

/**
 * Returns a reason when `packet` cannot be a PawLink voice packet (malformed, or not exactly 20 ms),
 * else undefined.
 */
export function voicePacketProblem(packet: Uint8Array): string | undefined {
  const info = inspectOpusPacket(packet);
  if (typeof info === 'string') return info;
  if (info.samples48k !== VOICE_PACKET_SAMPLES_48K) {
    return `packet lasts ${info.samples48k / 48} ms, not 20 ms`;
  }
  return undefined;
}
