import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairingError } from '../../../protocol/errors.js';
import {
  decodePairingMessage,
  decodeToyPairingState,
  encodePairingMessage,
  PairingMessageType,
  type ToyPairing,
} from '../../../protocol/pairing/index.js';
import { computeShareP } from '../../../protocol/pairing/spake2plus.js';
import { fuzzParams } from '../../fuzz/config.js';
import { loadVectors } from '../../vectors/load.js';
import { initialState, sentTo, toyRig } from './helpers.js';

const vector = loadVectors<{ messages: Record<string, string> }>('pairing');
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
// Valid bodies from the vector, except Pake1 whose share is a valid point (that path has its own,
// slower property below).
const samples = Object.entries(vector.messages)
  .filter(([name]) => name !== 'Pake1')
  .map(([, h]) => hex(h));

const mutated = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  )
  .map(([b, edits]) => {
    const out = b.slice();
    for (const [pos, val] of edits) out[pos % out.length] = val;
    return out;
  });
const typed = fc
  .tuple(fc.constantFrom(0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x40), fc.uint8Array({ maxLength: 110 }))
  .map(([t, rest]) => Uint8Array.of(t, ...rest));
const request = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((phoneRandom) =>
    encodePairingMessage({ type: PairingMessageType.PbkdfParamRequest, version: 1, phoneRandom }),
  );
const status = fc.integer({ min: 1, max: 9 }).map((c) => Uint8Array.of(0x40, c));
const body = fc.oneof(fc.uint8Array({ maxLength: 120 }), typed, mutated, request, status);
const command = fc.record({
  conn: fc.integer({ min: 0, max: 2 }),
  body,
  dt: fc.integer({ min: 0, max: 40_000 }),
});

/** The toy's observable state; a throw must leave every part identical (the same state object). */
function snapshot(toy: ToyPairing): unknown[] {
  return [toy.state, toy.windowClosesAt, toy.attemptConnection, toy.nextDeadline()];
}

function same(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('ToyPairing fuzz', () => {
  it('random messages on random connections: only PairingErrors, no state change on a throw, never a pairing', () => {
    const base = initialState();
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), (commands) => {
        const rig = toyRig(base);
        rig.toy.openWindowByPaw(0, 3000);
        let now = 0;
        for (const { conn, body, dt } of commands) {
          now += dt;
          const before = snapshot(rig.toy);
          const writes = rig.writes.length;
          try {
            const outputs = rig.toy.handle(now, conn, body);
            if (outputs.some((o) => o.kind === 'paired')) throw new Error('random input paired a phone');
          } catch (e) {
            if (!(e instanceof PairingError)) throw e;
            if (!same(snapshot(rig.toy), before) || rig.writes.length !== writes) {
              throw new Error(`state changed on a thrown ${e.code}`);
            }
          }
        }
        // Whatever was persisted differs from the start only in the failure counter.
        if (rig.writes.length > 0) {
          const persisted = decodeToyPairingState(rig.flash());
          expect({ ...persisted, lifetimeFailures: base.lifetimeFailures }).toEqual(base);
        }
        expect(rig.toy.state.pairings).toHaveLength(0);
      }),
      fuzzParams(),
    );
  });

  it('valid Pake1 shares with random Pake3s: the counter grows by exactly one per Pake2 sent, nothing else changes', () => {
    const base = initialState();
    const scalar = fc.bigInt({ min: 1n, max: (1n << 255n) - 1n });
    const attempt = fc.record({
      w0: scalar,
      x: scalar,
      confirmP: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    });
    fc.assert(
      fc.property(
        fc.array(attempt, { minLength: 1, maxLength: 3 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (attempts, phoneRandom) => {
          const rig = toyRig(base);
          rig.toy.openWindowByPaw(0, 3000);
          let pake2s = 0;
          for (const [i, a] of attempts.entries()) {
            const req = encodePairingMessage({
              type: PairingMessageType.PbkdfParamRequest,
              version: 1,
              phoneRandom,
            });
            rig.toy.handle(i * 10, i, req);
            const shareP = computeShareP(a.w0, a.x);
            const out = rig.toy.handle(
              i * 10 + 1,
              i,
              encodePairingMessage({ type: PairingMessageType.Pake1, shareP }),
            );
            if (sentTo(out, i).some((b) => decodePairingMessage(b).type === PairingMessageType.Pake2))
              pake2s++;
            rig.toy.handle(
              i * 10 + 2,
              i,
              encodePairingMessage({ type: PairingMessageType.Pake3, confirmP: a.confirmP }),
            );
          }
          const persisted = decodeToyPairingState(rig.flash());
          expect(persisted.lifetimeFailures).toBe(pake2s);
          expect({ ...persisted, lifetimeFailures: 0 }).toEqual(base);
        },
      ),
      // Each accepted Pake1 costs several P-256 multiplications: a bounded number of runs here; the
      // 10,000-input surface is the property above.
      { ...fuzzParams(), numRuns: 25 },
    );
  });
});
