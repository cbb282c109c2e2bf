/**
 * Everything an attack could change on the toy, as one comparable value: stored messages (with a
 * hash of their bytes), unfinished uploads, the pairing table and its counters, the pairing window,
 * settings (volume, LED), what the speaker and the microphone are doing, and the identity. A test
 * takes a snapshot before the attack and checks the same snapshot after it.
 */
import { createHash } from 'node:crypto';
import type { SimulatedToy } from '../../../firmware-sim/toy.js';
import { toHex } from '../../../protocol/bytes.js';

export interface ToyState {
  messages: Array<{ id: number; kind: string; bytes: number; played: boolean; sha256: string }>;
  partialUploads: number;
  pairings: Array<{ phoneId: string; role: string; key: string }>;
  lifetimeFailures: number;
  locked: boolean;
  windowOpen: boolean;
  toyId: string;
  toyStaticPublicKey: string;
  volume: number;
  led: string;
  microphoneOn: boolean;
  recording: boolean;
  playing: string;
}

export function toyState(toy: SimulatedToy): ToyState {
  const storage = toy.storage;
  const pairing = toy.pairing;
  const status = toy.status();
  return {
    messages: storage.listMessages().map((m) => ({
      id: m.id,
      kind: String(m.kind),
      bytes: m.sizeBytes,
      played: m.played,
      sha256: createHash('sha256')
        .update(storage.readMessage(m.id) ?? new Uint8Array(0))
        .digest('hex'),
    })),
    partialUploads: status.storage.partialUploads,
    pairings: pairing.state.pairings.map((p) => ({
      phoneId: toHex(p.phoneId),
      role: p.role,
      key: toHex(p.phoneStaticPublicKey),
    })),
    lifetimeFailures: pairing.state.lifetimeFailures,
    locked: pairing.locked,
    windowOpen: pairing.windowOpen,
    toyId: toHex(pairing.state.toyId),
    toyStaticPublicKey: toHex(pairing.state.toyStaticPublicKey),
    volume: status.volume,
    led: JSON.stringify(status.baseLed),
    microphoneOn: toy.microphone.recording,
    recording: status.recording,
    playing: JSON.stringify(status.playing),
  };
}
