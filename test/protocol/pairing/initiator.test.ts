import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_MS,
  decodePairingMessage,
  encodePairingMessage,
  PairingInitiator,
  PairingMessageType,
  PairingStatusCode,
  STATUS_ERROR_CODES,
} from '../../../protocol/pairing/index.js';
import { deriveIdentityKeys, sealToyIdentity } from '../../../protocol/pairing/keys.js';
import { seededRandom } from '../../../protocol/random.js';
import { CODE, expectPairingError, initiator, phoneIdentity, sentTo, toyRig } from './helpers.js';

const mum = phoneIdentity('mum', 'Mum');

/** A phone that has sent Pake1 to an open toy, and the toy's Pake2 waiting for it. */
function atPake2() {
  const rig = toyRig();
  rig.toy.openWindowByPaw(0, 3000);
  const phone = initiator(mum);
  const resp = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1)[0]!;
  const pake2 = sentTo(rig.toy.handle(2, 1, phone.handle(1, resp).send[0]!), 1)[0]!;
  return { rig, phone, pake2 };
}

describe('PairingInitiator', () => {
  it('checks the setup code and the identity when it is made', () => {
    const base = { ...mum, random: seededRandom('x') };
    expectPairingError(() => new PairingInitiator({ ...base, setupCode: '1234567' }), 'BAD_SETUP_CODE');
    expectPairingError(
      () => new PairingInitiator({ ...base, setupCode: '11111111' }),
      'FORBIDDEN_SETUP_CODE',
    );
    expectPairingError(
      () => new PairingInitiator({ ...base, setupCode: CODE, phoneId: new Uint8Array(8) }),
      'BAD_VALUE',
    );
    expectPairingError(
      () => new PairingInitiator({ ...base, setupCode: CODE, name: 'x'.repeat(33) }),
      'BAD_VALUE',
    );
    expect(new PairingInitiator({ ...base, setupCode: '3141-5926' }).phase).toBe('idle');
  });

  it('starts once, with a version-1 request carrying 32 random bytes', () => {
    const phone = initiator(mum);
    const m = decodePairingMessage(phone.start(0));
    expect(m).toMatchObject({ type: PairingMessageType.PbkdfParamRequest, version: 1 });
    expect(phone.phase).toBe('await-pbkdf-response');
    expectPairingError(() => phone.start(1), 'UNEXPECTED_MESSAGE');
  });

  it('sends Pake3 and PhoneIdentity together after checking confirmV', () => {
    const { phone, pake2 } = atPake2();
    const step = phone.handle(3, pake2);
    expect(step.send.map((b) => decodePairingMessage(b).type)).toEqual([
      PairingMessageType.Pake3,
      PairingMessageType.PhoneIdentity,
    ]);
    expect(phone.phase).toBe('await-toy-identity');
  });

  it('fails with BAD_CONFIRMATION on a wrong confirmV, keeps nothing, and prepares a status for the toy', () => {
    const { phone, pake2 } = atPake2();
    const bad = pake2.slice();
    bad[bad.length - 1]! ^= 1;
    expectPairingError(() => phone.handle(3, bad), 'BAD_CONFIRMATION');
    expect(phone.phase).toBe('failed');
    expect(decodePairingMessage(phone.failureReply!)).toEqual({
      type: PairingMessageType.PairingStatus,
      code: PairingStatusCode.BadConfirmation,
    });
    // Nothing left to continue with: the genuine Pake2 is now refused too.
    expectPairingError(() => phone.handle(4, pake2), 'UNEXPECTED_MESSAGE');
    expect(phone.nextDeadline()).toBeUndefined();
  });

  it('fails with BAD_POINT on a shareV that is not a curve point', () => {
    const { phone } = atPake2();
    const shareV = new Uint8Array(65).fill(1);
    shareV[0] = 4;
    const body = encodePairingMessage({
      type: PairingMessageType.Pake2,
      shareV,
      confirmV: new Uint8Array(32),
    });
    expectPairingError(() => phone.handle(3, body), 'BAD_POINT');
    expect(phone.phase).toBe('failed');
  });

  it('turns every toy status into a PairingError of the same name', () => {
    for (const code of Object.values(PairingStatusCode)) {
      const phone = initiator(mum);
      phone.start(0);
      const body = encodePairingMessage({ type: PairingMessageType.PairingStatus, code });
      expectPairingError(() => phone.handle(1, body), STATUS_ERROR_CODES[code]);
      expect(phone.phase).toBe('failed');
      expect(phone.failureReply).toBeUndefined();
    }
  });

  it('ignores a response to another request (UNEXPECTED_MESSAGE, still waiting)', () => {
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const phone = initiator(mum);
    phone.start(0);
    const other = initiator(phoneIdentity('other'));
    const foreign = sentTo(rig.toy.handle(0, 9, other.start(0)), 9)[0]!;
    expectPairingError(() => phone.handle(1, foreign), 'UNEXPECTED_MESSAGE');
    expect(phone.phase).toBe('await-pbkdf-response');
  });

  it('refuses messages out of turn without changing phase', () => {
    const { phone, pake2 } = atPake2();
    const toyIdentity = encodePairingMessage({
      type: PairingMessageType.ToyIdentity,
      sealed: new Uint8Array(81),
    });
    expectPairingError(() => phone.handle(3, toyIdentity), 'UNEXPECTED_MESSAGE');
    expectPairingError(() => phone.handle(3, pake2.subarray(0, 10)), 'TRUNCATED');
    expect(phone.phase).toBe('await-pake2');
    expect(phone.handle(3, pake2).send).toHaveLength(2);
  });

  it('fails with DECRYPT_FAILED when the ToyIdentity does not open', () => {
    const { phone, pake2 } = atPake2();
    phone.handle(3, pake2);
    const forged = sealToyIdentity(deriveIdentityKeys(new Uint8Array(32)), {
      toyId: new Uint8Array(16),
      toyStaticPublicKey: new Uint8Array(32),
      tagKey: new Uint8Array(16),
      role: 'admin',
    });
    const body = encodePairingMessage({ type: PairingMessageType.ToyIdentity, sealed: forged });
    expectPairingError(() => phone.handle(4, body), 'DECRYPT_FAILED');
    expect(phone.phase).toBe('failed');
  });

  it('times out 30 s after start, through tick or a late message', () => {
    const phone = initiator(mum);
    phone.start(1000);
    expect(phone.nextDeadline()).toBe(1000 + ATTEMPT_MS);
    expect(phone.tick(1000 + ATTEMPT_MS - 1)).toBeUndefined();
    const err = phone.tick(1000 + ATTEMPT_MS);
    expect(err?.code).toBe('TIMEOUT');
    expect(phone.phase).toBe('failed');
    expect(decodePairingMessage(phone.failureReply!)).toMatchObject({ code: PairingStatusCode.Timeout });

    const late = initiator(mum);
    const rig = toyRig();
    rig.toy.openWindowByPaw(0, 3000);
    const resp = sentTo(rig.toy.handle(0, 1, late.start(0)), 1)[0]!;
    expectPairingError(() => late.handle(ATTEMPT_MS, resp), 'TIMEOUT');
  });

  it('aborts on request with an Aborted status, once', () => {
    const phone = initiator(mum);
    expect(phone.abort()).toBeUndefined();
    phone.start(0);
    expect(decodePairingMessage(phone.abort()!)).toMatchObject({ code: PairingStatusCode.Aborted });
    expect(phone.abort()).toBeUndefined();
  });

  it('the toy ends its attempt when the phone sends it a status', () => {
    const { rig, phone, pake2 } = atPake2();
    const bad = pake2.slice();
    bad[70]! ^= 1;
    expectPairingError(() => phone.handle(3, bad), 'BAD_CONFIRMATION');
    const out = rig.toy.handle(4, 1, phone.failureReply!);
    expect(out).toEqual([{ kind: 'attempt-failed', connectionId: 1, code: 'BAD_CONFIRMATION' }]);
    expect(rig.toy.attemptConnection).toBeUndefined();
  });
});
