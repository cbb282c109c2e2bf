/**
 * Several phones per toy through the SDK: an admin opens the window for a member, the member is
 * refused admin actions, the admin removes it, and unpairing (with the last-admin guard).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import type { ToyClient } from '../../sdk/client.js';
import { SdkError } from '../../sdk/errors.js';
import { SdkEnv } from './fixtures/env.js';
import type { FixtureToy } from './fixtures/toy.js';

async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an SdkError').toBeInstanceOf(SdkError);
  return e as SdkError;
}

/** A toy with an admin phone ("Mum") and a member phone ("Dad") added through the admin. */
async function family(env: SdkEnv): Promise<{ toy: FixtureToy; admin: ToyClient; member: ToyClient }> {
  const toy = await env.toy();
  toy.holdPaw();
  const admin = await env.client();
  await admin.pair(toy.setupCode, { name: 'Mum' });
  // The paw's window closed when the admin paired; only the admin can open it again.
  toy.driver.act((e) => e.pairing.closeWindow());
  const s = await admin.connect();
  await s.addPairing({ role: 'member', seconds: 60 });
  expect(toy.toy.engine.pairing.windowOpen).toBe(true);
  await s.close();
  const member = await env.client();
  const paired = await member.pair(toy.setupCode, { name: 'Dad' });
  expect(paired.role).toBe('member');
  return { toy, admin, member };
}

describe('ToySession pairings', () => {
  it('an admin opens the window for a second phone, which pairs as member; the admin lists both', async () => {
    const env = SdkEnv.open();
    const { toy, admin, member } = await family(env);
    expect(toy.toy.engine.pairing.state.pairings.map((p) => [p.name, p.role])).toEqual([
      ['Mum', 'admin'],
      ['Dad', 'member'],
    ]);
    const s = await admin.connect();
    const list = await s.pairings();
    expect(list.map((p) => [p.name, p.role, p.thisPhone])).toEqual([
      ['Mum', 'admin', true],
      ['Dad', 'member', false],
    ]);
    expect(list[1]!.phoneId).toBe(member.phone().phoneId);
  });

  it('a member uses the toy but is refused admin actions with NOT_ADMIN', async () => {
    const env = SdkEnv.open();
    const { toy, member } = await family(env);
    const s = await member.connect();
    await s.setVolume(42);
    expect(toy.app.volume).toBe(42);
    expect((await sdkError(s.pairings())).code).toBe('NOT_ADMIN');
    const e = await sdkError(s.addPairing());
    expect(e.code).toBe('NOT_ADMIN');
    expect(e.message).toMatch(/only an admin/);
    expect(toy.toy.engine.pairing.windowOpen).toBe(false);
    expect((await sdkError(s.removePairing('00'.repeat(16)))).code).toBe('NOT_ADMIN');
    // A member cannot remove itself: said without asking the toy, and the pairing stays.
    expect((await sdkError(s.unpair())).code).toBe('NOT_ADMIN');
    expect(toy.toy.engine.pairing.state.pairings).toHaveLength(2);
    expect(member.toys()).toHaveLength(1);
    expect(s.isOpen).toBe(true);
  });

  it('an admin removes the member: the member is then refused with UNKNOWN_PHONE', async () => {
    const env = SdkEnv.open();
    const { toy, admin, member } = await family(env);
    const s = await admin.connect();
    await s.removePairing(member.phone().phoneId);
    expect(toy.toy.engine.pairing.state.pairings.map((p) => p.name)).toEqual(['Mum']);
    expect((await sdkError(s.removePairing(member.phone().phoneId))).code).toBe('NOT_FOUND');
    await s.close();
    const e = await sdkError(member.connect());
    expect(e.code).toBe('UNKNOWN_PHONE');
    expect(e.message).toMatch(/pair again/);
    // The member may forget the toy locally.
    expect(member.forget().toyId).toBe(toHex(toy.toy.engine.pairing.state.toyId));
    expect(member.toys()).toEqual([]);
  });

  it('the only admin cannot unpair by mistake while members remain (LAST_ADMIN); with force every phone goes', async () => {
    const env = SdkEnv.open();
    const { toy, admin, member } = await family(env);
    const s = await admin.connect();
    const e = await sdkError(s.unpair());
    expect(e.code).toBe('LAST_ADMIN');
    expect(toy.toy.engine.pairing.state.pairings).toHaveLength(2);
    expect(admin.toys()).toHaveLength(1);
    await s.unpair({ force: true });
    expect(s.isOpen).toBe(false);
    expect(toy.toy.engine.pairing.state.pairings).toEqual([]);
    expect(admin.toys()).toEqual([]);
    expect((await sdkError(member.connect())).code).toMatch(/UNKNOWN_PHONE|NO_TOY_FOUND/);
  });

  it('unpair of a toy with one phone removes it on the toy and in the keystore, and ends the session', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const client = await env.client();
    await client.pair(toy.setupCode);
    const s = await client.connect();
    await s.unpair();
    expect(s.isOpen).toBe(false);
    expect(toy.toy.engine.pairing.state.pairings).toEqual([]);
    expect(client.toys()).toEqual([]);
    expect((await sdkError(s.status())).code).toBe('CLOSED');
  });
});
