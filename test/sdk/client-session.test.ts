/**
 * ToySession: voice messages (send in every input form, progress, the audio that arrives), the
 * toy's controls, recordings, events, typed errors, and the automatic resume of an upload cut by
 * a lost link — against toys made of the protocol engines on an in-process virtual air, in
 * virtual time.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { decodeVoice } from '../../audio/decode.js';
import { encodeVoice } from '../../audio/encode.js';
import { encodeOggOpus } from '../../audio/ogg.js';
import { floatToInt16 } from '../../audio/pcm.js';
import { speechLikeSignal } from '../../audio/synth.js';
import { readWav, writeWav } from '../../audio/wav.js';
import { bytesEqual } from '../../protocol/bytes.js';
import { decodeContainer } from '../../protocol/container/index.js';
import type { ToyClient } from '../../sdk/client.js';
import { SdkError } from '../../sdk/errors.js';
import type { ToySession, TransferProgress } from '../../sdk/session.js';
import { syntheticMessage } from '../protocol/engine/harness.js';
import { SdkEnv } from './fixtures/env.js';
import type { FixtureToy } from './fixtures/toy.js';

async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an SdkError').toBeInstanceOf(SdkError);
  return e as SdkError;
}

/** A toy, a client paired with it as admin, and an open session. */
async function pairedSession(
  env: SdkEnv,
  options: Parameters<SdkEnv['client']>[0] = {},
): Promise<{ toy: FixtureToy; client: ToyClient; session: ToySession; home: string }> {
  const toy = await env.toy();
  toy.holdPaw();
  const home = options.home ?? env.home();
  const client = await env.client({ ...options, home });
  await client.pair(toy.setupCode, { name: 'Mum' });
  const session = await client.connect();
  return { toy, client, session, home };
}

const speech16k = (seconds: number, seed: number) =>
  floatToInt16(speechLikeSignal({ seconds, seed, sampleRate: 16_000 }));

describe('ToySession voice messages', () => {
  it('sends a 44.1 kHz WAV: the toy stores a container whose audio matches the source (≥ 0.9), and not other speech', async () => {
    const env = SdkEnv.open();
    const { toy, session, client } = await pairedSession(env);
    const wav = join(env.dir, 'hello.wav');
    await writeWav(wav, floatToInt16(speechLikeSignal({ seconds: 2, seed: 7, sampleRate: 44_100 })), 44_100);
    const progress: TransferProgress[] = [];
    const pendingDuring: number[] = [];
    const id = await session.send(wav, {
      onProgress: (p) => {
        progress.push(p);
        pendingDuring.push(client.keystore.listUploads().length);
      },
    });
    // Saved in the keystore (for a resume) while it was on its way.
    expect(pendingDuring.slice(0, -1).every((n) => n === 1)).toBe(true);
    const stored = toy.toy.storage.messages.get(id)!;
    expect(stored).toBeDefined();
    const played = await decodeVoice(stored);
    expect(played.pcm.length).toBe(2 * 16_000);
    const same = correlate(speech16k(2, 7), played.pcm, { maxLag: 320 }).correlation;
    const other = correlate(speech16k(2, 8), played.pcm, { maxLag: 320 }).correlation;
    expect(same).toBeGreaterThanOrEqual(0.9);
    expect(other).toBeLessThan(0.5);
    // Progress: ascending committed bytes, ending at the whole container.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.committedBytes).toBeGreaterThanOrEqual(progress[i - 1]!.committedBytes);
    }
    expect(progress.at(-1)).toMatchObject({ committedBytes: stored.length, totalBytes: stored.length });
    // Done: nothing left to resume.
    expect(client.keystore.listUploads()).toEqual([]);
  });

  it('sends mono Ogg Opus without re-encoding: the stored packets are the file packets', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const voice = await encodeVoice(speech16k(2, 3), 16_000);
    const source = decodeContainer(voice.container);
    const ogg = join(env.dir, 'hello.opus');
    await writeFile(
      ogg,
      encodeOggOpus({ packets: source.packets, preSkip: source.preSkip, sampleCount: source.sampleCount }),
    );
    const id = await session.send(ogg);
    const stored = decodeContainer(toy.toy.storage.messages.get(id)!);
    expect(stored.packets.length).toBe(source.packets.length);
    expect(stored.packets.every((p, i) => bytesEqual(p, source.packets[i]!))).toBe(true);
  });

  it('sends PCM, Opus packets and a ready container; each is stored as a new message', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const voice = await encodeVoice(speech16k(1, 4), 16_000);
    const fromPcm = await session.send({
      pcm: speechLikeSignal({ seconds: 1, seed: 4, sampleRate: 22_050 }),
      sampleRate: 22_050,
    });
    const fromPackets = await session.send({ opusPackets: decodeContainer(voice.container).packets });
    const fromContainer = await session.send(voice.container);
    expect(new Set([fromPcm, fromPackets, fromContainer]).size).toBe(3);
    expect(bytesEqual(toy.toy.storage.messages.get(fromContainer)!, voice.container)).toBe(true);
    const list = await session.messages();
    expect(list.map((m) => m.id)).toEqual([fromPcm, fromPackets, fromContainer]);
    expect(list.every((m) => m.kind === 'incoming' && !m.played)).toBe(true);
  });

  it('sends started together go one after the other (the toy takes one upload at a time) and all arrive', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const voices = [1, 2, 3].map((seed) => ({ container: syntheticMessage(`together ${seed}`, 3) }));
    const ids = await Promise.all(voices.map((v) => session.send(v.container)));
    expect(new Set(ids).size).toBe(3);
    for (const [i, id] of ids.entries()) {
      expect(bytesEqual(toy.toy.storage.messages.get(id)!, voices[i]!.container)).toBe(true);
    }
  });

  it('closing the client closes its sessions', async () => {
    const env = SdkEnv.open();
    const { toy, session, client } = await pairedSession(env);
    await client.close();
    expect(session.isOpen).toBe(false);
    expect((await session.closed).code).toBe('CLOSED');
    while (toy.toy.engine.sessions.length > 0) await env.sleep(100);
    expect((await sdkError(client.connect())).code).toBe('CLOSED');
  });

  it('a file that is not audio, a missing file and a bad container are typed errors and nothing is sent', async () => {
    const env = SdkEnv.open();
    const { toy, session, client } = await pairedSession(env);
    const text = join(env.dir, 'notes.wav');
    await writeFile(text, 'hello, this is not audio\n');
    const before = toy.app.actions.length;
    expect((await sdkError(session.send(text))).code).toBe('NOT_AUDIO');
    expect((await sdkError(session.send(join(env.dir, 'missing.wav')))).code).toBe('FILE_UNREADABLE');
    expect((await sdkError(session.send(new Uint8Array([1, 2, 3])))).code).toBe('BAD_INPUT');
    expect((await sdkError(session.send({ pcm: new Int16Array(0), sampleRate: 16_000 }))).code).toBe(
      'EMPTY_AUDIO',
    );
    expect(toy.toy.storage.messages.size).toBe(0);
    expect(toy.toy.storage.partials.size).toBe(0);
    expect(toy.app.actions.length).toBe(before);
    expect(client.keystore.listUploads()).toEqual([]);
  });

  it('a link lost mid-upload: send rejects UPLOAD_INTERRUPTED, and the next connect resumes the upload by itself; it is stored exactly once', async () => {
    const env = SdkEnv.open();
    const { toy, session, client } = await pairedSession(env);
    // 20 s of voice-sized Opus packets (the toy never decodes them): several commits of 4 KiB.
    const voice = { container: syntheticMessage('resume', 20) };
    let cut = false;
    const sent = session.send(voice.container, {
      onProgress: (p) => {
        if (!cut && p.committedBytes > 0 && p.committedBytes < p.totalBytes) {
          cut = true;
          env.air.connections.at(-1)!.lose();
        }
      },
    });
    const e = await sdkError(sent);
    expect(e.code).toBe('UPLOAD_INTERRUPTED');
    expect(cut).toBe(true);
    expect(toy.toy.storage.messages.size).toBe(0);
    const pending = client.keystore.listUploads();
    expect(pending).toHaveLength(1);
    const partial = toy.toy.storage.partials.get(pending[0]!.transferId)!;
    expect(partial.committed.length).toBeGreaterThan(0);
    const resumedFrom: number[] = [];
    const again = await client.connect(undefined, {
      onResumeProgress: (p) => resumedFrom.push(p.committedBytes),
    });
    expect(again.resumed).toHaveLength(1);
    const id = again.resumed[0]!.messageId!;
    // It went on from what the toy had committed, not from 0.
    expect(resumedFrom[0]).toBe(partial.committed.length);
    expect([...toy.toy.storage.messages.keys()]).toEqual([id]);
    expect(bytesEqual(toy.toy.storage.messages.get(id)!, voice.container)).toBe(true);
    expect(client.keystore.listUploads()).toEqual([]);
    // A further connection resumes nothing and stores nothing more.
    await again.close();
    const third = await client.connect();
    expect(third.resumed).toEqual([]);
    expect(toy.toy.storage.messages.size).toBe(1);
  });

  it('an upload whose saved content changed since it started is dropped at connect, with its error reported', async () => {
    const env = SdkEnv.open();
    const { session, client, toy } = await pairedSession(env);
    const voice = await encodeVoice(speech16k(1, 6), 16_000);
    // As if an earlier run saved it and then crashed before sending.
    client.keystore.saveUpload({
      toyId: toy.toy.engine.pairing.state.toyId,
      transferId: 4242,
      sha256: new Uint8Array(32),
      totalBytes: voice.container.length,
      content: { bytes: voice.container },
    });
    await session.close();
    const again = await client.connect();
    expect(again.resumed).toHaveLength(1);
    expect(again.resumed[0]!.error?.code).toBe('UPLOAD_CONTENT_CHANGED');
    expect(client.keystore.listUploads()).toEqual([]);
    expect(toy.toy.storage.messages.size).toBe(0);
  });
});

describe('ToySession controls', () => {
  it('status, volume, identify, lullaby, stop, delete: each reaches the toy and its answer comes back typed', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const id = await session.send(voiceContainer(await encodeVoice(speech16k(1, 2), 16_000)));
    await session.setVolume(200);
    expect(toy.app.volume).toBe(200);
    await session.identify(5);
    expect(toy.app.identifySeconds).toBe(5);
    await session.lullaby(id, { times: 3 });
    expect(toy.app.lullaby).toEqual({ messageId: id, loop: { mode: 'times', times: 3 } });
    const status = await session.status();
    expect(status).toMatchObject({
      volume: 200,
      incomingCount: 1,
      unplayedCount: 1,
      lullabyPlaying: true,
      batteryPercent: 87,
    });
    await session.stopLullaby();
    expect(toy.app.lullaby).toBeUndefined();
    await session.lullaby(id, { seconds: 600 });
    expect(toy.app.lullaby?.loop).toEqual({ mode: 'seconds', seconds: 600 });
    await session.delete(id);
    expect(toy.toy.storage.messages.has(id)).toBe(false);
    const e = await sdkError(session.delete(id));
    expect(e.code).toBe('NOT_FOUND');
    expect((await sdkError(session.lullaby(id, { times: 1 }))).code).toBe('NOT_FOUND');
  });

  it('bad arguments are BAD_INPUT and send nothing to the toy', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const before = toy.app.actions.length;
    const bad: Array<Promise<unknown>> = [
      session.setVolume(300),
      session.setVolume(-1),
      session.setVolume(1.5),
      session.identify(0),
      session.identify(61),
      session.lullaby(0, { times: 1 }),
      session.lullaby(1, { times: 101 }),
      session.lullaby(1, { seconds: 3601 }),
      session.lullaby(1, { times: 1, seconds: 1 } as never),
      session.delete(2 ** 32),
      session.download(0),
      session.messages('everything' as never),
      session.gameMode('yes' as never),
      session.addPairing({ seconds: 181 }),
      session.addPairing({ role: 'owner' as never }),
      session.removePairing('abc'),
    ];
    for (const p of bad) expect((await sdkError(p)).code).toBe('BAD_INPUT');
    expect(toy.app.actions.length).toBe(before);
    expect(toy.app.volume).toBe(128);
    expect(session.isOpen).toBe(true);
  });

  it("the toy's error responses become typed errors with the toy's code (BUSY, INTERNAL)", async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    toy.app.failWith = 'BUSY';
    const busy = await sdkError(session.setVolume(10));
    expect(busy.code).toBe('BUSY');
    expect(busy.message).toMatch(/^set the volume: the toy is busy/);
    toy.app.failWith = 'INTERNAL';
    expect((await sdkError(session.status())).code).toBe('INTERNAL');
    toy.app.failWith = undefined;
    await session.setVolume(10);
    expect(toy.app.volume).toBe(10);
  });

  it('a toy that stops answering makes the request fail with TIMEOUT', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env, { requestTimeoutMs: 3_000 });
    toy.mute(true);
    const e = await sdkError(session.status());
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('3 s');
  });

  it('an idle session stays open past the 30 s framing idle limit: it sends keep-alive requests', async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const before = toy.app.requests.length;
    await env.sleep(95_000);
    expect(session.isOpen).toBe(true);
    expect(toy.app.requests.length - before).toBeGreaterThanOrEqual(4);
    expect(toy.app.requests.slice(before).every((r) => r.type === 'StatusRequest')).toBe(true);
    await session.setVolume(1);
  });

  it("game mode: the toy's paw events come out of events() until the session closes", async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    await session.gameMode(true);
    expect(toy.app.gameMode).toBe(true);
    const events = session.events();
    const seen: string[] = [];
    const listener: string[] = [];
    const off = session.onEvent((e) => listener.push(e.type));
    toy.sendEvent({
      type: 'PawEvent',
      requestId: 0,
      paw: 'listen',
      action: 'press',
      durationMs: 150,
      atMs: 10,
    });
    toy.sendEvent({
      type: 'PawEvent',
      requestId: 0,
      paw: 'record',
      action: 'hold',
      durationMs: 1500,
      atMs: 900,
    });
    toy.sendEvent({ type: 'PlaybackEvent', requestId: 0, messageId: 3, state: 'started', source: 'lullaby' });
    for await (const e of events) {
      seen.push(e.type === 'PawEvent' ? `${e.paw} ${e.action} ${e.durationMs}` : e.type);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['listen press 150', 'record hold 1500', 'PlaybackEvent']);
    expect(listener).toEqual(['PawEvent', 'PawEvent', 'PlaybackEvent']);
    off();
    const more = session.events();
    await session.close();
    expect((await more.next()).done).toBe(true);
    expect((await sdkError(session.status())).code).toBe('CLOSED');
  });
});

describe('ToySession recordings', () => {
  it("lists the child's recordings and downloads one as a WAV whose audio is the recording's", async () => {
    const env = SdkEnv.open();
    const { toy, session } = await pairedSession(env);
    const recording = await encodeVoice(speech16k(3, 11), 16_000);
    const id = toy.addRecording(recording.container);
    await session.send(voiceContainer(await encodeVoice(speech16k(1, 12), 16_000)));
    const list = await session.recordings();
    expect(list.map((r) => [r.id, r.kind])).toEqual([[id, 'recording']]);
    const out = join(env.dir, 'reply.wav');
    const progress: number[] = [];
    const result = await session.download(id, { out, onProgress: (p) => progress.push(p.committedBytes) });
    expect(bytesEqual(result.container, recording.container)).toBe(true);
    expect(result).toMatchObject({ messageId: id, path: out, durationMs: 3000 });
    expect(progress.at(-1)).toBe(recording.container.length);
    const wav = readWav(new Uint8Array(await readFile(out)));
    expect(wav.sampleRate).toBe(16_000);
    const samples = wav.channels[0]!;
    expect(
      correlate(speechLikeSignal({ seconds: 3, seed: 11 }), samples, { maxLag: 320 }).correlation,
    ).toBeGreaterThanOrEqual(0.9);
    expect(
      correlate(speechLikeSignal({ seconds: 3, seed: 12 }), samples, { maxLag: 320 }).correlation,
    ).toBeLessThan(0.5);
    // Without `out`: the container only.
    const bare = await session.download(id);
    expect(bare.path).toBeUndefined();
    expect(bytesEqual(bare.container, recording.container)).toBe(true);
    expect((await sdkError(session.download(id + 100))).code).toBe('NOT_FOUND');
  });
});

function voiceContainer(v: { container: Uint8Array }): Uint8Array {
  return v.container;
}
