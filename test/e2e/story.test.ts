/**
 * The whole product story with the real pieces together, in one process: the simulated toy
 * (firmware-sim) and the SDK (ToyClient), over the virtual radio, through the real noble and
 * bleno. Pair → send → the heart blinks → a paw press plays it (and it matches what was sent) →
 * the child records a reply → the app downloads it (and it matches what the microphone heard) →
 * volume → a second phone added by the admin, refused admin actions → a factory reset that the old
 * phone cannot get past.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  correlate,
  decodeVoice,
  floatToInt16,
  readWav,
  speechLikeSignal,
  writeWav,
} from '../../audio/index.js';
import { readTag } from '../../firmware-sim/tag.js';
import { SdkError } from '../../sdk/errors.js';
import { ToyClient } from '../../sdk/index.js';
import { type Bench, startBench } from '../firmware-sim/fixtures/toy-bench.js';

let bench: Bench;
let dir: string;
let micSource: Float32Array;
const clients: ToyClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawlink-story-'));
  // What the toy's microphone hears: 3 s of speech-like audio, as a WAV file.
  micSource = speechLikeSignal({ seconds: 3, sampleRate: 16_000, seed: 11 });
  const micFile = join(dir, 'mic.wav');
  await writeWav(micFile, floatToInt16(micSource), 16_000);
  bench = await startBench({ seed: 'story', microphone: `file:${micFile}` });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await bench?.close();
  await rm(dir, { recursive: true, force: true });
});

async function client(name: string): Promise<ToyClient> {
  const c = await ToyClient.open({
    radio: bench.central,
    home: join(dir, name),
    scheduler: bench.scheduler,
    phoneName: name,
  });
  clients.push(c);
  return c;
}

/** Lets `ms` of the toy's (virtual) time pass. */
const pass = (ms: number) => new Promise<void>((resolve) => bench.scheduler.setTimer(resolve, ms));

describe('the PawLink story, simulated toy and SDK together', () => {
  it('pair, send, blink, play; record, download; volume; a second phone; factory reset', async () => {
    const tag = readTag(bench.stateDir)!;
    const mum = await client('mum');

    // A 3 s hold of the listen paw opens the pairing window; the app pairs with the tag's QR payload.
    await bench.toy.hold('listen', 3_000);
    await bench.toyEvent('pairing-window');
    const paired = await mum.pair(tag.setupPayload);
    expect(paired.role).toBe('admin');
    const session = await mum.connect();

    // A message from the app: stored, and the heart blinks.
    const message = speechLikeSignal({ seconds: 2, sampleRate: 16_000, seed: 5 });
    const messageId = await session.send({ pcm: message, sampleRate: 16_000 });
    expect((await bench.toyEvent('message-stored')).messageId).toBe(messageId);
    await bench.toyEvent('led', (e) => JSON.stringify(e).includes('blink'));

    // The child squeezes the listen paw: the toy plays exactly that message.
    await bench.toy.press('listen');
    const played = await bench.toyEvent('playback-finished');
    expect(played.messageId).toBe(messageId);
    const heard = readWav(new Uint8Array(readFileSync(played.path!))).channels[0]!;
    expect(correlate(heard, message).correlation).toBeGreaterThanOrEqual(0.9);
    expect(
      correlate(heard, speechLikeSignal({ seconds: 2, sampleRate: 16_000, seed: 6 })).correlation,
    ).toBeLessThan(0.5);

    // The child records a reply with the record paw; the app downloads it.
    await bench.toy.press('record');
    await pass(2_000);
    await bench.toy.press('record');
    const recorded = await bench.toyEvent('recording-stored');
    const recordings = await session.recordings();
    expect(recordings.map((r) => r.id)).toContain(recorded.messageId);
    const download = await session.download(recorded.messageId);
    const reply = (await decodeVoice(download.container)).pcm;
    expect(correlate(reply, micSource.subarray(0, reply.length)).correlation).toBeGreaterThanOrEqual(0.9);

    // Volume, as the app sets it and the toy reports it.
    await session.setVolume(180);
    expect((await session.status()).volume).toBe(180);

    // The admin opens the window for a second phone and lets go of the toy (it serves one
    // connection at a time, as bleno does); the second phone pairs as a member…
    await session.addPairing({ role: 'member', seconds: 60 });
    await session.close();
    const dad = await client('dad');
    expect((await dad.pair(tag.setupCode)).role).toBe('member');
    const dadSession = await dad.connect();
    // …and may use the toy, but not administer it.
    expect((await dadSession.status()).volume).toBe(180);
    const refused = await dadSession.pairings().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SdkError);
    expect((refused as SdkError).code).toBe('NOT_ADMIN');
    await dadSession.close();

    // Both paws held for 10 s: a factory reset. The old phone's keys are useless afterwards.
    await bench.toy.hold('both', 10_000);
    await bench.toyEvent('factory-reset');
    const after = await mum.connect(undefined, { timeoutMs: 3_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(after).toBeInstanceOf(SdkError);
  });
});
