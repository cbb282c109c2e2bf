/**
 * Protocol-core benchmarks (issue "Protocol core", BENCHMARKS.md §1): pairing per side, the Noise
 * handshake, record seal + open throughput, and framing efficiency.
 */
import { framingCost } from '../protocol/framing/efficiency.js';
import {
  createToyPairingState,
  PairingInitiator,
  PBKDF_ITERATIONS_DEFAULT,
  provisionToy,
  ToyPairing,
} from '../protocol/pairing/index.js';
import { seededRandom } from '../protocol/random.js';
import {
  generateKeyPair,
  type KeyPair,
  MAX_RECORD_PLAINTEXT_LEN,
  RecordChannel,
  SessionInitiator,
  SessionResponder,
  sessionPrologue,
} from '../protocol/session/index.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { LinkSim, makePhone, makeToy, syntheticMessage } from '../test/protocol/engine/harness.js';
import { atLeast, atMost, type Bench, type Figure, medianMs } from './harness.js';

const random = seededRandom('bench');

/**
 * One full pairing at the factory-default PBKDF2 iterations, timing each side's own computation:
 * the phone's includes PBKDF2 (w0, w1 from the code); the toy's works from the stored verifier.
 */
function pairingBench(quick: boolean): Figure[] {
  const { setupCode, discriminator, verifier } = provisionToy(random, {
    iterations: PBKDF_ITERATIONS_DEFAULT,
  });
  const toyKeys = generateKeyPair(random);
  const phoneKeys = generateKeyPair(random);
  const phoneSide: number[] = [];
  const toySide: number[] = [];
  const runs = quick ? 5 : 25;
  for (let i = 0; i < runs + 2; i++) {
    const toy = new ToyPairing({
      state: createToyPairingState(
        { discriminator, verifier, toyStaticPublicKey: toyKeys.publicKey },
        random,
      ),
      random,
      persist: () => {},
    });
    toy.openWindowByPaw(0, 3_000);
    const phone = new PairingInitiator({
      setupCode,
      phoneId: random(16),
      phoneStaticPublicKey: phoneKeys.publicKey,
      random,
    });
    let phoneMs = 0;
    let toyMs = 0;
    let t = performance.now();
    let toPhone = toy.handle(1, 1, phone.start(1));
    toyMs += performance.now() - t;
    for (let step = 0; step < 5; step++) {
      const body = toPhone.find((o) => o.kind === 'send');
      if (body?.kind !== 'send') break;
      t = performance.now();
      const { send, result } = phone.handle(1, body.body);
      phoneMs += performance.now() - t;
      if (result) break;
      t = performance.now();
      toPhone = send.flatMap((b) => toy.handle(1, 1, b));
      toyMs += performance.now() - t;
    }
    if (phone.phase !== 'done') throw new Error(`bench pairing did not complete: ${phone.phase}`);
    if (i >= 2) {
      phoneSide.push(phoneMs);
      toySide.push(toyMs);
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p = median(phoneSide);
  const q = median(toySide);
  return [
    {
      name: `pairing, phone side (PBKDF2 ${PBKDF_ITERATIONS_DEFAULT} iterations + SPAKE2+)`,
      value: p,
      unit: 'ms',
      ...atMost(p, 50, 'ms'),
    },
    {
      name: 'pairing, toy side (SPAKE2+ from the stored verifier)',
      value: q,
      unit: 'ms',
      ...atMost(q, 50, 'ms'),
    },
  ];
}

/**
 * Whole-stack efficiency: a 60-second message (~114 kB container) uploaded through both engines
 * (framing + link envelope + records + transfer blocks, acks both ways, Init to Done), divided by
 * every byte on ATT in both directions (values plus the 3-byte ATT header of each).
 */
function stackBench(): Figure[] {
  const message = syntheticMessage('bench');
  return [23, 185, 247].map((attMtu) => {
    const toy = makeToy(`bench ${attMtu}`);
    const sim = new LinkSim(toy, 7.5, attMtu);
    const mum = makePhone('mum');
    toy.engine.pairing.openWindowByPaw(0, 3_000);
    sim.connect(mum).pair(toy.setupCode, sim.now);
    const paired = sim.waitFor('paired').toy;
    sim.phone!.openSession(paired, sim.now);
    sim.waitFor('session-open');
    const values0 = sim.valuesCarried;
    const bytes0 = sim.bytesCarried;
    sim.phone!.upload(message, sim.now);
    sim.waitFor('upload-done');
    const values = sim.valuesCarried - values0;
    const attBytes = sim.bytesCarried - bytes0 + 3 * values;
    const efficiency = message.length / attBytes;
    return {
      name: `whole-stack efficiency, ATT MTU ${attMtu} (segment ${Math.min(attMtu - 3, 244)}), 60 s message`,
      value: efficiency,
      unit: '',
      note: `${message.length} B in ${values} ATT packets, both directions`,
    };
  });
}

/** One full Noise IK handshake between fresh phone and toy state machines; returns both sessions. */
function handshake(phone: KeyPair, toy: KeyPair) {
  const prologue = sessionPrologue(PROTOCOL_VERSION, new Uint8Array(15), new Uint8Array(16));
  const i = new SessionInitiator({
    staticKeyPair: phone,
    toyStaticPublicKey: toy.publicKey,
    prologue,
    random,
  });
  const r = new SessionResponder({ staticKeyPair: toy, prologue, random, lookupPhone: () => true });
  r.readMessage1(i.writeMessage1());
  const { message, session: toySession } = r.writeMessage2();
  return { phoneSession: i.readMessage2(message).session, toySession };
}

function handshakeBench(quick: boolean): Figure[] {
  const phone = generateKeyPair(random);
  const toy = generateKeyPair(random);
  const ms = medianMs(() => handshake(phone, toy), quick ? 50 : 300);
  return [{ name: 'Noise IK handshake (both sides)', value: ms, unit: 'ms', ...atMost(ms, 5, 'ms') }];
}

function recordBench(quick: boolean): Figure[] {
  const { phoneSession, toySession } = handshake(generateKeyPair(random), generateKeyPair(random));
  const plaintext = random(MAX_RECORD_PLAINTEXT_LEN);
  const records = quick ? 2_000 : 20_000;
  const batch = () => {
    for (let n = 0; n < records; n++) toySession.open(phoneSession.seal(RecordChannel.Audio, plaintext));
  };
  const ms = medianMs(batch, quick ? 3 : 7, 1);
  const mbPerS = (records * plaintext.length) / 1e6 / (ms / 1000);
  return [
    {
      name: `record seal + open (${plaintext.length}-byte records)`,
      value: mbPerS,
      unit: 'MB/s',
      ...atLeast(mbPerS, 50, 'MB/s'),
    },
  ];
}

function framingBench(): Figure[] {
  const goals: Record<number, number> = { 20: 0.75, 244: 0.95 };
  return [20, 182, 244].map((size) => {
    const { efficiency } = framingCost(2048, size);
    const goal = goals[size];
    return {
      name: `framing efficiency, segment ${size} (2048-byte messages, ATT headers counted)`,
      value: efficiency,
      unit: '',
      ...(goal !== undefined ? atLeast(efficiency, goal, '') : {}),
    };
  });
}

export const protocolBenches: Array<[string, Bench]> = [
  ['pairing', ({ quick }) => pairingBench(quick)],
  ['Noise handshake', ({ quick }) => handshakeBench(quick)],
  ['record throughput', ({ quick }) => recordBench(quick)],
  ['framing efficiency', () => framingBench()],
  ['whole-stack efficiency', () => stackBench()],
];
