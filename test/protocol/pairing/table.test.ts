import { describe, expect, it } from 'vitest';
import {
  addPairing,
  findByStaticKey,
  listPairings,
  type PairingEntry,
  type PairingTable,
  removePairing,
} from '../../../protocol/pairing/index.js';
import { expectPairingError } from './helpers.js';

const entry = (n: number, role: 'admin' | 'member' = 'member', name = `phone ${n}`): PairingEntry => ({
  phoneId: new Uint8Array(16).fill(n),
  phoneStaticPublicKey: new Uint8Array(32).fill(100 + n),
  role,
  name,
});
const id = (n: number) => new Uint8Array(16).fill(n);

function table(...entries: PairingEntry[]): PairingTable {
  return entries.reduce<PairingTable>((t, e) => addPairing(t, e), []);
}

describe('pairing table', () => {
  it('lets an admin list the table, not a member nor a stranger', () => {
    const t = table(entry(1, 'admin'), entry(2));
    expect(listPairings(t, id(1))).toHaveLength(2);
    expectPairingError(() => listPairings(t, id(2)), 'NOT_ADMIN');
    expectPairingError(() => listPairings(t, id(9)), 'UNKNOWN_PHONE');
  });

  it('holds 16 phones; a 17th is TABLE_FULL', () => {
    let t = table(entry(1, 'admin'));
    for (let n = 2; n <= 16; n++) t = addPairing(t, entry(n));
    expect(t).toHaveLength(16);
    expectPairingError(() => addPairing(t, entry(17)), 'TABLE_FULL');
  });

  it('replaces a phone that pairs again (same id or same key) without using a slot, never demoting an admin', () => {
    let t = table(entry(1, 'admin'));
    for (let n = 2; n <= 16; n++) t = addPairing(t, entry(n));
    t = addPairing(t, { ...entry(1, 'member'), name: 'renamed' });
    expect(t).toHaveLength(16);
    const e1 = t.find((e) => e.name === 'renamed')!;
    expect(e1.role).toBe('admin');
    t = addPairing(t, { ...entry(5), phoneId: id(50) }); // same static key as phone 5, new id
    expect(t).toHaveLength(16);
    expect(t.some((e) => e.phoneId[0] === 5)).toBe(false);
  });

  it('finds a phone by its static key (the session layer lookup)', () => {
    const t = table(entry(1, 'admin'), entry(2));
    expect(findByStaticKey(t, new Uint8Array(32).fill(102))?.name).toBe('phone 2');
    expect(findByStaticKey(t, new Uint8Array(32).fill(7))).toBeUndefined();
  });

  it('lets only an admin remove a pairing', () => {
    const t = table(entry(1, 'admin'), entry(2), entry(3));
    expectPairingError(() => removePairing(t, id(2), id(3)), 'NOT_ADMIN');
    expectPairingError(() => removePairing(t, id(9), id(3)), 'UNKNOWN_PHONE');
    expectPairingError(() => removePairing(t, id(1), id(9)), 'UNKNOWN_PHONE');
    const r = removePairing(t, id(1), id(3));
    expect(r.wiped).toBe(false);
    expect(r.table.map((e) => e.phoneId[0])).toEqual([1, 2]);
  });

  it('wipes every pairing when the last admin is removed', () => {
    const t = table(entry(1, 'admin'), entry(2), entry(3));
    expect(removePairing(t, id(1), id(1))).toEqual({ table: [], wiped: true });
  });

  it('does not wipe while another admin remains', () => {
    const t = table(entry(1, 'admin'), entry(2, 'admin'), entry(3));
    const r = removePairing(t, id(1), id(1));
    expect(r.wiped).toBe(false);
    expect(r.table).toHaveLength(2);
  });

  it('refuses malformed entries', () => {
    expectPairingError(() => addPairing([], { ...entry(1), phoneId: new Uint8Array(15) }), 'BAD_ENTRY');
    expectPairingError(
      () => addPairing([], { ...entry(1), phoneStaticPublicKey: new Uint8Array(31) }),
      'BAD_ENTRY',
    );
    expectPairingError(() => addPairing([], { ...entry(1), name: 'x'.repeat(33) }), 'BAD_ENTRY');
  });
});
