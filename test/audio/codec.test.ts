import { describe, expect, it, vi } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice, VoiceDecoder } from '../../audio/decode.js';
import { encodeVoice } from '../../audio/encode.js';
import { AudioError } from '../../audio/errors.js';
import { voicePacketProblem } from '../../audio/opus-packet.js';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { LIBOPUS_PRE_SKIP_16K } from '../../protocol/container/constants.js';
import { decodeContainer, encodeContainer } from '../../protocol/container/container.js';
import { ContainerError } from '../../protocol/errors.js';
import { speech16k } from './helpers.js';

const SOURCE = speech16k(4, 1);

describe('encodeVoice / decodeVoice round trip', () => {
  it('plays back the synthetic speech with correlation >= 0.9 at lag 0, at the exact length', async () => {
    const encoded = await encodeVoice(SOURCE, 16000);
    const decoded = await decodeVoice(encoded.container);
    expect(decoded.pcm.length).toBe(SOURCE.length);
    expect(decoded.corruptPackets).toBe(0);
    const match = correlate(SOURCE, decoded.pcm, { maxLag: 320 });
    expect(match.correlation).toBeGreaterThanOrEqual(0.9);
    expect(match.lag).toBe(0); // pre-skip removes the codec's delay exactly
  });

  it('fails the same check on other audio: the same speech 1 s later, and other speech', async () => {
    const decoded = await decodeVoice((await encodeVoice(SOURCE, 16000)).container);
    const shifted = correlate(SOURCE.subarray(16000), decoded.pcm, { maxLag: 320 });
    const other = correlate(speech16k(4, 99), decoded.pcm, { maxLag: 320 });
    expect(shifted.correlation).toBeLessThan(0.3);
    expect(other.correlation).toBeLessThan(0.3);
  });

  it('writes a standard container: libopus pre-skip 104, exact sample count, ceil((n + 104) / 320) packets of 20 ms', async () => {
    const pcm = SOURCE.subarray(0, 16000 + 123);
    const encoded = await encodeVoice(pcm, 16000);
    const c = decodeContainer(encoded.container);
    expect(c.preSkip).toBe(LIBOPUS_PRE_SKIP_16K);
    expect(c.sampleCount).toBe(pcm.length);
    expect(c.packets.length).toBe(Math.ceil((pcm.length + 104) / 320));
    expect(c.packets.every((p) => voicePacketProblem(p) === undefined)).toBe(true);
    expect(encoded).toMatchObject({
      sampleCount: pcm.length,
      packetCount: c.packets.length,
      truncated: false,
    });
    expect(encoded.durationMs).toBeCloseTo(pcm.length / 16, 6);
  });

  it('resamples 48 kHz float input to 16 kHz before encoding', async () => {
    const at48k = speechLikeSignal({ seconds: 2, sampleRate: 48000, seed: 3 });
    const reference = floatToInt16(speechLikeSignal({ seconds: 2, sampleRate: 16000, seed: 3 }));
    const decoded = await decodeVoice((await encodeVoice(at48k, 48000)).container);
    expect(decoded.pcm.length).toBe(32000);
    expect(correlate(reference, decoded.pcm, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
  });

  it('downmixes interleaved stereo (speech on the left, silence on the right) to the speech', async () => {
    const mono = SOURCE.subarray(0, 32000);
    const stereo = new Int16Array(mono.length * 2);
    mono.forEach((v, i) => {
      stereo[2 * i] = v;
    });
    const decoded = await decodeVoice((await encodeVoice(stereo, 16000, { channels: 2 })).container);
    expect(decoded.pcm.length).toBe(mono.length);
    expect(correlate(mono, decoded.pcm, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses empty input, a bad rate, and a channel count that does not divide the samples', async () => {
    await expect(encodeVoice(new Int16Array(0), 16000)).rejects.toMatchObject({ code: 'EMPTY_AUDIO' });
    // One sample at 44.1 kHz is less than one at 16 kHz.
    await expect(encodeVoice(Int16Array.of(5), 44100)).rejects.toMatchObject({ code: 'EMPTY_AUDIO' });
    await expect(encodeVoice(SOURCE, 44100.5)).rejects.toMatchObject({ code: 'BAD_SAMPLE_RATE' });
    await expect(encodeVoice(SOURCE, 0)).rejects.toBeInstanceOf(AudioError);
    await expect(encodeVoice(new Int16Array(3), 16000, { channels: 2 })).rejects.toMatchObject({
      code: 'BAD_CHANNELS',
    });
  });

  it('refuses more than 120 s with TOO_LONG, or keeps what the container can hold with truncate', async () => {
    const long = new Int16Array(120 * 16000 + 1);
    await expect(encodeVoice(long, 16000)).rejects.toMatchObject({ code: 'TOO_LONG' });
    const cut = await encodeVoice(long, 16000, { onTooLong: 'truncate' });
    // 6000 packets x 320 - 104 pre-skip: the container's capacity.
    expect(cut).toMatchObject({ truncated: true, sampleCount: 1_919_896, packetCount: 6000 });
    expect(decodeContainer(cut.container).packets.length).toBe(6000);
  });
});

describe('decoding damaged packets', () => {
  async function withBadPacket(bad: Uint8Array): Promise<Uint8Array> {
    const c = decodeContainer((await encodeVoice(SOURCE.subarray(0, 16000), 16000)).container);
    const packets = c.packets.slice();
    packets[10] = bad;
    return encodeContainer({ preSkip: c.preSkip, sampleCount: c.sampleCount, packets });
  }

  it('conceals a malformed packet as 20 ms of silence, keeps the length, counts it, prints nothing', async () => {
    const errors = vi.spyOn(console, 'error');
    try {
      // Code 3 with a frame count of 0 breaks RFC 6716 [R5].
      const decoded = await decodeVoice(await withBadPacket(Uint8Array.of(0x0b, 0x00)));
      expect(decoded.corruptPackets).toBe(1);
      expect(decoded.pcm.length).toBe(16000);
      // Packet 10 covers decoded samples 3200..3519, i.e. 3096..3415 after the 104-sample pre-skip.
      expect(decoded.pcm.subarray(3096, 3416).every((v) => v === 0)).toBe(true);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it('conceals a well-formed packet that does not last 20 ms (a 40 ms SILK frame)', async () => {
    const decoded = await decodeVoice(await withBadPacket(Uint8Array.of(0x10, 0x01, 0x02)));
    expect(decoded.corruptPackets).toBe(1);
    expect(decoded.pcm.length).toBe(16000);
  });

  it("throws CORRUPT_PACKET naming the packet with onCorruptPacket: 'error'", async () => {
    const bad = await withBadPacket(Uint8Array.of(0x0b, 0x00));
    await expect(decodeVoice(bad, { onCorruptPacket: 'error' })).rejects.toMatchObject({
      code: 'CORRUPT_PACKET',
      message: expect.stringContaining('packet 11 of'),
    });
  });

  it('refuses bytes that are not a valid container with the container layer error', async () => {
    await expect(decodeVoice(Uint8Array.of(1, 2, 3))).rejects.toBeInstanceOf(ContainerError);
  });
});

describe('VoiceDecoder', () => {
  it('gives identical output for a message whatever was decoded before (state reset between messages)', async () => {
    const a = (await encodeVoice(SOURCE.subarray(0, 16000), 16000)).container;
    const b = (await encodeVoice(speech16k(1, 7), 16000)).container;
    const decoder = await VoiceDecoder.create();
    try {
      const first = await decoder.decode(a);
      await decoder.decode(b);
      const again = await decoder.decode(a);
      expect(Buffer.from(again.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(true);
      // Concurrent calls queue up and give the same answers.
      const [x, y] = await Promise.all([decoder.decode(a), decoder.decode(a)]);
      expect(Buffer.from(x.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(true);
      expect(Buffer.from(y.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(true);
    } finally {
      decoder.free();
    }
  });
});
