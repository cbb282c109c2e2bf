/**
 * Shared fixtures for the pairing tests: a provisioned toy with an in-memory "flash", phones, and a
 * driver that runs one exchange between a PairingInitiator and a ToyPairing.
 */
import { expect } from 'vitest';
import { PairingError } from '../../../protocol/errors.js';
import {
  type ConnectionId,
  createToyPairingState,
  decodeToyPairingState,
  encodeToyPairingState,
  type KeyLog,
  makeVerifier,
  PairingInitiator,
  type PairingResult,
  type PairingVerifier,
  type Role,
  ToyPairing,
  type ToyPairingOutput,
  type ToyPairingState,
} from '../../../protocol/pairing/index.js';
import { type RandomSource, seededRandom } from '../../../protocol/random.js';

export const CODE = '31415926';
export const WRONG_CODE = '27182818';
const SALT = new Uint8Array(16).fill(0x5a);
/** Computed once: PBKDF2 with the minimum iterations keeps the tests fast. */
export const VERIFIER: PairingVerifier = makeVerifier(CODE, SALT, 1000);

/** A toy whose persist callback writes to `flash`, which a "reboot" reads back. */
export interface ToyRig {
  toy: ToyPairing;
  /** Every persisted write, oldest first. */
  writes: Uint8Array[];
  /** The last persisted state as bytes (the initial state if nothing was written yet). */
  flash(): Uint8Array;
  /** A power cycle: a new ToyPairing built from the flash, volatile state lost. */
  reboot(): ToyPairing;
  random: RandomSource;
}

export function initialState(seed = 'toy state', overrides: Partial<ToyPairingState> = {}): ToyPairingState {
  const r = seededRandom(seed);
  const base = createToyPairingState(
    { discriminator: 0x123, verifier: VERIFIER, toyStaticPublicKey: r(32) },
    r,
  );
  return { ...base, ...overrides };
}

export function toyRig(state: ToyPairingState = initialState(), keyLog?: KeyLog): ToyRig {
  const random = seededRandom('toy random');
  const writes: Uint8Array[] = [];
  const initial = encodeToyPairingState(state);
  const make = (s: ToyPairingState) =>
    new ToyPairing({
      state: s,
      random,
      persist: (b) => writes.push(b.slice()),
      ...(keyLog ? { keyLog } : {}),
    });
  const rig: ToyRig = {
    toy: make(state),
    writes,
    flash: () => writes.at(-1) ?? initial,
    reboot: () => {
      rig.toy = make(decodeToyPairingState(rig.flash()));
      return rig.toy;
    },
    random,
  };
  return rig;
}

export interface Phone {
  phoneId: Uint8Array;
  phoneStaticPublicKey: Uint8Array;
  name: string;
}

export function phoneIdentity(seed: string, name = seed): Phone {
  const r = seededRandom(`phone identity ${seed}`);
  return { phoneId: r(16), phoneStaticPublicKey: r(32), name };
}

export function initiator(phone: Phone, code = CODE, keyLog?: KeyLog): PairingInitiator {
  return new PairingInitiator({
    setupCode: code,
    ...phone,
    random: seededRandom(`phone random ${phone.name} ${code}`),
    ...(keyLog ? { keyLog } : {}),
  });
}

/** The bodies the toy's outputs send to `conn`. */
export function sentTo(outputs: ToyPairingOutput[], conn: ConnectionId): Uint8Array[] {
  return outputs.flatMap((o) => (o.kind === 'send' && o.connectionId === conn ? [o.body] : []));
}

export function kinds(outputs: ToyPairingOutput[]): string[] {
  return outputs.map((o) => (o.kind === 'send' ? 'send' : `${o.kind}`));
}

export interface Exchange {
  result?: PairingResult;
  /** The phone's error code, if it failed. */
  phoneError?: string;
  /** Every toy output, in order. */
  toyOutputs: ToyPairingOutput[];
}

/**
 * Runs phone ↔ toy on connection `conn` until the phone has a result or an error, relaying every
 * body (including the phone's failure reply). Time advances 10 ms per message from `now`.
 */
export function runExchange(
  toy: ToyPairing,
  phone: PairingInitiator,
  conn: ConnectionId = 1,
  now = 1000,
): Exchange {
  const toyOutputs: ToyPairingOutput[] = [];
  let t = now;
  const toPhone = sentTo(record(toy.handle(t, conn, phone.start(t))), conn);
  function record(o: ToyPairingOutput[]): ToyPairingOutput[] {
    toyOutputs.push(...o);
    return o;
  }
  for (;;) {
    const body = toPhone.shift();
    if (!body) return { toyOutputs };
    t += 10;
    let step: ReturnType<PairingInitiator['handle']>;
    try {
      step = phone.handle(t, body);
    } catch (e) {
      expect(e).toBeInstanceOf(PairingError);
      const reply = phone.failureReply;
      if (reply) record(toy.handle(t + 5, conn, reply));
      return { phoneError: (e as PairingError).code, toyOutputs };
    }
    if (step.result) return { result: step.result, toyOutputs };
    for (const out of step.send) {
      t += 10;
      toPhone.push(...sentTo(record(toy.handle(t, conn, out)), conn));
    }
  }
}

/** Asserts `fn` throws a PairingError with `code`. */
export function expectPairingError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(PairingError);
  expect((thrown as PairingError).code).toBe(code);
}

export function roleOf(state: ToyPairingState, phone: Phone): Role | undefined {
  return state.pairings.find((e) => Buffer.compare(e.phoneId, phone.phoneId) === 0)?.role;
}
