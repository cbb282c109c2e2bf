import { describe, expect, it } from 'vitest';
import { bytesEqual, toHex } from '../../../protocol/bytes.js';
import {
  ATTEMPT_MS,
  decodePairingMessage,
  decodeToyPairingState,
  encodePairingMessage,
  LIFETIME_MAX_FAILURES,
  PairingMessageType,
  type PairingSecrets,
  PairingStatusCode,
  ToyPairing,
  type ToyPairingOutput,
  WINDOW_MAX_FAILURES,
  WINDOW_MS,
} from '../../../protocol/pairing/index.js';
import {
  deriveIdentityKeys,
  pairingContext,
  pairingParties,
  sealPhoneIdentity,
} from '../../../protocol/pairing/keys.js';
import {
  computeL,
  computeShareP,
  proverFinish,
  randomScalar,
  verifierRespond,
} from '../../../protocol/pairing/spake2plus.js';
import { seededRandom } from '../../../protocol/random.js';
import {
  CODE,
  expectPairingError,
  initialState,
  initiator,
  kinds,
  phoneIdentity,
  roleOf,
  runExchange,
  sentTo,
  toyRig,
  WRONG_CODE,
} from './helpers.js';

const mum = phoneIdentity('mum', 'Mum');
const dad = phoneIdentity('dad', 'Dad');
const gran = phoneIdentity('gran', 'Gran');

const request = (seed: string) =>
  encodePairingMessage({
    type: PairingMessageType.PbkdfParamRequest,
    version: 1,
    phoneRandom: seededRandom(seed)(32),
  });
const status = (body: Uint8Array | undefined) => {
  const m = decodePairingMessage(body!);
  return m.type === PairingMessageType.PairingStatus ? m.code : undefined;
};
const lastStatus = (outputs: ToyPairingOutput[], conn: number | string) =>
  status(sentTo(outputs, conn).at(-1));

/**
 * A guesser that skips PBKDF2: a valid Pake1 from a random w0 of its own, then a Pake3. Without the
 * code its confirmP is as wrong as random bytes, so random bytes it sends (keeps the test fast).
 */
function guessOnce(toy: ToyPairing, conn: number, now: number, seed: string): ToyPairingOutput[] {
  const r = seededRandom(seed);
  const out1 = toy.handle(now, conn, request(seed));
  if (status(sentTo(out1, conn)[0]) !== undefined) return out1;
  const shareP = computeShareP(randomScalar(r), randomScalar(r));
  const out2 = toy.handle(now + 1, conn, encodePairingMessage({ type: PairingMessageType.Pake1, shareP }));
  expect(decodePairingMessage(sentTo(out2, conn)[0]!).type).toBe(PairingMessageType.Pake2);
  const pake3 = encodePairingMessage({ type: PairingMessageType.Pake3, confirmP: r(32) });
  return [...out1, ...out2, ...toy.handle(now + 2, conn, pake3)];
}

describe('ToyPairing: a right code pairs', () => {
  it('both sides derive the same K_shared and exchange identities; the first phone is admin', () => {
    const logs: PairingSecrets[] = [];
    const rig = toyRig(initialState(), (s) => logs.push(s));
    expect(rig.toy.openWindowByPaw(0, 3000).opened).toBe(true);
    const phone = initiator(mum, CODE, (s) => logs.push(s));
    const ex = runExchange(rig.toy, phone);
    const [phoneKeys, toyKeys] = [logs.find((l) => l.side === 'phone')!, logs.find((l) => l.side === 'toy')!];
    expect(toHex(phoneKeys.kShared)).toBe(toHex(toyKeys.kShared));
    expect(toHex(phoneKeys.TT)).toBe(toHex(toyKeys.TT));

    const state = rig.toy.state;
    expect(ex.result).toEqual({
      toyId: state.toyId,
      toyStaticPublicKey: state.toyStaticPublicKey,
      tagKey: state.tagKey,
      role: 'admin',
    });
    // Provisional until the phone's first session shows it received ToyIdentity.
    expect(state.pairings).toEqual([{ ...mum, role: 'admin', provisional: true }]);
    expect(kinds(ex.toyOutputs).slice(-2)).toEqual(['paired', 'window-closed']);
    expect(rig.toy.windowOpen).toBe(false);
    expect(state.lifetimeFailures).toBe(0);
    expect(decodeToyPairingState(rig.flash())).toEqual(state);
    expect(rig.toy.lookupByStaticKey(mum.phoneStaticPublicKey)?.name).toBe('Mum');
  });

  it('creates the tag key at the first pairing and keeps it for later ones', () => {
    const rig = toyRig();
    expect(rig.toy.state.tagKey).toBeUndefined();
    rig.toy.openWindowByPaw(0, 3000);
    const first = runExchange(rig.toy, initiator(mum)).result!;
    rig.toy.openWindowByAdmin(10_000, mum.phoneId, 'member');
    const second = runExchange(rig.toy, initiator(dad), 2, 10_000).result!;
    expect(second.role).toBe('member');
    expect(toHex(second.tagKey)).toBe(toHex(first.tagKey));
    expect(toHex(rig.toy.state.tagKey!)).toBe(toHex(first.tagKey));
  });
});

describe('ToyPairing: wrong codes and men in the middle', () => {
  it('a wrong code fails on both sides and stores nothing but the failure count', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const ex = runExchange(rig.toy, initiator(mum, WRONG_CODE));
    expect(ex.phoneError).toBe('BAD_CONFIRMATION');
    expect(ex.toyOutputs.at(-1)).toEqual({
      kind: 'attempt-failed',
      connectionId: 1,
      code: 'BAD_CONFIRMATION',
    });
    const after = decodeToyPairingState(rig.flash());
    expect(after.pairings).toEqual([]);
    expect(after.tagKey).toBeUndefined();
    expect(after).toEqual({ ...initialState(), lifetimeFailures: 1 });
    expect(rig.toy.windowOpen).toBe(true);
  });

  it('a guesser who ignores confirmV and sends Pake3 anyway gets BAD_CONFIRMATION from the toy', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const out = guessOnce(rig.toy, 1, 100, 'guesser');
    expect(lastStatus(out, 1)).toBe(PairingStatusCode.BadConfirmation);
    expect(out.at(-1)).toEqual({ kind: 'attempt-failed', connectionId: 1, code: 'BAD_CONFIRMATION' });
    expect(rig.toy.state.pairings).toEqual([]);
    expect(rig.toy.state.lifetimeFailures).toBe(1);
  });

  it('a man in the middle replacing X and Y with his own shares fails confirmation on both sides', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const mitm = seededRandom('mallory');
    // Mallory knows neither w0 nor w1: she uses a guessed code's values on both legs.
    const guess = { w0: randomScalar(mitm), w1: randomScalar(mitm) };

    const req = phone.start(0);
    const resp = sentTo(rig.toy.handle(1, 'toy-leg', req), 'toy-leg')[0]!; // relayed unchanged
    const pake1 = decodePairingMessage(phone.handle(2, resp).send[0]!);
    if (pake1.type !== PairingMessageType.Pake1) throw new Error('expected Pake1');
    // The same Context on both legs (she relays the parameter messages unchanged).
    const parties = pairingParties(pairingContext(req, resp));

    // Toward the toy: her own X'.
    const xM = randomScalar(mitm);
    const shareP = computeShareP(guess.w0, xM);
    const toyPake2 = decodePairingMessage(
      sentTo(
        rig.toy.handle(3, 'toy-leg', encodePairingMessage({ type: PairingMessageType.Pake1, shareP })),
        'toy-leg',
      )[0]!,
    );
    if (toyPake2.type !== PairingMessageType.Pake2) throw new Error('expected Pake2');
    const toyLeg = proverFinish({ parties, ...guess, x: xM, shareP, shareV: toyPake2.shareV });
    expect(bytesEqual(toyLeg.confirmV, toyPake2.confirmV)).toBe(false); // she cannot check the toy either

    // Toward the phone: her own Y' and a confirmV computed with her guess.
    const phoneLeg = verifierRespond({
      parties,
      w0: guess.w0,
      L: computeL(guess.w1),
      y: randomScalar(mitm),
      shareP: pake1.shareP,
    });
    expectPairingError(
      () =>
        phone.handle(
          4,
          encodePairingMessage({
            type: PairingMessageType.Pake2,
            shareV: phoneLeg.shareV,
            confirmV: phoneLeg.keys.confirmV,
          }),
        ),
      'BAD_CONFIRMATION',
    );
    expect(phone.phase).toBe('failed');

    // And her Pake3 to the toy is refused.
    const out = rig.toy.handle(
      5,
      'toy-leg',
      encodePairingMessage({ type: PairingMessageType.Pake3, confirmP: toyLeg.confirmP }),
    );
    expect(lastStatus(out, 'toy-leg')).toBe(PairingStatusCode.BadConfirmation);
    expect(rig.toy.state.pairings).toEqual([]);
    expect(rig.toy.state.lifetimeFailures).toBe(1);
  });
});

describe('ToyPairing: the pairing window', () => {
  it('refuses the right code while the window is closed, with WINDOW_CLOSED on the phone', () => {
    const rig = toyRig();
    const ex = runExchange(rig.toy, initiator(mum));
    expect(ex.phoneError).toBe('WINDOW_CLOSED');
    expect(rig.writes).toHaveLength(0);
    expect(rig.toy.state.pairings).toEqual([]);
  });

  it('opens only for a paw hold of at least 3 s and only while no phone is paired', () => {
    const rig = toyRig();
    expect(rig.toy.openWindowByPaw(0, 2999)).toMatchObject({ opened: false, reason: 'HOLD_TOO_SHORT' });
    expect(rig.toy.windowOpen).toBe(false);
    expect(rig.toy.openWindowByPaw(0, 3000)).toMatchObject({ opened: true, closesAt: WINDOW_MS });
    runExchange(rig.toy, initiator(mum));
    rig.toy.confirmSession(mum.phoneId);
    expect(rig.toy.openWindowByPaw(5000, 10_000)).toMatchObject({ opened: false, reason: 'TABLE_NOT_EMPTY' });
    expect(runExchange(rig.toy, initiator(dad), 2, 6000).phoneError).toBe('WINDOW_CLOSED');
  });

  it('a phone that never opened a session (its ToyIdentity may be lost) does not stop the paw: a hold drops it and opens the window', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    runExchange(rig.toy, initiator(mum));
    expect(rig.toy.state.pairings.map((e) => e.provisional)).toEqual([true]);
    // The state survives a reboot with the flag (bit 7 of the role byte).
    expect(decodeToyPairingState(rig.flash()).pairings[0]?.provisional).toBe(true);
    expect(rig.toy.openWindowByPaw(5000, 3000)).toMatchObject({ opened: true });
    expect(rig.toy.state.pairings).toEqual([]);
    expect(rig.toy.state.tagKey).toBeUndefined();
    expect(decodeToyPairingState(rig.flash())).toEqual(rig.toy.state);
    expect(runExchange(rig.toy, initiator(dad), 2, 6000).result?.role).toBe('admin');
  });

  it('confirmSession clears the flag once and persists it; an unknown phone is UNKNOWN_PHONE and changes nothing', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    runExchange(rig.toy, initiator(mum));
    rig.toy.confirmSession(mum.phoneId);
    expect(rig.toy.state.pairings).toEqual([{ ...mum, role: 'admin' }]);
    expect(decodeToyPairingState(rig.flash())).toEqual(rig.toy.state);
    const flash = rig.flash();
    rig.toy.confirmSession(mum.phoneId);
    expect(rig.flash()).toEqual(flash);
    expect(() => rig.toy.confirmSession(dad.phoneId)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_PHONE' }),
    );
  });

  it('closes after 180 s: the right code is then refused', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(1000, 3000);
    expect(rig.toy.nextDeadline()).toBe(1000 + WINDOW_MS);
    expect(rig.toy.tick(1000 + WINDOW_MS - 1)).toEqual([]);
    expect(rig.toy.tick(1000 + WINDOW_MS)).toEqual([{ kind: 'window-closed', reason: 'expired' }]);
    expect(rig.toy.nextDeadline()).toBeUndefined();
    expect(runExchange(rig.toy, initiator(mum), 1, 1000 + WINDOW_MS + 1).phoneError).toBe('WINDOW_CLOSED');
  });

  it('treats a window past its deadline as closed even before tick is called', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const out = rig.toy.handle(WINDOW_MS, 1, request('late'));
    expect(kinds(out)).toEqual(['window-closed', 'send']);
    expect(lastStatus(out, 1)).toBe(PairingStatusCode.WindowClosed);
  });

  it('aborts an attempt in progress when the window closes', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    rig.toy.handle(WINDOW_MS - 1000, 1, request('edge'));
    const out = rig.toy.tick(WINDOW_MS);
    expect(out).toEqual([
      {
        kind: 'send',
        connectionId: 1,
        body: encodePairingMessage({
          type: PairingMessageType.PairingStatus,
          code: PairingStatusCode.WindowClosed,
        }),
      },
      { kind: 'attempt-failed', connectionId: 1, code: 'WINDOW_CLOSED' },
      { kind: 'window-closed', reason: 'expired' },
    ]);
  });

  it('answers a second concurrent attempt with BUSY and lets the first one finish', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const resp = sentTo(rig.toy.handle(10, 'mum', phone.start(10)), 'mum')[0]!;
    const intruder = initiator(dad);
    const busy = rig.toy.handle(11, 'dad', intruder.start(11));
    expect(lastStatus(busy, 'dad')).toBe(PairingStatusCode.Busy);
    expectPairingError(() => intruder.handle(12, sentTo(busy, 'dad')[0]!), 'BUSY');
    // Mum's attempt is untouched: Pake1 → Pake2 → Pake3 + PhoneIdentity → ToyIdentity.
    const [pake1] = phone.handle(20, resp).send;
    const pake2 = sentTo(rig.toy.handle(21, 'mum', pake1!), 'mum')[0]!;
    const [pake3, identity] = phone.handle(22, pake2).send;
    rig.toy.handle(23, 'mum', pake3!);
    const toyIdentity = sentTo(rig.toy.handle(24, 'mum', identity!), 'mum')[0]!;
    expect(phone.handle(25, toyIdentity).result).toMatchObject({ role: 'admin' });
  });

  it('gives each attempt 30 s, then sends TIMEOUT and frees the slot', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    rig.toy.handle(1000, 'slow', request('slow'));
    expect(rig.toy.nextDeadline()).toBe(1000 + ATTEMPT_MS);
    expect(rig.toy.tick(1000 + ATTEMPT_MS - 1)).toEqual([]);
    const out = rig.toy.tick(1000 + ATTEMPT_MS);
    expect(lastStatus(out, 'slow')).toBe(PairingStatusCode.Timeout);
    expect(out.at(-1)).toEqual({ kind: 'attempt-failed', connectionId: 'slow', code: 'TIMEOUT' });
    expect(rig.toy.attemptConnection).toBeUndefined();
    expect(runExchange(rig.toy, initiator(mum), 'fast', 1000 + ATTEMPT_MS + 1).result?.role).toBe('admin');
  });

  it('the phone turns a TIMEOUT status into a TIMEOUT error', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const resp = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1)[0]!;
    phone.handle(1, resp);
    const timeout = sentTo(rig.toy.tick(ATTEMPT_MS), 1)[0]!;
    expectPairingError(() => phone.handle(2, timeout), 'TIMEOUT');
  });

  it('closes the window after 20 failed attempts; the right code is then refused', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    let last: ToyPairingOutput[] = [];
    for (let i = 0; i < WINDOW_MAX_FAILURES; i++) {
      expect(rig.toy.windowOpen).toBe(true);
      last = guessOnce(rig.toy, i, 100 * i, `guess ${i}`);
    }
    expect(last.at(-1)).toEqual({ kind: 'window-closed', reason: 'too-many-failures' });
    expect(rig.toy.windowOpen).toBe(false);
    expect(rig.toy.state.lifetimeFailures).toBe(WINDOW_MAX_FAILURES);
    expect(runExchange(rig.toy, initiator(mum), 'mum', 5000).phoneError).toBe('WINDOW_CLOSED');
  });

  it('lets an admin cancel the window', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    expect(rig.toy.closeWindow()).toEqual([{ kind: 'window-closed', reason: 'cancelled' }]);
    expect(rig.toy.closeWindow()).toEqual([]);
  });
});

describe('ToyPairing: failure counting and the lifetime lock', () => {
  it('persists the charge before Pake2 leaves the toy, and credits it back after a valid Pake3', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const resp = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1)[0]!;
    expect(rig.writes).toHaveLength(0);
    const pake1 = phone.handle(1, resp).send[0]!;
    const out = rig.toy.handle(2, 1, pake1);
    expect(decodePairingMessage(sentTo(out, 1)[0]!).type).toBe(PairingMessageType.Pake2);
    expect(rig.writes).toHaveLength(1);
    expect(decodeToyPairingState(rig.flash()).lifetimeFailures).toBe(1);
    // A power cut now cannot roll the counter back.
    expect(rig.reboot().state.lifetimeFailures).toBe(1);
  });

  it('sends no Pake2 and changes nothing when the charge cannot be persisted', () => {
    const state = initialState();
    const toy = new ToyPairing({
      state,
      random: seededRandom('r'),
      persist: () => {
        throw new Error('flash worn out');
      },
    });
    toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const pake1 = phone.handle(1, sentTo(toy.handle(0, 1, phone.start(0)), 1)[0]!).send[0]!;
    expectPairingError(() => toy.handle(2, 1, pake1), 'PERSIST_FAILED');
    expect(toy.state).toBe(state);
    expect(toy.attemptConnection).toBe(1);
  });

  it('credits the charge back once the phone proves the code', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    runExchange(rig.toy, initiator(mum));
    expect(rig.writes.map((w) => decodeToyPairingState(w).lifetimeFailures)).toEqual([1, 0, 0]);
  });

  it('keeps the charge when a charged attempt is abandoned (disconnect)', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const resp = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1)[0]!;
    rig.toy.handle(2, 1, phone.handle(1, resp).send[0]!);
    expect(rig.toy.connectionClosed(2)).toEqual([]);
    expect(rig.toy.connectionClosed(1)).toEqual([
      { kind: 'attempt-failed', connectionId: 1, code: 'CONNECTION_CLOSED' },
    ]);
    expect(rig.toy.state.lifetimeFailures).toBe(1);
  });

  it('locks pairing after 100 lifetime failures, across reboots, until factory reset', () => {
    const rig = toyRig();
    let t = 0;
    // Five windows of 20 guesses, with a reboot after each: the counter lives in flash.
    for (let w = 0; w < LIFETIME_MAX_FAILURES / WINDOW_MAX_FAILURES; w++) {
      expect(rig.toy.openWindowByPaw(t, 3000).opened).toBe(true);
      for (let i = 0; i < WINDOW_MAX_FAILURES; i++) {
        t += 10;
        guessOnce(rig.toy, i, t, `w${w} g${i}`);
      }
      expect(rig.toy.windowOpen).toBe(false);
      rig.reboot();
      t += 1000;
    }
    expect(rig.toy.state.lifetimeFailures).toBe(LIFETIME_MAX_FAILURES);
    expect(rig.toy.locked).toBe(true);
    expect(rig.toy.openWindowByPaw(t, 5000)).toMatchObject({ opened: false, reason: 'LOCKED' });
    expect(runExchange(rig.toy, initiator(mum), 1, t).phoneError).toBe('LOCKED');

    rig.reboot();
    expect(rig.toy.locked).toBe(true);
    rig.toy.factoryReset(new Uint8Array(32).fill(0x42));
    expect(rig.toy.locked).toBe(false);
    rig.reboot();
    expect(rig.toy.state.lifetimeFailures).toBe(0);
    rig.toy.openWindowByPaw(t, 3000);
    expect(runExchange(rig.toy, initiator(mum), 1, t).result?.role).toBe('admin');
  });

  it('the 100th failure closes an open window at once', () => {
    const rig = toyRig(initialState('state', { lifetimeFailures: LIFETIME_MAX_FAILURES - 1 }));
    rig.toy.openWindowByPaw(0, 3000);
    const out = guessOnce(rig.toy, 1, 10, 'last guess');
    expect(out.at(-1)).toEqual({ kind: 'window-closed', reason: 'locked' });
    expect(decodeToyPairingState(rig.flash()).lifetimeFailures).toBe(LIFETIME_MAX_FAILURES);
  });

  it('a right code at 99 failures still pairs (the charge is credited back)', () => {
    const rig = toyRig(initialState('state', { lifetimeFailures: LIFETIME_MAX_FAILURES - 1 }));
    rig.toy.openWindowByPaw(0, 3000);
    expect(runExchange(rig.toy, initiator(mum)).result?.role).toBe('admin');
    expect(rig.toy.state.lifetimeFailures).toBe(LIFETIME_MAX_FAILURES - 1);
  });
});

describe('ToyPairing: admins, members and the table', () => {
  function pairedRig() {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    runExchange(rig.toy, initiator(mum), 'mum', 0);
    rig.toy.openWindowByAdmin(1000, mum.phoneId, 'member');
    runExchange(rig.toy, initiator(dad), 'dad', 1000);
    return rig;
  }

  it('an admin opens the window for a member; a member cannot open it', () => {
    const rig = pairedRig();
    expect(roleOf(rig.toy.state, dad)).toBe('member');
    expectPairingError(() => rig.toy.openWindowByAdmin(2000, dad.phoneId, 'member'), 'NOT_ADMIN');
    expectPairingError(() => rig.toy.openWindowByAdmin(2000, gran.phoneId, 'member'), 'UNKNOWN_PHONE');
    expect(rig.toy.windowOpen).toBe(false);
  });

  it('an admin can invite another admin', () => {
    const rig = pairedRig();
    rig.toy.openWindowByAdmin(2000, mum.phoneId, 'admin');
    expect(runExchange(rig.toy, initiator(gran), 'gran', 2000).result?.role).toBe('admin');
    expect(rig.toy.listPairings(gran.phoneId)).toHaveLength(3);
  });

  it('lists and removes pairings for admins only', () => {
    const rig = pairedRig();
    expect(rig.toy.listPairings(mum.phoneId).map((e) => e.name)).toEqual(['Mum', 'Dad']);
    expectPairingError(() => rig.toy.listPairings(dad.phoneId), 'NOT_ADMIN');
    expectPairingError(() => rig.toy.removePairing(dad.phoneId, mum.phoneId), 'NOT_ADMIN');
    const before = rig.writes.length;
    expect(rig.toy.removePairing(mum.phoneId, dad.phoneId)).toEqual({ wiped: false, outputs: [] });
    expect(rig.writes).toHaveLength(before + 1);
    expect(rig.toy.lookupByStaticKey(dad.phoneStaticPublicKey)).toBeUndefined();
    expect(decodeToyPairingState(rig.flash()).pairings.map((e) => e.name)).toEqual(['Mum']);
  });

  it('removing the last admin wipes every pairing and the tag key; the paw opens the window again', () => {
    const rig = pairedRig();
    rig.toy.openWindowByAdmin(2000, mum.phoneId, 'member');
    const r = rig.toy.removePairing(mum.phoneId, mum.phoneId);
    expect(r).toEqual({ wiped: true, outputs: [{ kind: 'window-closed', reason: 'table-wiped' }] });
    const after = decodeToyPairingState(rig.flash());
    expect(after.pairings).toEqual([]);
    expect(after.tagKey).toBeUndefined();
    expect(rig.toy.lookupByStaticKey(dad.phoneStaticPublicKey)).toBeUndefined();
    expect(rig.toy.openWindowByPaw(3000, 3000).opened).toBe(true);
    const again = runExchange(rig.toy, initiator(dad), 'dad', 3000).result!;
    expect(again.role).toBe('admin');
  });

  it('refuses to open the window when the table is full', () => {
    const pairings = Array.from({ length: 16 }, (_, i) => ({
      phoneId: new Uint8Array(16).fill(i + 1),
      phoneStaticPublicKey: new Uint8Array(32).fill(i + 1),
      role: i === 0 ? ('admin' as const) : ('member' as const),
      name: '',
    }));
    const rig = toyRig(initialState('full', { pairings, tagKey: new Uint8Array(16) }));
    expectPairingError(() => rig.toy.openWindowByAdmin(0, pairings[0]!.phoneId, 'member'), 'TABLE_FULL');
  });

  it('refuses an admin window while a window is open (WINDOW_ALREADY_OPEN) or when locked (LOCKED)', () => {
    const rig = pairedRig();
    rig.toy.openWindowByAdmin(2000, mum.phoneId, 'member');
    expectPairingError(() => rig.toy.openWindowByAdmin(2002, mum.phoneId, 'member'), 'WINDOW_ALREADY_OPEN');
    const locked = toyRig({ ...rig.toy.state, lifetimeFailures: LIFETIME_MAX_FAILURES });
    expectPairingError(() => locked.toy.openWindowByAdmin(0, mum.phoneId, 'member'), 'LOCKED');
  });

  it('opens an admin window for the requested time, at most 180 s', () => {
    const rig = pairedRig();
    expect(rig.toy.openWindowByAdmin(2000, mum.phoneId, 'member', 60_000).closesAt).toBe(62_000);
    expect(rig.toy.tick(61_999)).toEqual([]);
    expect(rig.toy.tick(62_000)).toEqual([{ kind: 'window-closed', reason: 'expired' }]);
    expectPairingError(
      () => rig.toy.openWindowByAdmin(70_000, mum.phoneId, 'member', WINDOW_MS + 1),
      'BAD_VALUE',
    );
    expectPairingError(() => rig.toy.openWindowByAdmin(70_000, mum.phoneId, 'member', 0), 'BAD_VALUE');
    expect(rig.toy.windowOpen).toBe(false);
  });

  it('a phone that pairs again replaces its entry', () => {
    const rig = pairedRig();
    rig.toy.openWindowByAdmin(2000, mum.phoneId, 'member');
    runExchange(rig.toy, initiator({ ...dad, name: 'Dad new' }), 'dad', 2000);
    expect(rig.toy.state.pairings.map((e) => e.name)).toEqual(['Mum', 'Dad new']);
  });

  it('factory reset forgets every phone, makes a new toy id and closes the window', () => {
    const rig = pairedRig();
    const old = rig.toy.state;
    rig.toy.openWindowByAdmin(2000, mum.phoneId, 'member');
    rig.toy.handle(2001, 'x', request('x'));
    const out = rig.toy.factoryReset(new Uint8Array(32).fill(0x42));
    expect(kinds(out)).toEqual(['send', 'attempt-failed', 'window-closed']);
    expect(lastStatus(out, 'x')).toBe(PairingStatusCode.Aborted);
    const s = decodeToyPairingState(rig.flash());
    expect(s.pairings).toEqual([]);
    expect(toHex(s.toyId)).not.toBe(toHex(old.toyId));
    expect(s.verifier).toEqual(old.verifier);
    expect(rig.toy.lookupByStaticKey(mum.phoneStaticPublicKey)).toBeUndefined();
  });
});

describe('ToyPairing: rejected input changes nothing', () => {
  function snapshot(toy: ToyPairing) {
    return {
      state: toy.state,
      window: toy.windowClosesAt,
      attempt: toy.attemptConnection,
      deadline: toy.nextDeadline(),
    };
  }

  it('throws UNEXPECTED_MESSAGE for messages out of turn or from another connection', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const req = phone.start(0);
    const resp = sentTo(rig.toy.handle(0, 1, req), 1)[0]!;
    const pake1 = phone.handle(1, resp).send[0]!;
    const before = snapshot(rig.toy);
    for (const [conn, body] of [
      [2, pake1], // right message, wrong connection
      [1, req], // a second request on the same connection
      [1, resp], // the toy never receives a response
      [1, encodePairingMessage({ type: PairingMessageType.Pake3, confirmP: new Uint8Array(32) })],
      [2, encodePairingMessage({ type: PairingMessageType.PairingStatus, code: PairingStatusCode.Aborted })],
    ] as const) {
      expectPairingError(() => rig.toy.handle(5, conn, body), 'UNEXPECTED_MESSAGE');
      expect(snapshot(rig.toy)).toEqual(before);
    }
    expect(rig.writes).toHaveLength(0);
    // The attempt still completes.
    const out = rig.toy.handle(6, 1, pake1);
    expect(decodePairingMessage(sentTo(out, 1)[0]!).type).toBe(PairingMessageType.Pake2);
  });

  it('throws decode errors for malformed bodies without touching anything, even when a timeout is due', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    rig.toy.handle(0, 1, request('r'));
    const before = snapshot(rig.toy);
    expectPairingError(() => rig.toy.handle(ATTEMPT_MS + 5, 1, Uint8Array.of(0x22, 1, 2)), 'TRUNCATED');
    expectPairingError(() => rig.toy.handle(ATTEMPT_MS + 5, 1, Uint8Array.of(0x99)), 'UNKNOWN_MESSAGE_TYPE');
    expect(snapshot(rig.toy)).toEqual(before);
  });

  it('ends the attempt (InvalidMessage, not charged) for a Pake1 whose share is not a valid point', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    rig.toy.handle(0, 1, request('r'));
    const notOnCurve = new Uint8Array(65).fill(3);
    notOnCurve[0] = 4;
    const out = rig.toy.handle(
      1,
      1,
      encodePairingMessage({ type: PairingMessageType.Pake1, shareP: notOnCurve }),
    );
    expect(lastStatus(out, 1)).toBe(PairingStatusCode.InvalidMessage);
    expect(out.at(-1)).toEqual({ kind: 'attempt-failed', connectionId: 1, code: 'BAD_POINT' });
    expect(rig.writes).toHaveLength(0);
  });

  it('ends the attempt for a PhoneIdentity that does not decrypt, after a valid Pake3', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    const resp = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1)[0]!;
    const pake2 = sentTo(rig.toy.handle(2, 1, phone.handle(1, resp).send[0]!), 1)[0]!;
    const [pake3] = phone.handle(3, pake2).send;
    expect(rig.toy.handle(4, 1, pake3!)).toEqual([]);
    const wrongKeys = deriveIdentityKeys(new Uint8Array(32));
    const forged = encodePairingMessage({
      type: PairingMessageType.PhoneIdentity,
      sealed: sealPhoneIdentity(wrongKeys, mum),
    });
    const out = rig.toy.handle(5, 1, forged);
    expect(lastStatus(out, 1)).toBe(PairingStatusCode.InvalidMessage);
    expect(out.at(-1)).toEqual({ kind: 'attempt-failed', connectionId: 1, code: 'DECRYPT_FAILED' });
    expect(rig.toy.state.pairings).toEqual([]);
    expect(rig.toy.windowOpen).toBe(true);
  });
});
