/**
 * The simulated toy as a phone meets it: its real engines, storage and behaviour on an in-process
 * virtual air in virtual time, driven from a raw PhoneConnection (not the SDK). This file: first
 * start and the tag, restarts, and playback by the listen paw.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { correlate } from '../../audio/correlate.js';
import { readWav } from '../../audio/wav.js';
import { bytesEqual } from '../../protocol/bytes.js';
import { decodeToyPairingState, makeVerifier } from '../../protocol/pairing/state.js';
import { type Bench, pairAndConnect, startBench, voiceMessage } from './fixtures/toy-bench.js';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

function pairingState(b: Bench) {
  return decodeToyPairingState(b.toy.storage.loadPairingState()!);
}

describe('first start and the tag', () => {
  it('provisions the toy and writes its tag (0600, outside the flash); the code is in no byte of flash.bin, and it is the code the stored verifier was made from', async () => {
    bench = await startBench();
    const { toy, stateDir } = bench;
    expect(toy.firstStart).toBe(true);
    expect(toy.tagStatus.kind).toBe('ok');
    if (toy.tagStatus.kind !== 'ok') return;
    const tag = toy.tagStatus.tag;
    expect(tag.setupCode).toMatch(/^\d{8}$/);
    expect(tag.setupPayload).toBe(
      `PAWLINK1-${tag.discriminator.toString(16).toUpperCase().padStart(3, '0')}-${tag.setupCode}`,
    );

    const tagFile = join(stateDir, 'tag.json');
    expect(statSync(tagFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(tagFile, 'utf8'))).toMatchObject({
      setupCode: tag.setupCode,
      discriminator: tag.discriminator,
      setupPayload: tag.setupPayload,
    });

    const flash = readFileSync(join(stateDir, 'flash.bin'));
    expect(flash.includes(Buffer.from(tag.setupCode))).toBe(false);
    expect(flash.includes(Buffer.from(tag.setupPayload))).toBe(false);

    const state = pairingState(bench);
    expect(state.discriminator).toBe(tag.discriminator);
    const { salt, iterations, w0 } = state.verifier;
    expect(bytesEqual(makeVerifier(tag.setupCode, salt, iterations).w0, w0)).toBe(true);
    const other = tag.setupCode === '13572468' ? '24681357' : '13572468';
    expect(bytesEqual(makeVerifier(other, salt, iterations).w0, w0)).toBe(false);
  });

  it('a restart keeps the identity, the tag and the pairings; without tag.json it says the code is on the original tag only', async () => {
    bench = await startBench();
    const { phone } = await pairAndConnect(bench, 'parent');
    await phone.close();
    const before = { state: pairingState(bench), tag: bench.toy.tagStatus };

    const again = await bench.restart();
    expect(again.firstStart).toBe(false);
    expect(again.tagStatus).toEqual(before.tag);
    const after = pairingState(bench);
    expect(bytesEqual(after.toyId, before.state.toyId)).toBe(true);
    expect(bytesEqual(after.toyStaticPublicKey, before.state.toyStaticPublicKey)).toBe(true);
    expect(after.pairings).toHaveLength(1);

    rmSync(join(bench.stateDir, 'tag.json'));
    const noTag = await bench.restart();
    expect(noTag.tagStatus.kind).toBe('missing');
    if (noTag.tagStatus.kind === 'missing') expect(noTag.tagStatus.message).toMatch(/original tag only/);
    expect(bytesEqual(pairingState(bench).toyId, before.state.toyId)).toBe(true);
  });
});

describe('playback by the listen paw', () => {
  it('a message sent by a paired phone makes the heart blink; a listen press plays it into a WAV that correlates with the source', async () => {
    bench = await startBench();
    const { toy } = bench;
    const { container, source } = await voiceMessage(7, 3);
    const { phone } = await pairAndConnect(bench, 'parent');
    const messageId = await phone.upload(container);
    await bench.toyEvent('message-stored', (e) => e.messageId === messageId);
    expect(toy.led.shown()).toEqual({
      layer: 'newMessage',
      pattern: { mode: 'blink', periodMs: 1000, onMs: 500 },
    });

    await toy.press('listen');
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({
      messageId,
      state: 'started',
      source: 'paw',
    });
    const finished = await bench.toyEvent('playback-finished');
    expect(finished).toMatchObject({ messageId, state: 'finished', source: 'paw' });
    expect(await phone.appEvent('PlaybackEvent')).toMatchObject({ messageId, state: 'finished' });
    expect(toy.led.shown().layer).toBe('base');
    expect(toy.storage.getMessage(messageId)?.played).toBe(true);

    const played = readWav(readFileSync(finished.path!)).channels[0]!;
    expect(correlate(source, played).correlation).toBeGreaterThan(0.9);
    // The control: the same audio one second off does not match, so the check above can fail.
    expect(correlate(source.subarray(16_000), played).correlation).toBeLessThan(0.3);
    await phone.close();
  });

  it('plays the oldest unplayed message first, then the next; when all are played, the most recent again', async () => {
    bench = await startBench();
    const first = await voiceMessage(1, 1);
    const second = await voiceMessage(2, 1);
    const { phone } = await pairAndConnect(bench, 'parent');
    const a = await phone.upload(first.container);
    const b = await phone.upload(second.container);
    await phone.close();
    const played: number[] = [];
    for (let i = 0; i < 3; i++) {
      await bench.toy.press('listen');
      played.push((await bench.toyEvent('playback-finished')).messageId);
    }
    expect(played).toEqual([a, b, b]);
  });

  it('a press with nothing stored plays nothing, and a hold under 3 s is a press, not a pairing window', async () => {
    bench = await startBench();
    await bench.toy.hold('listen', 2_900);
    await bench.toyEvent('nothing-to-play');
    expect(bench.toy.pairing.windowOpen).toBe(false);
    expect(bench.events.has((e) => e.event === 'pairing-window')).toBe(false);
  });
});
