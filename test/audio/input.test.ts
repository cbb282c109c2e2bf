import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice } from '../../audio/decode.js';
import { encodeOpusFrames } from '../../audio/encode.js';
import { AudioError } from '../../audio/errors.js';
import { readAudioFile, voiceFromFile, voiceFromOpusPackets, voiceFromPcm } from '../../audio/input.js';
import { encodeOggOpus, oggCrc } from '../../audio/ogg.js';
import { int16ToS16le } from '../../audio/pcm.js';
import { encodeWav } from '../../audio/wav.js';
import { decodeContainer } from '../../protocol/container/container.js';
import { speech16k, tempDir } from './helpers.js';

async function fileWith(bytes: Uint8Array | string, name = 'input'): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, bytes);
  return path;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(AudioError);
    return (e as AudioError).code;
  }
  throw new Error('expected an AudioError');
}

describe('readAudioFile: bad files are typed errors', () => {
  it('names a missing file and a directory FILE_UNREADABLE', async () => {
    const dir = await tempDir();
    expect(await codeOf(readAudioFile(join(dir, 'nope.wav')))).toBe('FILE_UNREADABLE');
    await mkdir(join(dir, 'sub.wav'));
    expect(await codeOf(readAudioFile(join(dir, 'sub.wav')))).toBe('FILE_UNREADABLE');
  });

  it('names an empty file FILE_EMPTY', async () => {
    expect(await codeOf(readAudioFile(await fileWith(new Uint8Array(0))))).toBe('FILE_EMPTY');
  });

  it('names a text file NOT_AUDIO and says it looks like text', async () => {
    const path = await fileWith('Hello, this is a note, not a recording.\n');
    await expect(readAudioFile(path)).rejects.toMatchObject({
      code: 'NOT_AUDIO',
      message: /looks like text/,
    });
  });

  it('names well-known formats it does not read UNSUPPORTED_FORMAT (MP3, FLAC, Ogg Vorbis)', async () => {
    await expect(
      readAudioFile(await fileWith(Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0))),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      message: /MP3/,
    });
    await expect(readAudioFile(await fileWith('fLaC\0\0\0\x22'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
    });
    const ogg = encodeOggOpus({ packets: [Uint8Array.of(0xf8, 1)], preSkip: 0, sampleCount: 320 });
    // Turn the identification header into a Vorbis one (and fix the page CRC).
    ogg.set([1, ...Array.from('vorbis', (c) => c.charCodeAt(0)), 0], 28);
    new DataView(ogg.buffer).setUint32(22, oggCrc(ogg.subarray(0, 28 + 19), 22), true);
    await expect(readAudioFile(await fileWith(ogg))).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT',
      message: /Vorbis/,
    });
  });

  it('names a WAV cut inside its data or inside its header TRUNCATED', async () => {
    const wav = encodeWav(speech16k(0.1), 16000);
    expect(await codeOf(readAudioFile(await fileWith(wav.subarray(0, 1000))))).toBe('TRUNCATED');
    expect(await codeOf(readAudioFile(await fileWith(wav.subarray(0, 30))))).toBe('TRUNCATED');
  });

  it('names a WAV with no samples EMPTY_AUDIO', async () => {
    expect(await codeOf(readAudioFile(await fileWith(encodeWav(new Int16Array(0)))))).toBe('EMPTY_AUDIO');
  });

  it('refuses a file larger than any 120 s message without reading it (FILE_TOO_LARGE)', async () => {
    const path = join(await tempDir(), 'huge.wav');
    const handle = await open(path, 'w');
    await handle.truncate(257 * 1024 * 1024); // sparse: no disk space used
    await handle.close();
    expect(await codeOf(readAudioFile(path))).toBe('FILE_TOO_LARGE');
  });

  it('puts the file name in the message, and never a stack trace', async () => {
    const path = await fileWith('not audio', 'notes.txt');
    await expect(readAudioFile(path)).rejects.toMatchObject({
      message: expect.stringContaining('notes.txt'),
    });
  });
});

describe('too long input', () => {
  it('refuses a WAV over 120 s with TOO_LONG, or keeps its first 120 s with truncate', async () => {
    const path = await fileWith(encodeWav(new Int16Array(16000 * 121), 16000), 'long.wav');
    await expect(voiceFromFile(path)).rejects.toMatchObject({
      code: 'TOO_LONG',
      message: /long\.wav: .*121\.0 s/,
    });
    const cut = await voiceFromFile(path, { onTooLong: 'truncate' });
    expect(cut).toMatchObject({ truncated: true, sampleCount: 1_919_896, packetCount: 6000 });
  });
});

describe('raw PCM', () => {
  it('encodes s16le bytes at a given rate like the same samples', async () => {
    const pcm = speech16k(1, 12);
    const voice = await voiceFromPcm(int16ToS16le(pcm), 16000);
    expect(voice).toMatchObject({ source: 'pcm', reencoded: true, sampleCount: 16000 });
    const played = await decodeVoice(voice.container);
    expect(correlate(pcm, played.pcm, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses an odd number of bytes with BAD_PCM', async () => {
    expect(await codeOf(voiceFromPcm(new Uint8Array(3), 16000))).toBe('BAD_PCM');
  });
});

describe('Opus packets', () => {
  it('wraps 20 ms packets without re-encoding, with the default pre-skip 104', async () => {
    const { packets } = await encodeOpusFrames(speech16k(0.5, 13));
    const voice = voiceFromOpusPackets(packets);
    expect(voice).toMatchObject({ source: 'opus-packets', reencoded: false, preSkip: 104 });
    expect(decodeContainer(voice.container).packets).toEqual(packets);
  });

  it('names the first bad packet and why (BAD_OPUS_PACKET)', () => {
    const bad = [Uint8Array.of(0x48, 1), Uint8Array.of(0x50, 1)]; // 20 ms, then 40 ms
    expect(() => voiceFromOpusPackets(bad)).toThrow(
      expect.objectContaining({
        code: 'BAD_OPUS_PACKET',
        message: expect.stringMatching(/packet 2 of 2.*40 ms/),
      }),
    );
  });

  it('refuses more than 6000 packets (120 s) with TOO_LONG, or keeps 6000 with truncate', () => {
    const packets = Array.from({ length: 6001 }, () => Uint8Array.of(0x48, 1));
    expect(() => voiceFromOpusPackets(packets)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }));
    expect(voiceFromOpusPackets(packets, { onTooLong: 'truncate' })).toMatchObject({
      packetCount: 6000,
      truncated: true,
    });
  });

  it('refuses an empty list with EMPTY_AUDIO', () => {
    expect(() => voiceFromOpusPackets([])).toThrow(expect.objectContaining({ code: 'EMPTY_AUDIO' }));
  });
});
