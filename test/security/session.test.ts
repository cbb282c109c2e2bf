/**
 * Attacks on a paired phone's traffic by a man in the middle on the air (the kit's Relay): replay
 * within a session and in a later one, one flipped bit in each kind of frame, and upload chunks
 * dropped, duplicated or reordered (then resumed). The toy's real stack, the virtual radio.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type BtpPacket, decodePacket, encodePacket } from '../../protocol/framing/codec.js';
import { LinkType } from '../../protocol/link.js';
import { PairingMessageType } from '../../protocol/pairing/messages.js';
import { voiceMessage } from '../firmware-sim/fixtures/toy-bench.js';
import {
  FramedLink,
  flipBit,
  framedMessages,
  type Lab,
  makePhoneIdentity,
  openLab,
  Relay,
  TestPhone,
  tamper,
} from './kit/index.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A paired toy (its owner's phone closed) and a relay in front of it. */
async function pairedBehindRelay() {
  lab = await openLab();
  const { phone, paired, identity } = await lab.owner();
  await phone.close();
  const relay = await Relay.start(lab);
  const connect = async () => {
    const p = await TestPhone.connect(lab!.bench, identity, { address: relay.address });
    await p.openSession(paired);
    return p;
  };
  return { l: lab, relay, paired, identity, connect };
}

/** Tracks the sequence numbers the phone used, so a forged packet can carry the next one. */
function seqTracker() {
  const t = {
    last: -1,
    hook: (v: Uint8Array, i: number) => {
      if (i > 0) {
        try {
          t.last = decodePacket(v).seq;
        } catch {
          // the handshake request or garbage
        }
      }
      return [v];
    },
  };
  return t;
}

/** `packet` (a single-segment message) re-framed as the phone's next packet, without an ack. */
function reframe(packet: Uint8Array, seq: number): Uint8Array {
  const p = decodePacket(packet) as Extract<BtpPacket, { kind: 'beginning' }>;
  return encodePacket({
    kind: 'beginning',
    seq,
    messageLength: p.messageLength,
    ending: true,
    payload: p.payload,
  });
}

const isRecordPacket = (v: Uint8Array) => {
  try {
    const p = decodePacket(v);
    return p.kind === 'beginning' && p.ending && p.payload[0] === LinkType.Record;
  } catch {
    return false;
  }
};

describe('replay', () => {
  it('a record replayed in the same session (re-framed so framing accepts it) closes the session; the command is not repeated', async () => {
    const { l, relay, connect } = await pairedBehindRelay();
    const seq = seqTracker();
    relay.fromPhone = seq.hook;
    const phone = await connect();
    const from = relay.log.length;
    await phone.request({ type: 'SetVolume', volume: 200 });
    const recorded = relay.log.slice(from).find((r) => r.from === 'phone' && isRecordPacket(r.value))!;
    expect(recorded).toBeDefined();
    await phone.request({ type: 'SetVolume', volume: 100 });
    expect(l.state().volume).toBe(100);
    const volumeEvents = l.eventsSince();
    relay.inject('toy', reframe(recorded.value, (seq.last + 1) & 0xff));
    await phone.next('closed');
    expect(l.state().volume).toBe(100);
    expect(volumeEvents().filter((e) => e.event === 'volume')).toEqual([]);
  });

  it('a whole session replayed later by a stranger (its messages re-framed) opens nothing: the first record fails and the link drops', async () => {
    const { l, relay, connect } = await pairedBehindRelay();
    const phone = await connect();
    await phone.request({ type: 'SetVolume', volume: 9 });
    await phone.request({ type: 'SetLed', led: { mode: 'on' } });
    await phone.close();
    await relay.close();
    const messages = framedMessages(relay.log.filter((r) => r.from === 'phone').map((r) => r.value));
    expect(messages.map((m) => m[0])).toEqual([LinkType.Handshake, LinkType.Record, LinkType.Record]);
    // The owner changes the volume back; the replay would set it to 9 again.
    const owner = await TestPhone.connect(l.bench, makePhoneIdentity('owner'));
    await owner.close();
    const before = l.state();
    const since = l.eventsSince();
    const eve = l.attacker();
    const conn = await eve.connect(await eve.findToy());
    await conn.exchangeMtu(247);
    const link = await FramedLink.open(conn, l.bench.scheduler);
    for (const m of messages) link.sendSdu(m);
    expect(await conn.closedWithin(2_000)).toBe(true);
    expect(l.state()).toEqual(before);
    expect(since().filter((e) => e.event === 'volume' || e.event === 'led')).toEqual([]);
  });
});

describe('one flipped bit', () => {
  const cases: Array<{
    name: string;
    direction: 'fromPhone' | 'fromToy';
    match: (m: Uint8Array) => boolean;
  }> = [
    { name: 'Noise message 1', direction: 'fromPhone', match: (m) => m[0] === LinkType.Handshake },
    { name: 'Noise message 2', direction: 'fromToy', match: (m) => m[0] === LinkType.Handshake },
    { name: 'a request record', direction: 'fromPhone', match: (m) => m[0] === LinkType.Record },
    { name: 'a response record', direction: 'fromToy', match: (m) => m[0] === LinkType.Record },
  ];
  for (const c of cases) {
    for (const where of ['first byte after the type', 'last byte'] as const) {
      it(`in ${c.name} (${where}) closes the connection before anything is acted on`, async () => {
        const { l, relay, paired, identity } = await pairedBehindRelay();
        const before = l.state();
        const since = l.eventsSince();
        relay[c.direction] = tamper(c.match, (m) =>
          flipBit(m, where === 'last byte' ? (m.length - 1) * 8 + 3 : 8 + 5),
        );
        const phone = await TestPhone.connect(l.bench, identity, { address: relay.address });
        phone.driver.act((e, now) => e.openSession(paired, now));
        const opened = await phone.events.next((e) => e.type === 'session-open' || e.type === 'closed');
        if (opened.type === 'session-open') {
          // A request that changes the toy when it arrives intact, or (toward the phone) a Status.
          phone.driver.act((e, now) =>
            e.request(
              c.direction === 'fromPhone' ? { type: 'SetVolume', volume: 3 } : { type: 'StatusRequest' },
              now,
            ),
          );
          await phone.next('closed');
        }
        // Nothing reached the app on either side.
        expect(phone.events.has((e) => e.type === 'response')).toBe(false);
        expect(l.state()).toEqual(before);
        expect(since().filter((e) => e.event === 'volume')).toEqual([]);
        expect((relay[c.direction] as unknown as { changed: number }).changed).toBe(1);
      });
    }
  }

  it('in a framing segment header (the sequence number) closes the link', async () => {
    const { l, relay, connect } = await pairedBehindRelay();
    const phone = await connect();
    const before = l.state();
    relay.fromPhone = (v) => [isRecordPacket(v) ? flipBit(v, 8 + 1) : v];
    phone.driver.act((e, now) => e.request({ type: 'SetVolume', volume: 3 }, now));
    await phone.next('closed');
    expect(l.state()).toEqual(before);
  });

  for (const type of [
    PairingMessageType.PbkdfParamRequest,
    PairingMessageType.PbkdfParamResponse,
    PairingMessageType.Pake1,
    PairingMessageType.Pake2,
    PairingMessageType.Pake3,
    PairingMessageType.PhoneIdentity,
    PairingMessageType.ToyIdentity,
  ]) {
    it(`in pairing message 0x${type.toString(16)} makes the pairing fail; the owner can pair again with the paw`, async () => {
      lab = await openLab();
      await lab.bench.toy.hold('listen', 3_000);
      const relay = await Relay.start(lab);
      const fromPhone = [0x20, 0x22, 0x24, 0x25].includes(type);
      const hook = tamper(
        (m) => m[0] === LinkType.Pairing && m[1] === type,
        (m) => flipBit(m, (m.length - 1) * 8),
      );
      if (fromPhone) relay.fromPhone = hook;
      else relay.fromToy = hook;
      const phone = await TestPhone.connect(lab.bench, makePhoneIdentity('owner'), {
        address: relay.address,
      });
      await expect(phone.pair(lab.setupCode())).rejects.toBeDefined();
      expect(hook.changed).toBe(1);
      await phone.close();
      await relay.close();
      // No phone can use the toy; the owner holds the paw and pairs directly.
      const { phone: owner, paired } = await lab.owner('owner again');
      expect(paired.role).toBe('admin');
      await owner.close();
      expect(lab.bench.toy.pairing.state.pairings.map((p) => p.name)).toEqual(['owner again']);
    });
  }
});

describe('upload chunks dropped, duplicated or reordered', () => {
  const faults: Array<{ name: string; hook: () => (v: Uint8Array, i: number) => Uint8Array[] }> = [
    {
      name: 'a chunk dropped',
      hook: () => {
        let n = 0;
        return (v) => (isRecordPacket(v) || isContinuation(v) ? (++n === 6 ? [] : [v]) : [v]);
      },
    },
    {
      name: 'a chunk duplicated',
      hook: () => {
        let n = 0;
        return (v) => (isRecordPacket(v) || isContinuation(v) ? (++n === 6 ? [v, v] : [v]) : [v]);
      },
    },
    {
      name: 'two chunks swapped',
      hook: () => {
        let n = 0;
        let held: Uint8Array | undefined;
        return (v) => {
          if (!(isRecordPacket(v) || isContinuation(v))) return [v];
          n++;
          if (n === 6) {
            held = v;
            return [];
          }
          if (n === 7 && held) return [v, held];
          return [v];
        };
      },
    },
  ];
  for (const f of faults) {
    it(`${f.name}: the link closes, the message is not stored as playable, and a resume stores it whole once`, async () => {
      const { l, relay, connect, identity } = await pairedBehindRelay();
      const { container } = await voiceMessage(5, 3);
      const phone = await connect();
      relay.fromPhone = f.hook();
      const id = phone.driver.act((e, now) => e.upload(container, now));
      await phone.next('closed');
      expect(l.state().messages).toEqual([]);
      await relay.close();
      // The owner resumes directly.
      const again = await TestPhone.connect(l.bench, identity, { address: relay.toyAddress });
      await again.openSession((await pairedOf(l, identity)) ?? expect.fail('not paired'));
      const messageId = await again.upload(container, id);
      await again.close();
      const stored = l.state().messages;
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ id: messageId, sha256: sha(container) });
    });
  }
});

function isContinuation(v: Uint8Array): boolean {
  try {
    return decodePacket(v).kind === 'continuing';
  } catch {
    return false;
  }
}

/** What the owner's phone keeps about the toy (from the toy's own state). */
async function pairedOf(l: Lab, identity: ReturnType<typeof makePhoneIdentity>) {
  const entry = l.bench.toy.pairing.lookupByPhoneId(identity.phoneId);
  if (!entry) return undefined;
  const state = l.bench.toy.pairing.state;
  return {
    toyId: state.toyId,
    toyStaticPublicKey: state.toyStaticPublicKey,
    tagKey: state.tagKey!,
    role: entry.role,
  };
}
