/**
 * Protocol-core benchmarks (issue "Protocol core", BENCHMARKS.md §1): pairing per side, the Noise
 * handshake, record seal + open throughput, and framing efficiency.
 */
import { framingCost } from '../protocol/framing/efficiency.js';
import { seededRandom } from '../protocol/random.js';
import {
  generateKeyPair,
  MAX_RECORD_PLAINTEXT_LEN,
  RecordChannel,
  SessionInitiator,
  SessionResponder,
  sessionPrologue,
} from '../protocol/session/index.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { atLeast, atMost, type Bench, type Figure, medianMs } from './harness.js';

const random = seededRandom('bench');

function handshakeBench(quick: boolean): Figure[] {
  const phone = generateKeyPair(random);
  const toy = generateKeyPair(random);
  const prologue = sessionPrologue(PROTOCOL_VERSION, new Uint8Array(15), new Uint8Array(16));
  const full = () => {
    const i = new SessionInitiator({
      staticKeyPair: phone,
      toyStaticPublicKey: toy.publicKey,
      prologue,
      random,
    });
    const r = new SessionResponder({ staticKeyPair: toy, prologue, random, lookupPhone: () => true });
    r.readMessage1(i.writeMessage1());
    i.readMessage2(r.writeMessage2().message);
  };
  const ms = medianMs(full, quick ? 50 : 300);
  return [{ name: 'Noise IK handshake (both sides)', value: ms, unit: 'ms', ...atMost(ms, 5, 'ms') }];
}

function recordBench(quick: boolean): Figure[] {
  const phone = generateKeyPair(random);
  const toy = generateKeyPair(random);
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
  const { session: phoneSession } = i.readMessage2(message);
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
  ['Noise handshake', ({ quick }) => handshakeBench(quick)],
  ['record throughput', ({ quick }) => recordBench(quick)],
  ['framing efficiency', () => framingBench()],
];
