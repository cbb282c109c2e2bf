/**
 * The attacker's kit: everything a security test needs to attack the simulated toy through the
 * virtual radio and the toy's real BLE host stack (bleno), in virtual time.
 *
 *   const lab = await openLab();                       // a toy on a fresh air, an owner's phone ready to pair
 *   const eve = lab.attacker();                        // a raw BLE central (no noble): any ATT PDU
 *   const conn = await eve.connect(await eve.findToy());
 *   const before = lab.state();
 *   … attack …
 *   expect(lab.state()).toEqual(before);              // nothing changed on the toy
 *
 * - `RawCentral` / `RawConnection` (raw-central.ts): scan, connect, read/write any handle, any ATT
 *   PDU, capture everything both ways, hold a link open.
 * - `FramedLink` (framed-link.ts): the framing handshake done, any link envelope sent framed.
 * - `Relay` (relay.ts): a man in the middle on the air between the owner's phone and the toy, that
 *   forwards, records, drops, duplicates, reorders, replays or alters each ATT value.
 * - `toyState` (toy-state.ts): the toy's state as one comparable value.
 */
import type { ToySimEvent } from '../../../firmware-sim/events.js';
import type { PairedToy } from '../../../protocol/engine/phone.js';
import {
  type Bench,
  type BenchOptions,
  makePhoneIdentity,
  pairAndConnect,
  startBench,
  TestPhone,
} from '../../firmware-sim/fixtures/toy-bench.js';
import { FramedLink } from './framed-link.js';
import { RawCentral, type RawConnection } from './raw-central.js';
import { type ToyState, toyState } from './toy-state.js';

export { FramedLink } from './framed-link.js';
export { Att, AttError, RawCentral, RawConnection, serviceDataOf } from './raw-central.js';
export { flipBit, framedMessages, Relay, tamper } from './relay.js';
export { type ToyState, toyState } from './toy-state.js';

export interface Lab {
  bench: Bench;
  /** A new attacker's central on the air (each with its own address). */
  attacker(): RawCentral;
  /** The toy's state now. */
  state(): ToyState;
  /** Toy events emitted from now on (to check, e.g., that no recording ever started). */
  eventsSince(): () => ToySimEvent[];
  /** The toy's setup code (printed on its label). */
  setupCode(): string;
  /** A stranger connected to the toy with the framing handshake done. */
  stranger(): Promise<{ eve: RawCentral; conn: RawConnection; link: FramedLink }>;
  /** The owner: opens the window with the paw, pairs (admin) and opens a session. */
  owner(
    seed?: string,
  ): Promise<{ phone: TestPhone; paired: PairedToy; identity: ReturnType<typeof makePhoneIdentity> }>;
  close(): Promise<void>;
}

export async function openLab(options: BenchOptions = {}): Promise<Lab> {
  const bench = await startBench(options);
  const attackers: RawCentral[] = [];
  const lab: Lab = {
    bench,
    attacker() {
      const eve = new RawCentral(bench.air, bench.scheduler);
      attackers.push(eve);
      return eve;
    },
    state: () => toyState(bench.toy),
    eventsSince() {
      const from = bench.events.all.length;
      return () => bench.events.all.slice(from);
    },
    setupCode() {
      const tag = bench.toy.tagStatus;
      if (tag.kind !== 'ok') throw new Error(`no tag: ${tag.kind}`);
      return tag.tag.setupCode;
    },
    async stranger() {
      const eve = lab.attacker();
      const conn = await eve.connect(await eve.findToy());
      await conn.exchangeMtu(247);
      const link = await FramedLink.open(conn, bench.scheduler);
      return { eve, conn, link };
    },
    owner: (seed = 'owner') => pairAndConnect(bench, seed),
    async close() {
      for (const a of attackers) a.close();
      await bench.close();
    },
  };
  return lab;
}

export { makePhoneIdentity, TestPhone };
