/**
 * The phone's keystore: where it lives, its identity made once, paired toys and pending uploads,
 * file modes, atomic writes under a simulated crash, and damaged files reported, never replaced.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import type { PairingResult } from '../../protocol/pairing/index.js';
import { seededRandom } from '../../protocol/random.js';
import { SdkError } from '../../sdk/errors.js';
import { IDENTITY_FILE, Keystore, keystoreDir, TOYS_FILE, UPLOADS_FILE } from '../../sdk/keystore.js';

function sdkError(run: () => unknown): SdkError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SdkError);
    return e as SdkError;
  }
  return expect.fail('expected an SdkError');
}

function pairing(seed: string, role: 'admin' | 'member' = 'admin'): PairingResult {
  const r = seededRandom(seed);
  return { toyId: r(16), toyStaticPublicKey: r(32), tagKey: r(16), role };
}

let root: string;
let home: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pawlink-keystore-'));
  home = join(root, 'home');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function open(extra: Parameters<typeof Keystore.open>[0] = {}): Keystore {
  let t = 1_700_000_000_000;
  return Keystore.open({ home, random: seededRandom(`ks ${Math.random()}`), now: () => t++, ...extra });
}

describe('Keystore: location and identity', () => {
  it('uses --home, else PAWLINK_HOME, else the per-user data directory', () => {
    expect(keystoreDir({ home: '/x/y', env: { PAWLINK_HOME: '/a' } })).toBe('/x/y');
    expect(keystoreDir({ env: { PAWLINK_HOME: '/a' } })).toBe('/a');
    expect(keystoreDir({ env: {} })).toMatch(/pawlink$/);
  });

  it('creates its directory 0700 and files 0600', () => {
    const ks = open();
    ks.identity('Mum');
    ks.saveToy(pairing('toy'), 'Teddy');
    ks.saveUpload({
      toyId: pairing('toy').toyId,
      transferId: 7,
      sha256: new Uint8Array(32),
      totalBytes: 3,
      content: { bytes: Uint8Array.of(1, 2, 3) },
    });
    expect(statSync(home).mode & 0o777).toBe(0o700);
    for (const f of [IDENTITY_FILE, TOYS_FILE, UPLOADS_FILE])
      expect(statSync(join(home, f)).mode & 0o777).toBe(0o600);
    const stored = readdirSync(join(home, 'uploads'));
    expect(stored.length).toBe(1);
    expect(statSync(join(home, 'uploads', stored[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'uploads')).mode & 0o777).toBe(0o700);
  });

  it('generates the identity once and returns the same one afterwards, in any instance', () => {
    const a = open().identity('Mum');
    const b = open().identity('ignored, it exists');
    expect(b.phoneId).toEqual(a.phoneId);
    expect(b.staticKeyPair).toEqual(a.staticKeyPair);
    expect(b.name).toBe('Mum');
    expect(a.phoneId.length).toBe(16);
    expect(open().setName('Dad').name).toBe('Dad');
    expect(open().identity().staticKeyPair).toEqual(a.staticKeyPair);
  });

  it('never shows the private key or a tag key when an identity or toy is printed', () => {
    const ks = open();
    const id = ks.identity('Mum');
    const toy = ks.saveToy(pairing('toy'), 'Teddy');
    const printed = inspect(id) + inspect(toy) + inspect(ks.listToys()) + inspect(open().identity());
    expect(printed).not.toContain(toHex(id.staticKeyPair.privateKey));
    expect(printed).not.toContain(toHex(toy.tagKey));
    expect(printed).toContain(toHex(id.staticKeyPair.publicKey));
    expect(printed).toContain('[secret]');
  });

  it('refuses names that are too long or hold control characters', () => {
    expect(sdkError(() => open().identity('x'.repeat(33))).code).toBe('BAD_NAME');
    expect(sdkError(() => open().identity('a\nb')).code).toBe('BAD_NAME');
    expect(open().hasIdentity()).toBe(false);
  });
});

describe('Keystore: toys and uploads', () => {
  it('keeps paired toys with label, role, pairedAt and lastSeen; re-pairing replaces; remove forgets', () => {
    const ks = open();
    const t1 = ks.saveToy(pairing('one'), 'Teddy');
    ks.saveToy(pairing('two', 'member'), 'Bunny');
    ks.markSeen(t1.toyId);
    ks.updateToy(t1.toyId, { label: 'Big Teddy' });
    const again = open();
    const one = again.getToy(t1.toyId)!;
    expect(one).toMatchObject({ label: 'Big Teddy', role: 'admin', tagKey: pairing('one').tagKey });
    expect(one.lastSeen).toBeGreaterThan(one.pairedAt);
    expect(again.listToys().map((t) => t.label)).toEqual(['Big Teddy', 'Bunny']);
    again.saveToy({ ...pairing('one'), role: 'member' }, 'Teddy again');
    expect(
      open()
        .listToys()
        .map((t) => [t.label, t.role]),
    ).toEqual([
      ['Bunny', 'member'],
      ['Teddy again', 'member'],
    ]);
    expect(open().removeToy(t1.toyId)).toBe(true);
    expect(open().removeToy(t1.toyId)).toBe(false);
    expect(sdkError(() => open().updateToy(t1.toyId, { label: 'x' })).code).toBe('UNKNOWN_TOY');
  });

  it('remembers uploads to resume, from a file path or as stored bytes, and forgets them when done', () => {
    const ks = open();
    const toyId = pairing('toy').toyId;
    const source = join(root, 'message.wav');
    writeFileSync(source, 'RIFF....');
    ks.saveToy(pairing('toy'));
    ks.saveUpload({
      toyId,
      transferId: 1,
      sha256: new Uint8Array(32).fill(1),
      totalBytes: 8,
      content: { path: source },
    });
    ks.saveUpload({
      toyId,
      transferId: 2,
      sha256: new Uint8Array(32).fill(2),
      totalBytes: 3,
      content: { bytes: Uint8Array.of(4, 5, 6) },
    });
    const again = open();
    const uploads = again.listUploads(toyId);
    expect(uploads.map((u) => u.transferId)).toEqual([1, 2]);
    expect(again.readUploadContent(uploads[0]!)).toEqual(new Uint8Array(readFileSync(source)));
    expect(again.readUploadContent(uploads[1]!)).toEqual(Uint8Array.of(4, 5, 6));
    expect(again.removeUpload(toyId, 2)).toBe(true);
    expect(readdirSync(join(home, 'uploads'))).toEqual([]);
    rmSync(source);
    expect(sdkError(() => again.readUploadContent(uploads[0]!)).code).toBe('UPLOAD_CONTENT_MISSING');
    again.removeToy(toyId);
    expect(open().listUploads()).toEqual([]);
  });
});

describe('Keystore: files on disk', () => {
  it('a crash after writing the temporary file but before the rename leaves the old file intact', () => {
    const ks = open();
    ks.saveToy(pairing('one'), 'Teddy');
    const before = readFileSync(join(home, TOYS_FILE));
    const crashing = open({
      beforeRename: () => {
        throw new Error('power lost');
      },
    });
    expect(sdkError(() => crashing.saveToy(pairing('two'), 'Bunny')).code).toBe('KEYSTORE_WRITE_FAILED');
    expect(readFileSync(join(home, TOYS_FILE)).equals(before)).toBe(true);
    expect(readdirSync(home).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(
      open()
        .listToys()
        .map((t) => t.label),
    ).toEqual(['Teddy']);
  });

  it('a crash while the identity is first created leaves no identity; the next start makes one', () => {
    const crashing = open({
      beforeRename: () => {
        throw new Error('power lost');
      },
    });
    expect(sdkError(() => crashing.identity('Mum')).code).toBe('KEYSTORE_WRITE_FAILED');
    expect(open().hasIdentity()).toBe(false);
    expect(open().identity('Mum').name).toBe('Mum');
  });

  it('removes temporary files left by a crashed process when it opens', () => {
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(join(home, '.identity.json.999999999.abcdef.tmp'), 'secret', { mode: 0o600 });
    open();
    expect(readdirSync(home)).toEqual([]);
  });

  it('reports a damaged file with its path and what to do, and never replaces it', () => {
    const ks = open();
    ks.identity('Mum');
    ks.saveToy(pairing('one'));
    const cases: Array<[string, string]> = [
      [IDENTITY_FILE, '{ not json'],
      [IDENTITY_FILE, JSON.stringify({ format: 'pawlink-phone-identity', version: 1, phoneId: 'zz' })],
      [TOYS_FILE, JSON.stringify({ format: 'pawlink-paired-toys', version: 2, toys: [] })],
      [TOYS_FILE, JSON.stringify({ format: 'pawlink-paired-toys', version: 1, toys: [{ role: 'king' }] })],
    ];
    for (const [file, text] of cases) {
      const path = join(home, file);
      const good = readFileSync(path);
      writeFileSync(path, text);
      const e = sdkError(() => (file === IDENTITY_FILE ? open().identity() : open().listToys()));
      expect(e.code).toBe('KEYSTORE_CORRUPT');
      expect(e.message).toContain(path);
      expect(readFileSync(path, 'utf8')).toBe(text);
      if (file === IDENTITY_FILE) expect(e.message).toContain('pair again');
      writeFileSync(path, good);
    }
  });

  it('refuses a file other users can read and a directory other users can write', () => {
    const ks = open();
    ks.identity('Mum');
    chmodSync(join(home, IDENTITY_FILE), 0o644);
    expect(sdkError(() => open().identity()).code).toBe('KEYSTORE_PERMISSIONS');
    chmodSync(join(home, IDENTITY_FILE), 0o600);
    chmodSync(home, 0o777);
    expect(sdkError(() => open()).code).toBe('KEYSTORE_INSECURE_DIR');
    chmodSync(home, 0o700);
  });

  it('the identity file holds the key pair in a form the next start reads back exactly', () => {
    const id = open().identity('Mum');
    const json = JSON.parse(readFileSync(join(home, IDENTITY_FILE), 'utf8'));
    expect(json).toMatchObject({ format: 'pawlink-phone-identity', version: 1, name: 'Mum' });
    expect(json.privateKey).toBe(toHex(id.staticKeyPair.privateKey));
    json.publicKey = toHex(new Uint8Array(32));
    writeFileSync(join(home, IDENTITY_FILE), JSON.stringify(json));
    expect(sdkError(() => open().identity()).message).toContain('does not match');
  });
});
