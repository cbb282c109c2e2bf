/**
 * A stranger's central writing anything to RX: raw random values, and random link messages inside
 * a correct framing handshake (so they reach the link, pairing and handshake decoders). The toy
 * engine must never throw, never store anything, never change its pairing state and never call the
 * application; at worst it drops the connection.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtpEndpoint } from '../../../protocol/framing/endpoint.js';
import { encodeLink, LinkType } from '../../../protocol/link.js';
import { fuzzParams } from '../../fuzz/config.js';
import { makeToy } from './harness.js';

describe('toy engine under random input from an unauthenticated central', () => {
  const toy = makeToy('fuzz');
  const pairingBefore = toy.flash.pairing.slice();
  let connection = 0;

  function assertUnchanged(): void {
    expect(toy.flash.pairing).toEqual(pairingBefore);
    expect(toy.storage.messages.size).toBe(0);
    expect(toy.storage.partials.size).toBe(0);
    expect(toy.app.requests).toHaveLength(0);
  }

  it('survives raw random RX writes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 250 }), { minLength: 1, maxLength: 6 }), (writes) => {
        const id = ++connection;
        toy.engine.connect(id, 185, 0);
        for (const w of writes) toy.engine.write(id, w, 1);
        toy.engine.tick(20_000);
        toy.engine.disconnected(id, 20_001);
        toy.engine.takeOutputs();
        expect(toy.engine.connectionCount).toBe(0);
      }),
      fuzzParams(),
    );
    assertUnchanged();
  });

  const linkMessage = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc
      .tuple(fc.constantFrom(...Object.values(LinkType)), fc.uint8Array({ maxLength: 300 }))
      .map(([type, body]) => encodeLink(type, body)),
    // Plausible pairing and handshake bodies: a known type byte, then noise.
    fc
      .tuple(
        fc.constantFrom(LinkType.Pairing, LinkType.Handshake),
        fc.integer({ min: 0, max: 0x50 }),
        fc.uint8Array({ maxLength: 120 }),
      )
      .map(([type, sub, rest]) => encodeLink(type, Uint8Array.of(sub, ...rest))),
  );

  it('survives random link messages after a correct framing handshake', () => {
    fc.assert(
      fc.property(fc.array(linkMessage, { minLength: 1, maxLength: 4 }), (messages) => {
        const id = ++connection;
        let now = 0;
        toy.engine.connect(id, 185, now);
        const central = BtpEndpoint.central({ attMtu: 185 }, now);
        const pump = () => {
          for (let round = 0; round < 50; round++) {
            let moved = false;
            for (const e of central.takeEvents()) {
              if (e.type === 'transmit') {
                toy.engine.write(id, e.value, now);
                moved = true;
              }
            }
            for (const o of toy.engine.takeOutputs()) {
              if (o.kind === 'notify') {
                central.receive(o.value, now);
                moved = true;
              }
            }
            if (!moved) return;
          }
        };
        pump();
        for (const m of messages) {
          if (central.state === 'closed') break;
          central.send(m, now);
          now += 10;
          pump();
        }
        toy.engine.tick(now + 20_000);
        toy.engine.disconnected(id, now + 20_001);
        toy.engine.takeOutputs();
        expect(toy.engine.connectionCount).toBe(0);
      }),
      fuzzParams(),
    );
    assertUnchanged();
  });
});
