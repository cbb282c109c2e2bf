/**
 * ToyClient: scanning, pairing and finding a paired toy by its rotating tag, against toys made of
 * the protocol engines on an in-process virtual air (test/sdk/fixtures), in virtual time.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import { decodeAdvertisement } from '../../protocol/gatt/index.js';
import { SdkError } from '../../sdk/errors.js';
import { Keystore } from '../../sdk/keystore.js';
import { SdkEnv } from './fixtures/env.js';

/** The SdkError a promise rejects with (fails the test if it resolves or throws something else). */
async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an SdkError').toBeInstanceOf(SdkError);
  return e as SdkError;
}

/** A wrong code for a toy: its own code with the last digit changed. */
function wrongCode(code: string): string {
  return code.slice(0, 7) + String((Number(code[7]) + 1) % 10);
}

describe('ToyClient pairing', () => {
  it('pairs with the 8-digit setup code: the keystore holds the toy as admin, with the tag key that resolves it', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const client = await env.client();
    const paired = await client.pair(`${toy.setupCode.slice(0, 4)}-${toy.setupCode.slice(4)}`, {
      label: 'Bunny',
    });
    expect(paired).toMatchObject({
      toyId: toHex(toy.toy.engine.pairing.state.toyId),
      role: 'admin',
      label: 'Bunny',
    });
    const stored = client.keystore.listToys();
    expect(stored).toHaveLength(1);
    expect(toHex(stored[0]!.tagKey)).toBe(toHex(toy.toy.engine.pairing.state.tagKey!));
    expect(client.toys()).toEqual([paired]);
  });

  it('pairs with the setup payload of the QR code, which picks its toy among two with open windows', async () => {
    const env = SdkEnv.open();
    const a = await env.toy('a');
    const b = await env.toy('b');
    a.holdPaw();
    b.holdPaw();
    expect(a.discriminator).not.toBe(b.discriminator);
    const client = await env.client();
    const paired = await client.pair(b.payload.toLowerCase());
    expect(paired.toyId).toBe(toHex(b.toy.engine.pairing.state.toyId));
    expect(a.toy.engine.pairing.state.pairings).toHaveLength(0);
  });

  it('refuses to choose between two open pairing windows without a discriminator (SEVERAL_TOYS), and the option picks one', async () => {
    const env = SdkEnv.open();
    const a = await env.toy('a');
    const b = await env.toy('b');
    a.holdPaw();
    b.holdPaw();
    const client = await env.client();
    const e = await sdkError(client.pair(a.setupCode));
    expect(e.code).toBe('SEVERAL_TOYS');
    expect(e.message).toContain(String(a.discriminator));
    expect(client.toys()).toEqual([]);
    const paired = await client.pair(a.setupCode, { discriminator: a.discriminator });
    expect(paired.toyId).toBe(toHex(a.toy.engine.pairing.state.toyId));
  });

  it('a wrong code is BAD_CONFIRMATION and nothing is saved; the right code then pairs', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const home = env.home();
    const client = await env.client({ home, phoneName: 'Tablet' });
    const e = await sdkError(client.pair(wrongCode(toy.setupCode), { name: 'Mum' }));
    expect(e.code).toBe('BAD_CONFIRMATION');
    expect(e.message).toContain('wrong setup code');
    expect(Keystore.open({ home }).listToys()).toEqual([]);
    expect(client.phone().name).toBe('Tablet');
    expect(toy.toy.engine.pairing.state.pairings).toHaveLength(0);
    await client.pair(toy.setupCode, { name: 'Mum' });
    expect(Keystore.open({ home }).listToys()).toHaveLength(1);
    expect(client.phone().name).toBe('Mum');
    expect(toy.toy.engine.pairing.state.pairings[0]!.name).toBe('Mum');
  });

  it('with no pairing window open, pair fails with NO_TOY_FOUND telling the user to hold the paw', async () => {
    const env = SdkEnv.open();
    await env.toy();
    const client = await env.client();
    const e = await sdkError(client.pair('1234-5670', { timeoutMs: 2_000 }));
    expect(e.code).toBe('NO_TOY_FOUND');
    expect(e.message).toMatch(/hold the toy's listen paw/);
    expect(e.message).toMatch(/windows closed/);
  });

  it('a discriminator that no open window has is NO_TOY_FOUND naming the discriminator', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const client = await env.client();
    const other = (toy.discriminator + 1) % 4096;
    const e = await sdkError(client.pair(toy.setupCode, { discriminator: other, timeoutMs: 2_000 }));
    expect(e.code).toBe('NO_TOY_FOUND');
    expect(e.message).toContain(String(other));
  });

  it('a pairing window that closed before the attempt is WINDOW_CLOSED', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const client = await env.client();
    const pairing = client.pair(toy.setupCode);
    // Close the window just as the phone connects.
    toy.peripheral.onConnect(() => {
      toy.driver.act((e) => e.pairing.closeWindow());
    });
    const e = await sdkError(pairing);
    expect(e.code).toBe('WINDOW_CLOSED');
    expect(client.toys()).toEqual([]);
  });

  it('malformed codes and payloads are refused before anything goes on the air', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    let connections = 0;
    toy.peripheral.onConnect(() => connections++);
    const client = await env.client();
    expect((await sdkError(client.pair('1234'))).code).toBe('BAD_SETUP_CODE');
    expect((await sdkError(client.pair('12345678'))).code).toBe('FORBIDDEN_SETUP_CODE');
    expect((await sdkError(client.pair('PAWLINK1-XYZ-1234'))).code).toBe('BAD_SETUP_PAYLOAD');
    expect((await sdkError(client.pair(toy.setupCode, { discriminator: 5000 }))).code).toBe('BAD_INPUT');
    expect((await sdkError(client.pair(toy.setupCode, { label: 'x'.repeat(40) }))).code).toBe('BAD_NAME');
    expect(connections).toBe(0);
    expect(client.toys()).toEqual([]);
  });
});

describe('ToyClient scan and connect', () => {
  it('scan shows which toys have their window open (with the discriminator) and which one is ours', async () => {
    const env = SdkEnv.open();
    const mine = await env.toy('mine');
    const stranger = await env.toy('stranger');
    mine.holdPaw();
    const client = await env.client();
    const paired = await client.pair(mine.setupCode);
    stranger.holdPaw();
    const toys = await client.scan();
    expect(toys).toHaveLength(2);
    const ours = toys.find((t) => t.paired);
    const theirs = toys.find((t) => !t.paired);
    expect(ours?.paired?.toyId).toBe(paired.toyId);
    expect(theirs).toMatchObject({ pairingWindowOpen: true, discriminator: stranger.discriminator });
    const filtered = await client.scan({ discriminator: stranger.discriminator });
    expect(filtered).toHaveLength(1);
    expect(filtered[0]!.paired).toBeUndefined();
  });

  it('connect finds our toy by its rotating tag among others, after the tag changed, and opens a session', async () => {
    const env = SdkEnv.open();
    const a = await env.toy('a');
    const b = await env.toy('b');
    const client = await env.client();
    a.holdPaw();
    const pa = await client.pair(a.setupCode, { label: 'A' });
    b.holdPaw();
    const pb = await client.pair(b.setupCode, { label: 'B' });
    // A stranger sees no stable identifier: the tag changes and still resolves for us.
    const before = decodeAdvertisement(b.advertisement()).tag!;
    b.rotateTag();
    const after = decodeAdvertisement(b.advertisement()).tag!;
    expect(toHex(after)).not.toBe(toHex(before));
    const session = await client.connect('B');
    expect(session.toy.toyId).toBe(pb.toyId);
    expect(b.toy.engine.sessions).toHaveLength(1);
    expect(a.toy.engine.sessions).toHaveLength(0);
    await session.close();
    const byPrefix = await client.connect(pa.toyId.slice(0, 8));
    expect(byPrefix.toy.toyId).toBe(pa.toyId);
    expect(client.keystore.getToy(a.toy.engine.pairing.state.toyId)?.lastSeen).toBeTypeOf('number');
  });

  it('connect needs a toy to be named when there are several, and refuses unknown ones', async () => {
    const env = SdkEnv.open();
    const a = await env.toy('a');
    const b = await env.toy('b');
    const client = await env.client();
    expect((await sdkError(client.connect())).code).toBe('NOT_PAIRED');
    a.holdPaw();
    await client.pair(a.setupCode);
    b.holdPaw();
    await client.pair(b.setupCode);
    expect((await sdkError(client.connect())).code).toBe('AMBIGUOUS_TOY');
    expect((await sdkError(client.connect('ffffffff'))).code).toBe('UNKNOWN_TOY');
  });

  it('a paired toy out of range is NO_TOY_FOUND', async () => {
    const env = SdkEnv.open();
    const toy = await env.toy();
    toy.holdPaw();
    const client = await env.client({ timeoutMs: 2_000 });
    await client.pair(toy.setupCode);
    await toy.close();
    const e = await sdkError(client.connect());
    expect(e.code).toBe('NO_TOY_FOUND');
    expect(e.message).toMatch(/not found/);
  });
});
