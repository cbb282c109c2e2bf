/**
 * Fuzzing the toy storage's record decoders (sys/counters, sys/catalog, sys/completed,
 * sys/settings, sys/identity, part/<id>): random or damaged records throw only ToyError
 * CORRUPT_RECORD, and whatever decodes re-encodes to exactly the bytes it came from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ToyError } from '../../firmware-sim/errors.js';
import { FlashStore, MemoryFlash } from '../../firmware-sim/flash.js';
import {
  decodeCatalog,
  decodeCompleted,
  decodeCounters,
  decodeIdentity,
  decodePartialRecord,
  decodeSettings,
  encodeSettings,
  ToyFlashStorage,
} from '../../firmware-sim/storage.js';
import { sha256 } from '../../protocol/crypto.js';
import { seededRandom } from '../../protocol/random.js';
import { generateKeyPair } from '../../protocol/session/index.js';
import { fuzzParams } from '../fuzz/config.js';
import { syntheticContainer } from '../protocol/container/synth.js';
import { testSealer } from './flash-helpers.js';

/** One valid record of every kind, as the storage writes them. */
function validRecords(): Map<string, Uint8Array> {
  const store = FlashStore.open(new MemoryFlash({ size: 256 * 256, pageSize: 256 }), testSealer('fuzz'), {
    slotCount: 2,
    slotPages: 8,
  });
  const s = new ToyFlashStorage(store, { partialChunkPages: 4, policy: { slotReserveBytes: 1024 } });
  const random = seededRandom('records');
  s.provision({ staticKeyPair: generateKeyPair(random), pairingState: Uint8Array.of(1) });
  s.saveSettings({ volume: 3, led: { mode: 'blink', periodMs: 1000, onMs: 300 } });
  const content = syntheticContainer(random, 5);
  const init = (transferId: number) => ({
    type: 'TransferInit' as const,
    transferId,
    direction: 0,
    codec: 1,
    totalBytes: content.length,
    sha256: sha256(content),
    startOffset: 0,
  });
  s.beginPartial(init(9), 0);
  s.beginPartial(init(8), 0);
  s.appendPartial(8, 0, content);
  s.completePartial(8, s.allocateMessageId(), content, sha256(content));
  s.storeRecording(content);
  return new Map(store.keys().map((k) => [k, store.get(k)!]));
}

const records = validRecords();
const decoders: Array<[string, (b: Uint8Array) => unknown]> = [
  ['sys/counters', decodeCounters],
  ['sys/catalog', decodeCatalog],
  ['sys/completed', decodeCompleted],
  ['sys/settings', decodeSettings],
  ['sys/identity', decodeIdentity],
  ['part/00000009', (b) => decodePartialRecord(b, 9)],
];

const damaged = (valid: Uint8Array) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.nat(valid.length + 2),
        fc.uint8Array({ maxLength: 3 }),
      )
      .map(([edits, cut, tail]) => {
        const out = new Uint8Array(Math.min(cut, valid.length) + tail.length);
        out.set(valid.subarray(0, cut));
        out.set(tail, Math.min(cut, valid.length));
        for (const [at, v] of edits) if (at < out.length) out[at] = v;
        return out;
      }),
  );

describe('toy storage record decoders under fuzzing', () => {
  for (const [key, decode] of decoders) {
    it(`${key}: random and damaged bytes throw only ToyError CORRUPT_RECORD`, () => {
      const valid = records.get(key)!;
      expect(() => decode(valid)).not.toThrow();
      fc.assert(
        fc.property(damaged(valid), (bytes) => {
          try {
            decode(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(ToyError);
            expect((e as ToyError).code).toBe('CORRUPT_RECORD');
          }
        }),
        fuzzParams(),
      );
    });
  }

  it('settings that decode re-encode to the same bytes (one encoding per value)', () => {
    fc.assert(
      fc.property(damaged(records.get('sys/settings')!), (bytes) => {
        let settings: ReturnType<typeof decodeSettings>;
        try {
          settings = decodeSettings(bytes);
        } catch {
          return;
        }
        expect(encodeSettings(settings)).toEqual(bytes);
      }),
      fuzzParams(),
    );
  });
});
