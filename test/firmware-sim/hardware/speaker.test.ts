import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { correlate } from '../../../audio/correlate.js';
import { decodeVoice } from '../../../audio/decode.js';
import { encodeVoice } from '../../../audio/encode.js';
import { floatToInt16, int16ToS16le } from '../../../audio/pcm.js';
import { readWav } from '../../../audio/wav.js';
import {
  createSpeaker,
  detectSoundCard,
  parseSpeakerSpec,
  type SpeakerOptions,
} from '../../../firmware-sim/hardware/speaker.js';
import { ManualClock } from '../../../radio/clock.js';
import { speech16k, tempDir } from '../../audio/helpers.js';

const PCM = speech16k(1, 31);

async function readPlayed(path: string): Promise<Int16Array> {
  const wav = readWav(new Uint8Array(await readFile(path)));
  expect(wav).toMatchObject({ sampleRate: 16000, encoding: 'pcm-16' });
  expect(wav.channels.length).toBe(1);
  return floatToInt16(wav.channels[0]!);
}

/** Writes a stand-in for the `speaker` package; `body` is the CommonJS module text. */
async function fakePlayer(body: string): Promise<{ module: string; dir: string }> {
  const dir = await tempDir();
  const module = join(dir, 'fake-speaker.cjs');
  await writeFile(module, body);
  return { module, dir };
}

/** A Writable like `speaker`: collects what it is given into played.raw beside itself, then emits 'close'. */
const RECORDING_PLAYER = `
const { Writable } = require('node:stream');
const fs = require('node:fs');
const path = require('node:path');
module.exports = class FakeSpeaker extends Writable {
  constructor(format) {
    super();
    fs.writeFileSync(path.join(__dirname, 'format.json'), JSON.stringify(format));
    this.chunks = [];
  }
  _write(chunk, _enc, cb) { this.chunks.push(chunk); cb(); }
  _final(cb) {
    fs.writeFileSync(path.join(__dirname, 'played.raw'), Buffer.concat(this.chunks));
    cb();
    this.emit('close');
  }
};`;

describe('speaker to WAV files (file:DIR)', () => {
  it('writes one valid 16 kHz mono WAV per playback holding exactly the samples played, at volume 255', async () => {
    const dir = await tempDir();
    const speaker = await createSpeaker(`file:${dir}`, { clock: new ManualClock(), pace: 'instant' });
    expect(speaker).toMatchObject({ kind: 'file', notice: `playback: WAV files in ${dir}`, directory: dir });
    const result = await speaker.play(PCM).done;
    expect(result).toMatchObject({ completed: true, playedSamples: PCM.length });
    expect(result.path).toBe(join(dir, 'playback-0001.wav'));
    expect(await readPlayed(result.path!)).toEqual(PCM);
    expect(await readdir(dir)).toEqual(['playback-0001.wav']); // no temporary file left
  });

  it('plays a decoded voice message that matches its source (correlation >= 0.9), and fails the check on other audio', async () => {
    const dir = await tempDir();
    const speaker = await createSpeaker(`file:${dir}`, { clock: new ManualClock(), pace: 'instant' });
    const message = await decodeVoice((await encodeVoice(PCM, 16000)).container);
    const played = await readPlayed((await speaker.play(message.pcm).done).path!);
    expect(correlate(PCM, played, { maxLag: 320 }).correlation).toBeGreaterThanOrEqual(0.9);
    expect(correlate(speech16k(1, 32), played, { maxLag: 320 }).correlation).toBeLessThan(0.3);
  });

  it('lasts the message duration on the injected clock, and a stop keeps only what was played', async () => {
    const dir = await tempDir();
    const clock = new ManualClock();
    const speaker = await createSpeaker(`file:${dir}`, { clock });
    let ended = false;
    const full = speaker.play(PCM);
    void full.done.then(() => {
      ended = true;
    });
    clock.advance(999);
    await Promise.resolve();
    expect(ended).toBe(false);
    expect(speaker.playing).toBe(true);
    clock.advance(1);
    expect(await full.done).toMatchObject({ completed: true, playedSamples: 16000 });
    expect(speaker.playing).toBe(false);

    const partial = speaker.play(PCM, { label: 'msg 7/x' });
    clock.advance(400);
    partial.stop();
    const result = await partial.done;
    expect(result).toMatchObject({ completed: false, playedSamples: 6400 });
    expect(result.path).toBe(join(dir, 'playback-0002-msg7x.wav'));
    expect(await readPlayed(result.path!)).toEqual(PCM.subarray(0, 6400));
  });

  it('writes no file for a playback stopped before any sample was played', async () => {
    const dir = await tempDir();
    const speaker = await createSpeaker(`file:${dir}`, { clock: new ManualClock() });
    const playback = speaker.play(PCM);
    playback.stop();
    expect(await playback.done).toEqual({ completed: false, playedSamples: 0 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops the running playback when a new one starts', async () => {
    const clock = new ManualClock();
    const speaker = await createSpeaker('none', { clock });
    const first = speaker.play(PCM);
    clock.advance(250);
    const second = speaker.play(PCM);
    expect(await first.done).toMatchObject({ completed: false, playedSamples: 4000 });
    clock.advance(1000);
    expect(await second.done).toMatchObject({ completed: true });
  });

  it('never overwrites: numbering continues after the files already in the directory', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'playback-0007.wav'), 'keep me');
    const speaker = await createSpeaker(`file:${dir}`, { clock: new ManualClock(), pace: 'instant' });
    expect((await speaker.play(PCM.subarray(0, 10)).done).path).toBe(join(dir, 'playback-0008.wav'));
    expect(await readFile(join(dir, 'playback-0007.wav'), 'utf8')).toBe('keep me');
  });

  it('applies the volume as a linear gain (128/255) and refuses volumes outside the integers 0..255', async () => {
    const dir = await tempDir();
    const speaker = await createSpeaker(`file:${dir}`, {
      clock: new ManualClock(),
      pace: 'instant',
      volume: 128,
    });
    const played = await readPlayed((await speaker.play(Int16Array.of(255, -510, 1000)).done).path!);
    expect(Array.from(played)).toEqual([128, -256, 502]);
    for (const bad of [256, -1, 1.5]) {
      expect(() => {
        speaker.volume = bad;
      }).toThrow(expect.objectContaining({ code: 'BAD_VOLUME' }));
    }
    await expect(createSpeaker('none', { clock: new ManualClock(), volume: 300 })).rejects.toMatchObject({
      code: 'BAD_VOLUME',
    });
  });
});

describe("'auto' and 'none'", () => {
  it("'auto' without a sound card plays nowhere, says so in one line, and never loads the speaker module", async () => {
    const { module, dir } = await fakePlayer(
      `require('node:fs').writeFileSync(require('node:path').join(__dirname, 'loaded'), 'yes'); ${RECORDING_PLAYER}`,
    );
    const clock = new ManualClock();
    const speaker = await createSpeaker('auto', { clock, soundCardProbe: () => false, playerModule: module });
    expect(speaker.kind).toBe('none');
    expect(speaker.notice).toBe('playback: none (no sound card found; use --speaker file:DIR to keep it)');
    const playback = speaker.play(PCM);
    clock.advance(1000);
    expect(await playback.done).toMatchObject({ completed: true, playedSamples: 16000 });
    expect(existsSync(join(dir, 'loaded'))).toBe(false);
  });

  it("'auto' with a sound card but without the speaker package plays nowhere and names the package", async () => {
    const speaker = await createSpeaker('auto', {
      clock: new ManualClock(),
      soundCardProbe: () => true,
      playerModule: null,
    });
    expect(speaker.kind).toBe('none');
    expect(speaker.notice).toMatch(/optional 'speaker' package is not installed/);
  });

  it("'speaker' without the package is SPEAKER_NOT_INSTALLED", async () => {
    await expect(
      createSpeaker('speaker', { clock: new ManualClock(), playerModule: null }),
    ).rejects.toMatchObject({
      code: 'SPEAKER_NOT_INSTALLED',
    });
  });

  it("'none' plays nowhere with the notice 'playback: none'", async () => {
    const speaker = await createSpeaker('none', { clock: new ManualClock(), pace: 'instant' });
    expect(speaker.notice).toBe('playback: none');
    expect(await speaker.play(PCM).done).toEqual({ completed: true, playedSamples: PCM.length });
  });

  it('detects a sound card from /proc/asound/cards on Linux, and assumes one on macOS and Windows', () => {
    const card =
      ' 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 32\n';
    expect(detectSoundCard('linux', () => card)).toBe(true);
    expect(detectSoundCard('linux', () => '--- no soundcards ---\n')).toBe(false);
    expect(
      detectSoundCard('linux', () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      }),
    ).toBe(false);
    expect(detectSoundCard('darwin')).toBe(true);
    expect(detectSoundCard('win32')).toBe(true);
    expect(detectSoundCard('freebsd')).toBe(false);
  });

  it('reads --speaker values and refuses others with BAD_SPEAKER_SPEC', () => {
    expect(parseSpeakerSpec('file:/tmp/x')).toBe('file:/tmp/x');
    expect(parseSpeakerSpec('auto')).toBe('auto');
    for (const bad of ['file:', 'alsa', '']) {
      expect(() => parseSpeakerSpec(bad)).toThrow(expect.objectContaining({ code: 'BAD_SPEAKER_SPEC' }));
    }
  });
});

describe('real speaker, in a child process (a stand-in module for the speaker package)', () => {
  const options = (module: string): SpeakerOptions => ({ clock: new ManualClock(), playerModule: module });

  it('feeds the samples as 16-bit mono 16 kHz to the module in a child process', async () => {
    const { module, dir } = await fakePlayer(RECORDING_PLAYER);
    const speaker = await createSpeaker('speaker', options(module));
    expect(speaker).toMatchObject({ kind: 'speaker', notice: 'playback: speaker' });
    expect(await speaker.play(PCM).done).toEqual({ completed: true, playedSamples: PCM.length });
    expect(new Uint8Array(await readFile(join(dir, 'played.raw')))).toEqual(int16ToS16le(PCM));
    expect(JSON.parse(await readFile(join(dir, 'format.json'), 'utf8'))).toMatchObject({
      channels: 1,
      bitDepth: 16,
      sampleRate: 16000,
    });
  });

  it('reports a module that cannot load as SPEAKER_FAILED for that playback; the speaker stays usable', async () => {
    const { module } = await fakePlayer(`throw new Error('ALSA lib: cannot find card 0');`);
    const speaker = await createSpeaker('speaker', options(module));
    for (let i = 0; i < 2; i++) {
      const result = await speaker.play(PCM.subarray(0, 100)).done;
      expect(result.completed).toBe(false);
      expect(result.error).toMatchObject({ name: 'AudioError', code: 'SPEAKER_FAILED' });
      expect(result.error!.message).toMatch(/cannot find card 0/);
    }
  });

  it('reports a child killed by a signal (as ALSA aborts do) as SPEAKER_FAILED, not a crash', async () => {
    const { module } = await fakePlayer(`process.kill(process.pid, 'SIGKILL');`);
    const speaker = await createSpeaker('speaker', options(module));
    const result = await speaker.play(PCM.subarray(0, 100)).done;
    expect(result.error).toMatchObject({ code: 'SPEAKER_FAILED', message: expect.stringMatching(/SIGKILL/) });
  });

  it('stops a playback by ending the child', async () => {
    const { module } = await fakePlayer(`
      const { Writable } = require('node:stream');
      module.exports = class Endless extends Writable { _write(c, e, cb) { cb(); } _final() { /* never closes */ } };
      setInterval(() => {}, 1000);`);
    const speaker = await createSpeaker('speaker', options(module));
    const playback = speaker.play(PCM);
    playback.stop();
    expect(await playback.done).toMatchObject({ completed: false });
    expect(speaker.playing).toBe(false);
  });
});
