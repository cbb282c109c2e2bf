import { describe, expect, it } from 'vitest';
import { encodeOpusFrames } from '../../audio/encode.js';
import { inspectOpusPacket, parseToc, voicePacketProblem } from '../../audio/opus-packet.js';
import { speech16k } from './helpers.js';

/** TOC byte: config (0..31), stereo flag, frame-count code. */
const toc = (config: number, code: number, stereo = false) => (config << 3) | (stereo ? 4 : 0) | code;

describe('Opus packet framing (RFC 6716 §3)', () => {
  it('reads mode and frame duration from the TOC byte (Table 2)', () => {
    expect(parseToc(toc(1, 0))).toMatchObject({ mode: 'silk', frameSamples48k: 960 });
    expect(parseToc(toc(11, 0))).toMatchObject({ mode: 'silk', frameSamples48k: 2880 });
    expect(parseToc(toc(13, 0))).toMatchObject({ mode: 'hybrid', frameSamples48k: 960 });
    expect(parseToc(toc(16, 0))).toMatchObject({ mode: 'celt', frameSamples48k: 120 });
    expect(parseToc(toc(31, 0, true))).toMatchObject({ mode: 'celt', frameSamples48k: 960, stereo: true });
  });

  it('accepts well-formed packets of each code and gives their duration', () => {
    expect(inspectOpusPacket(Uint8Array.of(toc(9, 0), 1, 2, 3))).toMatchObject({
      frameCount: 1,
      samples48k: 960,
    });
    expect(inspectOpusPacket(Uint8Array.of(toc(0, 1), 1, 2))).toMatchObject({
      frameCount: 2,
      samples48k: 960,
    });
    expect(inspectOpusPacket(Uint8Array.of(toc(0, 2), 1, 9, 8))).toMatchObject({ frameCount: 2 });
    // Code 3, CBR, 2 frames of 10 ms, padding flag with 1 byte of padding.
    expect(inspectOpusPacket(Uint8Array.of(toc(0, 3), 0x42, 1, 5, 5, 0))).toMatchObject({
      frameCount: 2,
      samples48k: 960,
    });
    // Code 3, VBR, 2 frames: first frame 1 byte, the rest is the second.
    expect(inspectOpusPacket(Uint8Array.of(toc(0, 3), 0x82, 1, 7, 8, 9))).toMatchObject({ frameCount: 2 });
  });

  it.each([
    ['[R1] empty', []],
    ['[R2] a code 0 frame over 1275 bytes', [toc(9, 0), ...new Array(1276).fill(0)]],
    ['[R3] code 1 with an odd payload', [toc(9, 1), 1, 2, 3]],
    ['[R4] code 2 whose first frame overruns', [toc(9, 2), 5, 1]],
    ['[R4] code 2 ending inside a 2-byte length', [toc(9, 2), 252]],
    ['[R5] code 3 with 0 frames', [toc(9, 3), 0]],
    ['[R5] code 3 over 120 ms', [toc(11, 3), 3]],
    ['[R6] code 3 CBR not splitting evenly', [toc(0, 3), 2, 1, 2, 3]],
    ['[R6] code 3 padding longer than the packet', [toc(0, 3), 0x41, 9]],
    ['[R7] code 3 VBR frames overrunning', [toc(0, 3), 0x82, 9, 1]],
  ])('refuses %s', (_name, bytes) => {
    expect(typeof inspectOpusPacket(Uint8Array.from(bytes))).toBe('string');
  });

  it('names a well-formed packet that does not last 20 ms as not a voice packet', () => {
    expect(voicePacketProblem(Uint8Array.of(toc(10, 0), 1))).toMatch(/40 ms/);
    expect(voicePacketProblem(Uint8Array.of(toc(9, 0), 1))).toBeUndefined();
  });

  it('accepts every packet the encoder makes as a 20 ms voice packet', async () => {
    const { packets } = await encodeOpusFrames(speech16k(1, 4));
    expect(packets.length).toBeGreaterThan(40);
    for (const p of packets) expect(voicePacketProblem(p)).toBeUndefined();
  });
});
