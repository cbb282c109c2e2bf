import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  decodePairingMessage,
  decodeToyPairingState,
  deriveSetupScalars,
  PairingMessageType,
  pairingContext,
} from '../../../protocol/pairing/index.js';
import { computeL, scalarToBytes } from '../../../protocol/pairing/spake2plus.js';
import { generate } from '../../vectors/generate/pairing.js';
import { loadVectors } from '../../vectors/load.js';

type Vector = ReturnType<typeof generate>;
const committed = loadVectors<Vector>('pairing');

describe('test/vectors/pairing.json', () => {
  it('is reproduced bit for bit from its seeds', () => {
    expect(generate()).toEqual(committed);
  });

  it('is self-consistent: both sides derived the same keys from the messages on the wire', () => {
    const { provisioning: p, messages: m, phoneSecrets: ph, toySecrets: ty } = committed;
    for (const k of [
      'context',
      'w0',
      'shareP',
      'shareV',
      'Z',
      'V',
      'TT',
      'kShared',
      'phoneToToy',
      'toyToPhone',
    ]) {
      expect(ph[k], k).toBe(ty[k]);
    }
    expect(ph.context).toBe(
      toHex(pairingContext(fromHex(m.PbkdfParamRequest), fromHex(m.PbkdfParamResponse))),
    );
    const { w0, w1 } = deriveSetupScalars(p.setupCode, fromHex(p.salt), p.iterations);
    expect(toHex(scalarToBytes(w0))).toBe(p.w0);
    expect(toHex(scalarToBytes(w1))).toBe(p.w1);
    expect(toHex(computeL(w1))).toBe(p.L);
    const pake2 = decodePairingMessage(fromHex(m.Pake2));
    expect(pake2.type === PairingMessageType.Pake2 && toHex(pake2.confirmV)).toBe(ty.confirmV);
    const pake3 = decodePairingMessage(fromHex(m.Pake3));
    expect(pake3.type === PairingMessageType.Pake3 && toHex(pake3.confirmP)).toBe(ph.confirmP);
  });

  it('ends with the phone stored as admin and the counter back at zero; the wrong code leaves one failure', () => {
    const final = decodeToyPairingState(fromHex(committed.persisted.final));
    expect(final.lifetimeFailures).toBe(0);
    expect(final.pairings.map((e) => [toHex(e.phoneId), e.role, e.name])).toEqual([
      [committed.phone.phoneId, 'admin', committed.phone.name],
    ]);
    expect(toHex(final.tagKey!)).toBe(committed.result.tagKey);
    expect(decodeToyPairingState(fromHex(committed.persisted.afterPake1)).lifetimeFailures).toBe(1);
    expect(committed.wrongCode.phoneError).toBe('BAD_CONFIRMATION');
    const wrong = committed.wrongCode.persisted.map((h) => decodeToyPairingState(fromHex(h)));
    expect(wrong.map((s) => s.lifetimeFailures)).toEqual([1]);
    expect(wrong[0]!.pairings).toEqual([]);
  });
});
