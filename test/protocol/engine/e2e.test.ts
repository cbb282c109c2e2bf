/**
 * The whole protocol core end to end, in memory: a phone engine and a toy engine pair with the
 * setup code, open a Noise session and move a 60-second voice message (~110 kB) as a resumable
 * transfer, including cuts at random points and tampering.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../protocol/bytes.js';
import { sha256 } from '../../../protocol/crypto.js';
import type { PairedToy } from '../../../protocol/engine/phone.js';
import { PawLinkError } from '../../../protocol/errors.js';
import { AlertCode } from '../../../protocol/link.js';
import { seededRandom } from '../../../protocol/random.js';
import { TransferStatus } from '../../../protocol/transfer/index.js';
import { LinkSim, makePhone, makeToy, syntheticMessage, type TestToy } from './harness.js';

function pairFirstPhone(toy: TestToy, sim: LinkSim, phone = makePhone('mum')): PairedToy {
  expect(toy.engine.pairing.openWindowByPaw(sim.now, 3_000).opened).toBe(true);
  sim.connect(phone).pair(toy.setupCode, sim.now);
  return sim.waitFor('paired').toy;
}

describe('pairing through the engines', () => {
  it('pairs with the right code: both sides agree on identities, the first phone is admin', () => {
    const toy = makeToy('a');
    const sim = new LinkSim(toy);
    const phone = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, phone);
    expect(paired.role).toBe('admin');
    expect(paired.toyStaticPublicKey).toEqual(toy.staticKeyPair.publicKey);
    expect(toy.engine.pairing.lookupByStaticKey(phone.staticKeyPair.publicKey)?.role).toBe('admin');
    expect(toy.engine.pairing.state.tagKey).toEqual(paired.tagKey);
  });

  it('refuses a wrong code on both sides and stores nothing', () => {
    const toy = makeToy('b');
    const sim = new LinkSim(toy);
    toy.engine.pairing.openWindowByPaw(0, 3_000);
    const wrong = toy.setupCode === '13572468' ? '24681357' : '13572468';
    sim.connect(makePhone('eve')).pair(wrong, sim.now);
    const failed = sim.waitFor('pairing-failed');
    expect(failed.error.code).toBe('BAD_CONFIRMATION');
    // The phone tells the toy, which ends the attempt on its side too.
    expect(sim.runUntil(() => sim.toyEvents.some((e) => e.type === 'pairing-failed'), 1_000)).toBe(true);
    expect(toy.engine.pairing.state.pairings).toHaveLength(0);
  });

  it('refuses the right code when no paw hold opened the window', () => {
    const toy = makeToy('c');
    const sim = new LinkSim(toy);
    sim.connect(makePhone('eve')).pair(toy.setupCode, sim.now);
    expect(sim.waitFor('pairing-failed').error.code).toBe('WINDOW_CLOSED');
    expect(toy.engine.pairing.state.pairings).toHaveLength(0);
  });
});

describe('sessions through the engines', () => {
  it('opens a session after pairing on the same connection and answers requests', () => {
    const toy = makeToy('d');
    const sim = new LinkSim(toy);
    const paired = pairFirstPhone(toy, sim);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    const id = sim.phone!.request({ type: 'SetVolume', volume: 42 }, sim.now);
    const response = sim.waitFor('response');
    expect(response).toMatchObject({ requestId: id, message: { type: 'Ok' } });
    expect(toy.app.volume).toBe(42);
  });

  it('refuses a phone that is not paired with an alert, and changes nothing', () => {
    const toy = makeToy('e');
    const sim = new LinkSim(toy);
    const paired = pairFirstPhone(toy, sim);
    sim.cut();
    sim.connect(makePhone('stranger')).openSession(paired, sim.now);
    expect(sim.waitFor('alert').code).toBe(AlertCode.UnknownPhone);
    sim.waitFor('closed');
    expect(toy.app.requests).toHaveLength(0);
    expect(toy.engine.pairing.state.pairings).toHaveLength(1);
  });

  it('drops a connection that does not authenticate within 10 s; the owner connects afterwards', () => {
    const toy = makeToy('f');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.cut();
    const t0 = sim.now;
    sim.connect(makePhone('loiterer'));
    expect(sim.waitFor('alert').code).toBe(AlertCode.AuthTimeout);
    expect(sim.now - t0).toBeGreaterThanOrEqual(10_000);
    expect(sim.now - t0).toBeLessThan(10_100);
    sim.connect(mum).openSession(paired, sim.now);
    sim.waitFor('session-open');
  });

  it('survives a reboot: the pairing persisted and a new session opens', () => {
    const toy = makeToy('g');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.cut();
    toy.reboot();
    sim.connect(mum).openSession(paired, sim.now);
    sim.waitFor('session-open');
  });
});

describe('voice transfer through the engines', () => {
  const message = syntheticMessage('60s');

  function sessionFor(sim: LinkSim, phone: ReturnType<typeof makePhone>, paired: PairedToy): void {
    sim.connect(phone).openSession(paired, sim.now);
    sim.waitFor('session-open');
  }

  it('moves a 60-second message (~110 kB) and stores exactly it', () => {
    expect(message.length).toBeGreaterThan(105_000);
    expect(message.length).toBeLessThan(120_000);
    const toy = makeToy('h');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    const id = sim.phone!.upload(message, sim.now);
    const done = sim.waitFor('upload-done');
    expect(done.transferId).toBe(id);
    expect(toy.storage.messages.get(done.messageId)).toEqual(message);
    expect(toy.storage.partials.size).toBe(0);
    expect(sim.phoneEvents.filter((e) => e.type === 'transfer-progress').length).toBeGreaterThan(10);
  });

  it('resumes after cuts at random points and ends with the same sha256', () => {
    for (const seed of ['r1', 'r2', 'r3']) {
      const random = seededRandom(`cuts ${seed}`);
      const toy = makeToy(`resume ${seed}`);
      const sim = new LinkSim(toy);
      const mum = makePhone('mum');
      const paired = pairFirstPhone(toy, sim, mum);
      sim.cut();
      let transferId: number | undefined;
      let cuts = 0;
      let done: { messageId: number } | undefined;
      for (let attempt = 0; attempt < 40 && !done; attempt++) {
        sessionFor(sim, mum, paired);
        // The first four connections are cut after a random 10..137 further values on the air (the
        // whole message is ~640 segments at MTU 185), so each ends mid-transfer; then no more cuts.
        sim.cutAfterValues = attempt < 4 ? 10 + (random(1)[0]! & 127) : undefined;
        transferId = sim.phone!.upload(message, sim.now, transferId);
        sim.runUntil(() => !sim.up || sim.phoneEvents.some((e) => e.type === 'upload-done'));
        const d = sim.phoneEvents.find((e) => e.type === 'upload-done');
        if (d && d.type === 'upload-done') done = d;
        else {
          cuts++;
          // Nothing partial is ever playable: a stored message is always the whole one.
          for (const m of toy.storage.messages.values()) expect(bytesEqual(m, message)).toBe(true);
        }
      }
      expect(done).toBeDefined();
      expect(cuts).toBe(4);
      const stored = toy.storage.messages.get(done!.messageId)!;
      expect(bytesEqual(sha256(stored), sha256(message))).toBe(true);
      expect(toy.storage.messages.size).toBe(1);
    }
  });

  it('answers Done again, without a duplicate, when the phone missed the first Done', () => {
    const toy = makeToy('lost done');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    const transferId = sim.phone!.upload(message, sim.now);
    // Cut the link the moment the toy has stored the message: its Done is still in flight.
    sim.runUntil(() => sim.toyEvents.some((e) => e.type === 'message-stored'));
    sim.cut();
    expect(sim.phoneEvents.some((e) => e.type === 'upload-done')).toBe(false);
    sessionFor(sim, mum, paired);
    sim.phone!.upload(message, sim.now, transferId);
    const done = sim.waitFor('upload-done');
    expect(toy.storage.messages.size).toBe(1);
    expect(toy.storage.messages.get(done.messageId)).toEqual(message);
  });

  it('never makes an altered message playable: tampered stored bytes are discarded on resume', () => {
    const toy = makeToy('tamper');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    sim.cutAfterValues = 300;
    const transferId = sim.phone!.upload(message, sim.now);
    sim.runUntil(() => !sim.up);
    const partial = toy.storage.partials.get(transferId)!;
    expect(partial.committed.length).toBeGreaterThan(8_000);
    // Flip one byte inside an Opus packet of the committed prefix (a flash fault or an attacker
    // with the flash): the length prefixes stay valid, so only the hash can catch it.
    partial.committed[partial.committed.length - 5]! ^= 0x40;
    sessionFor(sim, mum, paired);
    sim.phone!.upload(message, sim.now, transferId);
    const failed = sim.waitFor('transfer-failed');
    expect(failed.status).toBe(TransferStatus.HashMismatch);
    expect(toy.storage.messages.size).toBe(0);
    expect(toy.storage.partials.size).toBe(0);
    // A fresh upload of the same message then succeeds.
    sim.phone!.upload(message, sim.now);
    const done = sim.waitFor('upload-done');
    expect(toy.storage.messages.get(done.messageId)).toEqual(message);
  });

  it('closes the session on a bit flipped in flight and acts on nothing', () => {
    const toy = makeToy('flip');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    // Tamper with the next value the phone writes: flip a bit in the middle of a segment.
    const phone = sim.phone!;
    phone.request({ type: 'SetVolume', volume: 7 }, sim.now);
    const writes = phone.takeOutputs();
    for (const w of writes) {
      if (w.kind === 'write' && w.value.length > 20) w.value[w.value.length - 3]! ^= 0x10;
      if (w.kind === 'write') toy.engine.write(sim.connectionId, w.value, sim.now);
    }
    const outs = toy.engine.takeOutputs();
    expect(outs.some((o) => o.kind === 'disconnect' && o.reason.startsWith('session:'))).toBe(true);
    expect(toy.app.volume).toBe(128);
  });
});

describe('storage failures inside the toy engine', () => {
  it('end the upload with StorageFailed instead of throwing, keep what was stored, and a resume completes it', () => {
    const message = syntheticMessage('storage failure');
    const toy = makeToy('storage failure');
    const sim = new LinkSim(toy);
    const mum = makePhone('mum');
    const paired = pairFirstPhone(toy, sim, mum);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    // The flash fails on the third commit (as a full or failing flash does: a typed error).
    const append = toy.storage.appendPartial.bind(toy.storage);
    let commits = 0;
    let stored = 0;
    toy.storage.appendPartial = (id, offset, bytes) => {
      if (++commits === 3) throw new PawLinkError('FULL', 'flash full');
      append(id, offset, bytes);
      stored = offset + bytes.length;
    };
    const transferId = sim.phone!.upload(message, sim.now);
    const failed = sim.waitFor('transfer-failed');
    expect(failed.status).toBe(TransferStatus.StorageFailed);
    expect(sim.toyEvents.some((e) => e.type === 'storage-failed')).toBe(true);
    expect(toy.storage.messages.size).toBe(0);
    // Exactly what the two good commits stored, a prefix of the message; nothing of the failed one.
    const partial = toy.storage.partials.get(transferId)!.committed;
    expect(stored).toBeGreaterThan(8_000);
    expect(partial).toEqual(message.subarray(0, stored));
    // The flash works again: the same upload resumes from what was stored and completes once.
    toy.storage.appendPartial = append;
    sim.phone!.upload(message, sim.now, transferId);
    const done = sim.waitFor('upload-done');
    expect(toy.storage.messages.get(done.messageId)).toEqual(message);
  });

  it('answers a request whose handling fails in storage with Error INTERNAL and keeps the session', () => {
    const toy = makeToy('storage failure app');
    const sim = new LinkSim(toy);
    const paired = pairFirstPhone(toy, sim);
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    toy.app.handleRequest = () => {
      throw new PawLinkError('CORRUPT_VALUE', 'flash damaged');
    };
    sim.phone!.request({ type: 'SetVolume', volume: 9 }, sim.now);
    expect(sim.waitFor('response').message).toMatchObject({ type: 'Error', code: 'INTERNAL' });
    expect(sim.phone!.state).toBe('session');
  });
});
