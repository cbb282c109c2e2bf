/**
 * ToyClient's radio choices: what goes wrong opening a radio is an SdkError with the radio layer's
 * code and advice, the keystore alone needs no radio, and the default (the shared virtual air)
 * says when no simulated toy is running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ToyClient } from '../../sdk/client.js';
import { SdkError } from '../../sdk/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function home(): string {
  const d = mkdtempSync(join(tmpdir(), 'pawlink-radio-'));
  dirs.push(d);
  return join(d, 'home');
}

async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an SdkError').toBeInstanceOf(SdkError);
  return e as SdkError;
}

describe('ToyClient radios', () => {
  it('bad radio options are BAD_OPTION, at open or at the first radio use, with a one-line message', async () => {
    expect((await sdkError(ToyClient.open({ home: home(), radio: 'wifi' as never }))).code).toBe(
      'BAD_OPTION',
    );
    expect((await sdkError(ToyClient.open({ home: home(), timeoutMs: -1 }))).code).toBe('BAD_OPTION');
    const a = await ToyClient.open({ home: home(), radio: 'ble', hci: -1 });
    expect((await sdkError(a.scan())).code).toBe('BAD_OPTION');
    const b = await ToyClient.open({ home: home(), radio: 'ble', bleLib: 'nope' });
    const e = await sdkError(b.scan());
    expect(e.code).toBe('BAD_OPTION');
    expect(e.message).toMatch(/abandonware.*stoprocent/);
    expect(e.message).not.toContain('\n');
    await a.close();
    await b.close();
  });

  it('listing paired toys and the phone identity needs no radio', async () => {
    const client = await ToyClient.open({ home: home(), radio: 'ble', hci: -1, phoneName: 'Kitchen tablet' });
    expect(client.toys()).toEqual([]);
    expect(client.phone()).toMatchObject({
      name: 'Kitchen tablet',
      phoneId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    await client.close();
    expect((await sdkError(client.scan())).code).toBe('CLOSED');
  });

  it('on the shared virtual air with no simulator running, pair says to start one (npm start)', async () => {
    const client = await ToyClient.open({ home: home(), air: `sdk-empty-${process.pid}`, timeoutMs: 300 });
    expect(await client.hostsVirtualAir()).toBe(true);
    const e = await sdkError(client.pair('1234-5670'));
    expect(e.code).toBe('NO_TOY_FOUND');
    expect(e.message).toMatch(/npm start/);
    await client.close();
  });
});
