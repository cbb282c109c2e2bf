/**
 * Fuzzing the keystore's file decoders (identity.json, toys.json, uploads.json): random text and
 * valid documents with a field replaced or removed give only SdkError KEYSTORE_CORRUPT, never
 * another exception. (Reading a damaged file on disk, left untouched, is in keystore.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../protocol/random.js';
import { keyPairFromPrivateKey } from '../../protocol/session/index.js';
import { SdkError } from '../../sdk/errors.js';
import { parseIdentityFile, parseToysFile, parseUploadsFile } from '../../sdk/keystore.js';
import { fuzzParams } from '../fuzz/config.js';

const r = seededRandom('keystore fuzz');
const hex = (n: number) => Buffer.from(r(n)).toString('hex');
const pair = keyPairFromPrivateKey(r(32));

const valid = {
  identity: {
    format: 'pawlink-phone-identity',
    version: 1,
    phoneId: hex(16),
    privateKey: Buffer.from(pair.privateKey).toString('hex'),
    publicKey: Buffer.from(pair.publicKey).toString('hex'),
    name: 'Mum',
  },
  toys: {
    format: 'pawlink-paired-toys',
    version: 1,
    toys: [
      {
        toyId: hex(16),
        toyStaticPublicKey: hex(32),
        tagKey: hex(16),
        role: 'admin',
        label: 'Teddy',
        pairedAt: 5,
      },
      {
        toyId: hex(16),
        toyStaticPublicKey: hex(32),
        tagKey: hex(16),
        role: 'member',
        label: '',
        pairedAt: 6,
        lastSeen: 9,
      },
    ],
  },
  uploads: {
    format: 'pawlink-pending-uploads',
    version: 1,
    uploads: [
      {
        toyId: hex(16),
        transferId: 5,
        sha256: hex(32),
        totalBytes: 9,
        source: { kind: 'file', path: '/x.wav' },
        createdAt: 1,
      },
      {
        toyId: '0'.repeat(32),
        transferId: 6,
        sha256: hex(32),
        totalBytes: 9,
        source: { kind: 'stored', file: `uploads/${'0'.repeat(32)}-6.bin` },
        createdAt: 2,
      },
    ],
  },
};

const parsers = {
  identity: (t: string) => parseIdentityFile(t, '/home/identity.json'),
  toys: (t: string) => parseToysFile(t, '/home/toys.json'),
  uploads: (t: string) => parseUploadsFile(t, '/home/uploads.json'),
};

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** `doc` with the value at a path (chosen by indexes) replaced, or removed when `replacement` is undefined. */
function edit(doc: unknown, path: number[], replacement: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || path.length === 0) return replacement;
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return replacement;
  const [key, child] = entries[path[0]! % entries.length]!;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string, unknown>;
  if (path.length === 1 && replacement === undefined) delete copy[key];
  else copy[key] = edit(child, path.slice(1), replacement);
  return copy;
}

function text(kind: keyof typeof valid) {
  return fc.oneof(
    fc.string({ maxLength: 60 }),
    fc
      .tuple(
        fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }),
        fc.oneof(jsonValue, fc.constant(undefined)),
      )
      .map(([path, v]) => JSON.stringify(edit(valid[kind], path, v)) ?? ''),
  );
}

describe('keystore file decoders under fuzzing', () => {
  for (const kind of ['identity', 'toys', 'uploads'] as const) {
    it(`${kind}: random and damaged documents throw only SdkError KEYSTORE_CORRUPT naming the file`, () => {
      expect(() => parsers[kind](JSON.stringify(valid[kind]))).not.toThrow();
      fc.assert(
        fc.property(text(kind), (t) => {
          try {
            parsers[kind](t);
          } catch (e) {
            expect(e).toBeInstanceOf(SdkError);
            expect((e as SdkError).code).toBe('KEYSTORE_CORRUPT');
            expect((e as SdkError).message).toContain(`/home/${kind}.json`);
          }
        }),
        fuzzParams(),
      );
    });
  }
});
