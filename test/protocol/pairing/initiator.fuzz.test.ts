import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairingError } from '../../../protocol/errors.js';
import {
  type InitiatorPhase,
  type PairingInitiator,
  STATUS_ERROR_CODES,
} from '../../../protocol/pairing/index.js';
import { fuzzParams } from '../../fuzz/config.js';
import { initiator, phoneIdentity, sentTo, toyRig } from './helpers.js';

const TERMINAL = new Set([
  ...Object.values(STATUS_ERROR_CODES),
  'BAD_POINT',
  'BAD_CONFIRMATION',
  'DECRYPT_FAILED',
]);
const typed = fc
  .tuple(fc.constantFrom(0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x40), fc.uint8Array({ maxLength: 110 }))
  .map(([t, rest]) => Uint8Array.of(t, ...rest));
const body = fc.oneof(fc.uint8Array({ maxLength: 120 }), typed);

/** An initiator brought to `phase` against a real toy (rebuilt whenever a run ends it). */
function fixture(phase: InitiatorPhase): PairingInitiator {
  const phone = initiator(phoneIdentity('fuzz'));
  const rig = toyRig();
  rig.toy.openWindowByPaw(0, 3000);
  let toPhone = sentTo(rig.toy.handle(0, 1, phone.start(0)), 1);
  while (phone.phase !== phase) {
    const step = phone.handle(1, toPhone[0]!);
    toPhone = step.send.flatMap((b) => sentTo(rig.toy.handle(1, 1, b), 1));
  }
  return phone;
}

describe('PairingInitiator fuzz', () => {
  for (const phase of ['await-pbkdf-response', 'await-pake2', 'await-toy-identity'] as const) {
    it(`in ${phase}, random bodies throw only PairingErrors and change the phase only on a terminal error`, () => {
      let phone = fixture(phase);
      fc.assert(
        fc.property(body, (b) => {
          if (phone.phase !== phase) phone = fixture(phase);
          try {
            phone.handle(2, b);
            expect.unreachable('random bytes never make a valid next message');
          } catch (e) {
            expect(e).toBeInstanceOf(PairingError);
            const code = (e as PairingError).code;
            if (phone.phase !== phase) {
              expect(phone.phase).toBe('failed');
              expect(TERMINAL.has(code)).toBe(true);
            }
          }
        }),
        fuzzParams(),
      );
    });
  }
});
