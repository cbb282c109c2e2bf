import { chmod, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downmix, floatToInt16, int16ToS16le } from '../../../audio/pcm.js';
import { resample } from '../../../audio/resample.js';
import { speechLikeSignal } from '../../../audio/synth.js';
import {
  createMicrophone,
  type MicrophoneOptions,
  parseMicrophoneSpec,
  programOnPath,
} from '../../../firmware-sim/hardware/microphone.js';
import { ManualClock } from '../../../radio/clock.js';
import { makeWav, speech16k, tempDir } from '../../audio/helpers.js';

/** A stereo 44.1 kHz WAV (1.2 s by default) of speech, and what the microphone should hear from it at 16 kHz. */
async function speechWav(seconds = 1.2): Promise<{ path: string; expected: Int16Array }> {
  const channels = [0, 1].map((c) => speechLikeSignal({ seconds, sampleRate: 44100, seed: 40 + c }));
  const path = join(await tempDir(), 'mic.wav');
  await writeFile(path, makeWav(channels, 44100, '16'));
  // The reader's own 16-bit quantisation of the file, then the same downmix and resampling.
  const stored = channels.map((ch) => Float32Array.from(ch, (x) => Math.round(x * 32767) / 32768));
  return { path, expected: floatToInt16(resample(downmix(stored), 44100, 16000)) };
}

describe('microphone from a WAV file (file:WAV)', () => {
  it('records as much of the file as time passed on the clock, resampled to 16 kHz mono', async () => {
    const { path, expected } = await speechWav();
    const clock = new ManualClock();
    const mic = await createMicrophone(`file:${path}`, { clock });
    expect(mic).toMatchObject({ kind: 'file', notice: `microphone: WAV file ${path}` });
    const chunks: number[] = [];
    const recording = mic.start({ onChunk: (c) => chunks.push(c.length) });
    expect(mic.recording).toBe(true);
    clock.advance(1050);
    recording.stop();
    const result = await recording.done;
    expect(result).toMatchObject({ endedBy: 'stop', sampleRate: 16000, durationMs: 1050 });
    expect(result.pcm.length).toBe(16800);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(16800);
    expect(chunks.length).toBeGreaterThan(5); // delivered in pieces as time passed
    expect(Math.max(...result.pcm.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThanOrEqual(1);
    expect(mic.recording).toBe(false);
  });

  it('ends the recording at the end of a file shorter than it (end-of-input)', async () => {
    const { path, expected } = await speechWav(0.5);
    const clock = new ManualClock();
    const recording = (await createMicrophone(`file:${path}`, { clock })).start();
    clock.advance(5000);
    const result = await recording.done;
    expect(result.endedBy).toBe('end-of-input');
    expect(result.pcm.length).toBe(expected.length);
  });

  it('stops by itself at the limit', async () => {
    const { path } = await speechWav(1);
    const clock = new ManualClock();
    const recording = (await createMicrophone(`file:${path}`, { clock })).start({ maxMs: 500 });
    clock.advance(2000);
    expect(await recording.done).toMatchObject({ endedBy: 'limit', durationMs: 500 });
  });

  it("delivers the whole file at once with pace 'instant', without the clock moving", async () => {
    const { path, expected } = await speechWav(0.5);
    const mic = await createMicrophone(`file:${path}`, { clock: new ManualClock(), pace: 'instant' });
    const result = await mic.start().done;
    expect(result.endedBy).toBe('end-of-input');
    expect(result.pcm.length).toBe(expected.length);
    // Every recording replays the file from its start.
    expect((await mic.start().done).pcm).toEqual(result.pcm);
  });

  it('refuses a second recording while one runs (ALREADY_RECORDING)', async () => {
    const { path } = await speechWav(0.5);
    const clock = new ManualClock();
    const mic = await createMicrophone(`file:${path}`, { clock });
    const first = mic.start();
    expect(() => mic.start()).toThrow(expect.objectContaining({ code: 'ALREADY_RECORDING' }));
    first.stop();
    await first.done;
    expect(() => mic.start().stop()).not.toThrow();
  });

  it('reports a bad file when the microphone is created, with a typed error', async () => {
    const dir = await tempDir();
    await expect(
      createMicrophone(`file:${join(dir, 'missing.wav')}`, { clock: new ManualClock() }),
    ).rejects.toMatchObject({
      code: 'FILE_UNREADABLE',
    });
  });
});

describe("'none' and 'auto'", () => {
  it("'none' records silence for as long as the recording lasts", async () => {
    const clock = new ManualClock();
    const mic = await createMicrophone('none', { clock });
    expect(mic.notice).toBe('microphone: none');
    const recording = mic.start();
    clock.advance(300);
    recording.stop();
    const result = await recording.done;
    expect(result.pcm.length).toBe(4800);
    expect(result.pcm.every((v) => v === 0)).toBe(true);
  });

  it("'auto' without a sound card records silence and says how to give it audio", async () => {
    const mic = await createMicrophone('auto', { clock: new ManualClock(), soundCardProbe: () => false });
    expect(mic.kind).toBe('none');
    expect(mic.notice).toBe('microphone: none (no sound card found; use --mic-file FILE.wav)');
  });

  it("'auto' with a sound card but no recording program says which programs are missing", async () => {
    const mic = await createMicrophone('auto', {
      clock: new ManualClock(),
      soundCardProbe: () => true,
      findProgram: async () => false,
    });
    expect(mic.notice).toBe(
      'microphone: none (neither sox nor arecord is installed; use --mic-file FILE.wav)',
    );
  });

  it('reads microphone specs and refuses others with BAD_MIC_SPEC', () => {
    expect(parseMicrophoneSpec('arecord')).toBe('arecord');
    expect(parseMicrophoneSpec('file:a.wav')).toBe('file:a.wav');
    expect(() => parseMicrophoneSpec('pulse')).toThrow(expect.objectContaining({ code: 'BAD_MIC_SPEC' }));
  });
});

describe('recorder program through the real node-record-lpcm16 (a fake sox first on PATH)', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  /** Puts an executable `sox` shell script (body after the shebang) first on PATH; returns its directory. */
  async function fakeSox(body: string): Promise<string> {
    const dir = await tempDir();
    await writeFile(join(dir, 'sox'), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, 'sox'), 0o755);
    process.env.PATH = `${dir}${delimiter}${savedPath}`;
    return dir;
  }

  const options = (): MicrophoneOptions => ({ clock: new ManualClock() });
  const FIXTURE = speech16k(0.5, 44);

  it('records the raw 16-bit PCM the program streams, having asked it for 16 kHz mono raw', async () => {
    const dir = await fakeSox('echo "$@" > "$(dirname "$0")/args"; cat "$(dirname "$0")/mic.raw"');
    await writeFile(join(dir, 'mic.raw'), int16ToS16le(FIXTURE));
    expect(await programOnPath('sox')).toBe(true);
    const mic = await createMicrophone('sox', options());
    expect(mic).toMatchObject({ kind: 'recorder', notice: 'microphone: sox' });
    const result = await mic.start().done;
    expect(result.endedBy).toBe('end-of-input');
    expect(result.pcm).toEqual(FIXTURE);
    const args = await readFile(join(dir, 'args'), 'utf8');
    expect(args).toMatch(/--rate 16000/);
    expect(args).toMatch(/--channels 1/);
    expect(args).toMatch(/--type raw/);
  });

  it('stops a running program and keeps what it recorded', async () => {
    const dir = await fakeSox('cat "$(dirname "$0")/mic.raw"; exec sleep 30');
    await writeFile(join(dir, 'mic.raw'), int16ToS16le(FIXTURE));
    const mic = await createMicrophone('sox', options());
    let received = 0;
    let heardAll: () => void = () => {};
    const allHeard = new Promise<void>((r) => {
      heardAll = r;
    });
    const recording = mic.start({
      onChunk: (c) => {
        received += c.length;
        if (received >= FIXTURE.length) heardAll();
      },
    });
    await allHeard;
    recording.stop();
    const result = await recording.done;
    expect(result.endedBy).toBe('stop');
    expect(result.pcm).toEqual(FIXTURE);
  });

  it('stops the program at the limit and keeps exactly the limit', async () => {
    const dir = await fakeSox('cat "$(dirname "$0")/mic.raw"; exec sleep 30');
    await writeFile(join(dir, 'mic.raw'), int16ToS16le(FIXTURE));
    const result = await (await createMicrophone('sox', options())).start({ maxMs: 100 }).done;
    expect(result.endedBy).toBe('limit');
    expect(result.pcm).toEqual(FIXTURE.subarray(0, 1600));
  });

  it('reports a program that fails (no sound card: exit code 1) as RECORDER_FAILED with its message', async () => {
    await fakeSox('echo "sox FAIL formats: can\'t open input  \\`default\': audio open error" >&2; exit 1');
    const result = await (await createMicrophone('sox', options())).start().done;
    expect(result.endedBy).toBe('error');
    expect(result.error).toMatchObject({ name: 'AudioError', code: 'RECORDER_FAILED' });
    expect(result.error!.message).toMatch(/exit code 1.*audio open error/);
  });

  it('reports a missing program as RECORDER_NOT_FOUND, and the process goes on', async () => {
    process.env.PATH = await tempDir(); // a PATH with no sox on it
    const mic = await createMicrophone('sox', options());
    const result = await mic.start().done;
    expect(result).toMatchObject({ endedBy: 'error', error: { code: 'RECORDER_NOT_FOUND' } });
    expect(result.error!.message).toMatch(/sox is not installed/);
    expect(mic.recording).toBe(false);
  });
});
