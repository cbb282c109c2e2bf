/**
 * The simulated secure element: the device key file (created once, 0600, atomically, never
 * replaced when damaged) and the sealer it gives the flash store.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ToyError } from '../../firmware-sim/errors.js';
import { SECURE_ELEMENT_FILE, SecureElement } from '../../firmware-sim/secure-element.js';
import { utf8 } from '../../protocol/bytes.js';
import { seededRandom } from '../../protocol/random.js';

function toyError(run: () => unknown): ToyError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ToyError);
    return e as ToyError;
  }
  return expect.fail('expected a ToyError');
}

const ad = utf8.encode('value name');

describe('SecureElement: the key file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the device key once (directory 0700, file 0600, 41 bytes) and opens the same key afterwards', () => {
    dir = join(mkdtempSync(join(tmpdir(), 'pawlink-se-')), 'state');
    const first = SecureElement.open(dir, seededRandom('se 1'));
    expect(first.created).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const path = join(dir, SECURE_ELEMENT_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).length).toBe(41);
    const second = SecureElement.open(dir, seededRandom('se 2'));
    expect(second.created).toBe(false);
    const sealed = first.flashSealer(seededRandom('n1')).seal(ad, utf8.encode('hello'));
    expect(second.flashSealer(seededRandom('n2')).open(ad, sealed)).toEqual(utf8.encode('hello'));
    expect(readdirSync(dir)).toEqual([SECURE_ELEMENT_FILE]);
  });

  it('refuses a damaged key file (flipped byte, truncated, foreign) and leaves it as it is', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-se-'));
    SecureElement.open(dir, seededRandom('se'));
    const path = join(dir, SECURE_ELEMENT_FILE);
    const good = readFileSync(path);
    const variants = [
      Buffer.concat([good.subarray(0, 10), Buffer.of(good[10]! ^ 1), good.subarray(11)]),
      good.subarray(0, 40),
      Buffer.from('not a key file at all, but 41 bytes long.'),
    ];
    for (const bad of variants) {
      writeFileSync(path, bad, { mode: 0o600 });
      expect(toyError(() => SecureElement.open(dir, seededRandom('other'))).code).toBe(
        'SECURE_ELEMENT_CORRUPT',
      );
      expect(readFileSync(path).equals(bad)).toBe(true);
    }
  });

  it('refuses a key file other users can read', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-se-'));
    SecureElement.open(dir, seededRandom('se'));
    const path = join(dir, SECURE_ELEMENT_FILE);
    chmodSync(path, 0o644);
    const e = toyError(() => SecureElement.open(dir, seededRandom('se')));
    expect(e.code).toBe('SECURE_ELEMENT_PERMISSIONS');
    expect(e.message).toContain('chmod 600');
  });

  it('a crash before the key is linked into place leaves no key; the next start removes the temporary file and creates one', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-se-'));
    const crash = () =>
      SecureElement.open(dir, seededRandom('crash'), {
        beforeCommit: () => {
          throw new Error('power lost');
        },
      });
    expect(toyError(crash).code).toBe('SECURE_ELEMENT_IO');
    const names = readdirSync(dir);
    expect(names).not.toContain(SECURE_ELEMENT_FILE);
    expect(names.length).toBe(1); // the temporary file a crash would leave
    const se = SecureElement.open(dir, seededRandom('after'));
    expect(se.created).toBe(true);
    expect(readdirSync(dir)).toEqual([SECURE_ELEMENT_FILE]);
  });

  it('with create: false, a missing key is SECURE_ELEMENT_MISSING and nothing is created', () => {
    dir = mkdtempSync(join(tmpdir(), 'pawlink-se-'));
    expect(toyError(() => SecureElement.open(dir, seededRandom('x'), { create: false })).code).toBe(
      'SECURE_ELEMENT_MISSING',
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('SecureElement: the flash sealer', () => {
  const key = seededRandom('device key')(32);
  const sealer = SecureElement.inMemory(key).flashSealer(seededRandom('nonces'));

  it('seals with a fresh nonce each time and opens only with the same associated data and key', () => {
    const plaintext = utf8.encode('a voice message');
    const a = sealer.seal(ad, plaintext);
    const b = sealer.seal(ad, plaintext);
    expect(a.length).toBe(plaintext.length + sealer.overhead);
    expect(a).not.toEqual(b);
    expect(sealer.open(ad, a)).toEqual(plaintext);
    expect(sealer.open(utf8.encode('another name'), a)).toBeNull();
    const flipped = a.slice();
    flipped[20]! ^= 1;
    expect(sealer.open(ad, flipped)).toBeNull();
    expect(sealer.open(ad, a.subarray(0, 10))).toBeNull();
    const other = SecureElement.inMemory(seededRandom('other key')(32)).flashSealer(seededRandom('n'));
    expect(other.open(ad, a)).toBeNull();
  });

  it('derives a key check that differs per device key and is not part of the key', () => {
    const other = SecureElement.inMemory(seededRandom('other key')(32)).flashSealer(seededRandom('n'));
    expect(sealer.keyCheck.length).toBe(8);
    expect(sealer.keyCheck).not.toEqual(other.keyCheck);
    expect(Buffer.from(key).indexOf(Buffer.from(sealer.keyCheck))).toBe(-1);
    expect(SecureElement.inMemory(key).flashSealer(seededRandom('x')).keyCheck).toEqual(sealer.keyCheck);
  });
});
