/**
 * A stranger who scans repeatedly (protocol brief: "scan repeatedly → no stable identifier, child's
 * name or owner in the advertisement"): the raw central records every advertising report of a paired
 * toy across four tag rotations (an hour of air time) and looks for anything that links them.
 */
import { afterEach, expect, it } from 'vitest';
import { decodeAdvertisement, resolveTag } from '../../protocol/gatt/advertising.js';
import { TAG_ROTATION_MS } from '../../protocol/gatt/constants.js';
import { type Lab, openLab, serviceDataOf } from './kit/index.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

it('across tag rotations the advertisement carries no stable bytes beyond the service, version and flags, and no name, id, owner or code', async () => {
  lab = await openLab();
  const { phone, paired } = await lab.owner('Alice’s phone');
  await phone.request({ type: 'SetVolume', volume: 40 });
  await phone.close();
  const eve = lab.attacker();
  const periods: Buffer[][] = [];
  for (let i = 0; i < 5; i++) {
    const reports = await eve.scan(3_000);
    periods.push(reports.map((r) => r.data));
    await eve.sleep(TAG_ROTATION_MS);
  }
  const serviceData = periods.map((p) => {
    const all = p.map((d) => serviceDataOf(d)).filter((d): d is Buffer => d !== undefined);
    expect(all.length).toBeGreaterThan(0);
    return all[0]!;
  });
  // Version and flags (2 bytes) are shared by every toy of the same firmware; the rest changes.
  const tags = serviceData.map((d) => d.subarray(2).toString('hex'));
  expect(new Set(tags).size).toBe(tags.length);
  for (let i = 1; i < serviceData.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = serviceData[i]!.subarray(2);
      const b = serviceData[j]!.subarray(2);
      // No 3-byte run of one period's tag appears in another's.
      for (let o = 0; o + 3 <= a.length; o++) expect(b.includes(a.subarray(o, o + 3))).toBe(false);
    }
  }
  // Every report, advertising data or scan response, carries none of these.
  const everything = Buffer.concat(periods.flat());
  const secrets = [
    Buffer.from(paired.toyId),
    Buffer.from(paired.tagKey),
    Buffer.from('Alice'),
    Buffer.from(lab.setupCode().replace(/\D/g, '')),
  ];
  for (const s of secrets) {
    for (let o = 0; o + 4 <= s.length; o += 4) expect(everything.includes(s.subarray(o, o + 4))).toBe(false);
  }
  // Decoded: no discriminator (the window is closed), and a tag only the owner's phone resolves.
  for (const d of serviceData) {
    const adv = decodeAdvertisement(d);
    expect(adv.discriminator).toBeUndefined();
    expect(adv.pairingWindowOpen).toBe(false);
    expect(resolveTag(adv.tag!, paired.tagKey)).toBe(true);
    expect(resolveTag(adv.tag!, new Uint8Array(16).fill(7))).toBe(false);
  }
});
