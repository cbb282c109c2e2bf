import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Encoder } from '@evan/opus';
import CodecParser, { type OggPage, type OpusHeader } from 'codec-parser';
import { describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice } from '../../audio/decode.js';
import { encodeVoice } from '../../audio/encode.js';
import { AudioError } from '../../audio/errors.js';
import { voiceFromFile } from '../../audio/input.js';
import { encodeOggOpus, readOggOpus } from '../../audio/ogg.js';
import { decodeContainer } from '../../protocol/container/container.js';
import { speech16k, tempDir } from './helpers.js';

const SPEECH = speech16k(2.5, 21);

async function oggFile(bytes: Uint8Array): Promise<string> {
  const path = join(await tempDir(), 'message.opus');
  await writeFile(path, bytes);
  return path;
}

/** Encodes with libopus directly: `frame` samples per channel per packet (320 = 20 ms). */
function opusPackets(interleaved: Int16Array, channels: 1 | 2, frame: number): Uint8Array[] {
  const enc = new Encoder({ channels, sample_rate: 16000, application: 'voip' });
  enc.bitrate = 24000;
  const packets: Uint8Array[] = [];
  const step = frame * channels;
  for (let at = 0; at < interleaved.length + 104 * channels; at += step) {
    const chunk = new Int16Array(step);
    chunk.set(interleaved.subarray(at, Math.min(at + step, interleaved.length)));
    packets.push(enc.encode(chunk).slice());
  }
  return packets;
}

describe('encodeOggOpus', () => {
  it('writes a file that an independent Ogg parser (codec-parser) reads back: packets, pre-skip, end granule', async () => {
    const voice = decodeContainer((await encodeVoice(SPEECH.subarray(0, 16000 + 77), 16000)).container);
    const ogg = encodeOggOpus(voice);
    const pages = new CodecParser('audio/ogg').parseAll(ogg) as OggPage[];
    const frames = pages.flatMap((p) => p.codecFrames ?? []);
    expect(frames.map((f) => Array.from(f.data))).toEqual(voice.packets.map((p) => Array.from(p)));
    const header = frames[0]!.header as OpusHeader;
    expect(header).toMatchObject({ channels: 1, preSkip: 312, inputSampleRate: 16000 });
    expect(pages.at(-1)!.isLastPage).toBe(true);
    expect(Number(pages.at(-1)!.absoluteGranulePosition)).toBe(312 + (16000 + 77) * 3);
  });

  it('round-trips through readOggOpus, also when OpusTags spans several pages', () => {
    const packets = [Uint8Array.of(0x48, 1, 2), Uint8Array.of(0x48, 3), new Uint8Array(600).fill(0x48)];
    const comments = [`COMMENT=${'x'.repeat(70_000)}`]; // more than one page (255 x 255 bytes)
    const ogg = readOggOpus(encodeOggOpus({ packets, preSkip: 104, sampleCount: 700, comments }));
    expect(ogg.packets).toEqual(packets);
    expect(ogg).toMatchObject({ channels: 1, preSkip48k: 312, finalGranule: 312 + 2100, outputGainQ8: 0 });
  });
});

describe('Ogg Opus input', () => {
  it('passes mono 20 ms packets through without re-encoding: the container comes back byte for byte', async () => {
    const container = (await encodeVoice(SPEECH, 16000)).container;
    const voice = await voiceFromFile(await oggFile(encodeOggOpus(decodeContainer(container))));
    expect(voice).toMatchObject({ source: 'ogg-opus', reencoded: false, truncated: false });
    expect(Buffer.from(voice.container).equals(Buffer.from(container))).toBe(true);
  });

  it('decodes, downmixes and re-encodes a stereo file; the toy plays the downmix (correlation >= 0.9)', async () => {
    const stereo = new Int16Array(SPEECH.length * 2);
    SPEECH.forEach((v, i) => {
      stereo[2 * i] = v;
      stereo[2 * i + 1] = v;
    });
    const packets = opusPackets(stereo, 2, 320);
    const ogg = encodeOggOpus({ packets, preSkip: 104, sampleCount: SPEECH.length, channels: 2 });
    const voice = await voiceFromFile(await oggFile(ogg));
    expect(voice).toMatchObject({ reencoded: true, sampleCount: SPEECH.length });
    const played = await decodeVoice(voice.container);
    expect(correlate(SPEECH, played.pcm, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
  });

  it('re-encodes a mono file of 40 ms packets (the toy plays 20 ms packets only)', async () => {
    const packets = opusPackets(SPEECH, 1, 640);
    const ogg = encodeOggOpus({ packets, preSkip: 104, sampleCount: SPEECH.length });
    const voice = await voiceFromFile(await oggFile(ogg));
    expect(voice.reencoded).toBe(true);
    expect(decodeContainer(voice.container).packets.length).toBe(Math.ceil((SPEECH.length + 104) / 320));
    const played = await decodeVoice(voice.container);
    expect(correlate(SPEECH, played.pcm, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
  });

  it('applies the header output gain by re-encoding (-6.02 dB halves the amplitude)', async () => {
    const container = decodeContainer((await encodeVoice(SPEECH, 16000)).container);
    const plain = await voiceFromFile(await oggFile(encodeOggOpus(container)));
    const quieter = await voiceFromFile(await oggFile(encodeOggOpus({ ...container, outputGainQ8: -1541 })));
    expect(quieter.reencoded).toBe(true);
    const rms = (x: Int16Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
    const ratio =
      rms((await decodeVoice(quieter.container)).pcm) / rms((await decodeVoice(plain.container)).pcm);
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.55);
  });

  it('names a damaged page CORRUPT (CRC) and a cut file TRUNCATED', async () => {
    const ogg = encodeOggOpus(
      decodeContainer((await encodeVoice(SPEECH.subarray(0, 8000), 16000)).container),
    );
    const damaged = ogg.slice();
    damaged[damaged.length - 5]! ^= 0x40;
    await expect(voiceFromFile(await oggFile(damaged))).rejects.toMatchObject({
      code: 'CORRUPT',
      message: /CRC/,
    });
    await expect(voiceFromFile(await oggFile(ogg.subarray(0, ogg.length - 10)))).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
    await expect(voiceFromFile(await oggFile(ogg.subarray(0, 40)))).rejects.toBeInstanceOf(AudioError);
  });
});
