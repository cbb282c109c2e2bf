/**
 * Several initiators waiting for one advertiser: one advertising event makes one connection, and
 * the initiator that asked first gets it, whatever order the hosts attached to the air in.
 */
import { expect, it } from 'vitest';
import { Evt, LeEvt, Op } from '../../../radio/virtual/constants.js';
import { createAir } from '../../../radio/virtual/index.js';
import { advertisingParameters, createConnection, RawHost, settle } from './raw-host.js';

it('one advertising event connects only the initiator that asked first, not the first attached', async () => {
  const air = createAir({ timeScale: 0 });
  const early = new RawHost(air);
  const late = new RawHost(air);
  const toy = new RawHost(air);
  toy.command(Op.ReadBdAddr);
  await settle(air);
  // The host attached later asks first.
  late.command(Op.LeCreateConnection, createConnection(toy.address));
  early.command(Op.LeCreateConnection, createConnection(toy.address));
  toy.command(Op.LeSetAdvertisingParameters, advertisingParameters());
  toy.command(Op.LeSetAdvertisingEnable, [1]);
  await settle(air);
  const completes = (h: RawHost) => h.events(Evt.LeMeta, LeEvt.ConnectionComplete).length;
  expect(completes(late)).toBe(1);
  expect(completes(early)).toBe(0);
  expect(completes(toy)).toBe(1);
  expect(air.connections).toHaveLength(1);
  air.close();
});
