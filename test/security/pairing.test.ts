/**
 * Attacks on ownership (protocol brief, "Attacks"): pairing without physical presence, guessing the
 * setup code, codes and keys of other toys, and a man in the middle during pairing. Over the air,
 * against the simulated toy's real stack, with the attacker's kit.
 */
import { p256 } from '@noble/curves/nist.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkType } from '../../protocol/link.js';
import {
  decodePairingMessage,
  encodePairingMessage,
  PairingMessageType,
} from '../../protocol/pairing/messages.js';
import { generateSetupCode } from '../../protocol/pairing/setup-code.js';
import { seededRandom } from '../../protocol/random.js';
import { flipBit, type Lab, makePhoneIdentity, openLab, Relay, TestPhone, tamper } from './kit/index.js';

let labs: Lab[] = [];
afterEach(async () => {
  for (const l of labs) await l.close();
  labs = [];
});

/** A factory-new toy with its pairing window open (the child's parent held the listen paw). */
async function lab(options: Parameters<typeof openLab>[0] = {}): Promise<Lab> {
  const l = await openLab(options);
  labs.push(l);
  await openWindow(l);
  return l;
}

async function openWindow(l: Lab): Promise<void> {
  if (!l.bench.toy.pairing.windowOpen) await l.bench.toy.hold('listen', 3_000);
}

/** Valid setup codes (format and check digit) other than `not`. */
function otherCodes(not: string, n: number, seed = 'guess'): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  while (out.length < n) {
    const c = generateSetupCode(random);
    if (c !== not) out.push(c);
  }
  return out;
}

/** One pairing attempt with `code` on a new connection; resolves with the failure code, or 'PAIRED'. */
async function attempt(l: Lab, code: string, seed: string): Promise<string> {
  const phone = await TestPhone.connect(l.bench, makePhoneIdentity(seed));
  try {
    await phone.pair(code);
    return 'PAIRED';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await phone.close();
  }
}

describe('pairing needs the paw', () => {
  it('with the window closed, even the right code is refused (WINDOW_CLOSED) and nothing is counted or stored', async () => {
    const l = await lab();
    l.bench.toy.pairing.closeWindow();
    const before = l.state();
    expect(before.windowOpen).toBe(false);
    expect(await attempt(l, l.setupCode(), 'thief')).toBe('WINDOW_CLOSED');
    expect(l.state()).toEqual(before);
  });
});

describe('guessing the setup code', () => {
  it('20 wrong codes close the window; then the right code is refused until the paw opens it again', async () => {
    const l = await lab();
    const guesses = otherCodes(l.setupCode(), 20);
    const results: string[] = [];
    for (const [i, g] of guesses.entries()) results.push(await attempt(l, g, `guess ${i}`));
    expect(results).toEqual(Array(20).fill('BAD_CONFIRMATION'));
    expect(l.state().windowOpen).toBe(false);
    expect(l.state().lifetimeFailures).toBe(20);
    expect(await attempt(l, l.setupCode(), 'late')).toBe('WINDOW_CLOSED');
    expect(l.state().pairings).toEqual([]);
    await openWindow(l);
    expect(await attempt(l, l.setupCode(), 'owner')).toBe('PAIRED');
  });

  it('100 failures in the toy lifetime lock pairing, across reboots: the right code and the paw are refused until a factory reset', async () => {
    const l = await lab();
    const guesses = otherCodes(l.setupCode(), 100, 'lifetime');
    let n = 0;
    for (let round = 0; round < 5; round++) {
      await openWindow(l);
      for (let i = 0; i < 20; i++) expect(await attempt(l, guesses[n]!, `g${n++}`)).toBe('BAD_CONFIRMATION');
      // A reboot between rounds: the counter is on flash, not in memory.
      await l.bench.restart();
      expect(l.state().lifetimeFailures).toBe(n);
    }
    expect(l.state().locked).toBe(true);
    const refused = l.bench.events.next((e) => e.event === 'pairing-window-refused');
    await l.bench.toy.hold('listen', 3_000);
    expect(await refused).toMatchObject({ reason: 'LOCKED' });
    expect(l.state().windowOpen).toBe(false);
    expect(await attempt(l, l.setupCode(), 'owner')).toMatch(/WINDOW_CLOSED|LOCKED/);
    await l.bench.restart();
    expect(l.state()).toMatchObject({ locked: true, lifetimeFailures: 100, pairings: [] });
  });
});

describe('secrets of other toys', () => {
  it('no two toys share a setup code, a toy id or a key; toy B refuses toy A code, and toy A phone keys', async () => {
    const a = await lab({ seed: 'toy A' });
    const b = await lab({ seed: 'toy B' });
    expect(a.setupCode()).not.toBe(b.setupCode());
    expect(a.state().toyId).not.toBe(b.state().toyId);
    expect(a.state().toyStaticPublicKey).not.toBe(b.state().toyStaticPublicKey);
    const { phone, paired, identity } = await a.owner();
    await phone.close();
    // A's code on B, in B's pairing window.
    await openWindow(b);
    const before = b.state();
    expect(await attempt(b, a.setupCode(), 'a-phone')).toBe('BAD_CONFIRMATION');
    expect(b.state()).toEqual({ ...before, lifetimeFailures: 1 });
    // A's phone with A's pairing against B: B does not know it (UnknownPhone alert) or A's toy key (ProtocolError).
    const onB = await TestPhone.connect(b.bench, identity);
    onB.driver.act((e, now) => e.openSession(paired, now));
    expect((await onB.next('closed')).reason).toBeDefined();
    expect(b.state().pairings).toEqual([]);
  });
});

/** A valid P-256 point the attacker picked (its own share: k·G). */
function attackerPoint(k: bigint): Uint8Array {
  return p256.Point.BASE.multiply(k).toBytes(false);
}

/** Replaces the share inside a Pake1 or Pake2 link message with the attacker's own point. */
function substituteShare(m: Uint8Array): Uint8Array {
  const msg = decodePairingMessage(m.subarray(1));
  const forged =
    msg.type === PairingMessageType.Pake1
      ? { ...msg, shareP: attackerPoint(0x1234567n) }
      : msg.type === PairingMessageType.Pake2
        ? { ...msg, shareV: attackerPoint(0x7654321n) }
        : msg;
  return Uint8Array.of(LinkType.Pairing, ...encodePairingMessage(forged));
}

describe('a man in the middle during pairing', () => {
  it('a relay that puts its own share in place of the phone share (Pake1): the phone key confirmation fails; the toy pairs nobody', async () => {
    const l = await lab();
    const relay = await Relay.start(l);
    relay.fromPhone = tamper(
      (m) => m[0] === LinkType.Pairing && m[1] === PairingMessageType.Pake1,
      substituteShare,
    );
    const phone = await TestPhone.connect(l.bench, makePhoneIdentity('owner'), { address: relay.address });
    await expect(phone.pair(l.setupCode())).rejects.toMatchObject({ code: 'BAD_CONFIRMATION' });
    expect(l.state().pairings).toEqual([]);
    await phone.close();
    await relay.close();
  });

  it('a relay that changes the phone confirmation (Pake3): the toy key confirmation fails; nobody is paired', async () => {
    const l = await lab();
    const relay = await Relay.start(l);
    relay.fromPhone = tamper(
      (m) => m[0] === LinkType.Pairing && m[1] === PairingMessageType.Pake3,
      (m) => flipBit(m, 20),
    );
    const failed = l.bench.events.next((e) => e.event === 'pairing-failed');
    const phone = await TestPhone.connect(l.bench, makePhoneIdentity('owner'), { address: relay.address });
    await expect(phone.pair(l.setupCode())).rejects.toBeDefined();
    expect(await failed).toMatchObject({ code: 'BAD_CONFIRMATION' });
    expect(l.state().pairings).toEqual([]);
    await phone.close();
    await relay.close();
  });

  it('a relay that puts its own share in place of the toy share (Pake2): the phone refuses; a faithful relay lets pairing succeed but learns no key', async () => {
    const l = await lab();
    const relay = await Relay.start(l);
    relay.fromToy = tamper(
      (m) => m[0] === LinkType.Pairing && m[1] === PairingMessageType.Pake2,
      substituteShare,
    );
    const phone = await TestPhone.connect(l.bench, makePhoneIdentity('owner'), { address: relay.address });
    await expect(phone.pair(l.setupCode())).rejects.toMatchObject({ code: 'BAD_CONFIRMATION' });
    await phone.close();
    expect(l.state().pairings).toEqual([]);
    await openWindow(l);

    // Faithful relaying: the PAKE cannot stop a relay that passes every byte, but what it saw holds
    // neither the code nor the phone's or toy's key material in the clear.
    relay.fromToy = (v) => [v];
    const good = await TestPhone.connect(l.bench, makePhoneIdentity('owner'), { address: relay.address });
    const paired = await good.pair(l.setupCode());
    await good.openSession(paired);
    await good.request({ type: 'SetVolume', volume: 77 });
    const seen = Buffer.concat(relay.log.map((r) => r.value)).toString('hex');
    expect(seen).not.toContain(Buffer.from(paired.tagKey).toString('hex'));
    expect(seen).not.toContain(Buffer.from(l.setupCode().replace(/\D/g, '')).toString('hex'));
    expect(seen).not.toContain(Buffer.from(paired.toyId).toString('hex'));
    await good.close();
    await relay.close();
  });
});
