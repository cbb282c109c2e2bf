/**
 * "There is no command that starts the microphone" (protocol brief, layer 5; product brief: the
 * microphone switches on only by a physical paw press). These tests prove it at the codec: the only
 * things a phone can make the toy decode are the requests of the type table, and none of them
 * drives the microphone. codec.fuzz.test.ts checks the same on random bytes.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../protocol/bytes.js';
import { MessageError } from '../../../protocol/errors.js';
import {
  type AppMessageType,
  decodeAppMessage,
  MESSAGE_TABLE,
  type MessageSpec,
} from '../../../protocol/messages/index.js';
import { loadVectors } from '../../vectors/load.js';

const TABLE = Object.entries(MESSAGE_TABLE) as [AppMessageType, MessageSpec][];
const REQUESTS = new Set(TABLE.filter(([, s]) => s.class === 'request').map(([name]) => name));
const { vectors } = loadVectors<{ vectors: { type: AppMessageType; hex: string }[] }>('messages');

describe('no message turns on the microphone', () => {
  it('no row of the type table drives the microphone', () => {
    for (const [name, spec] of TABLE) expect(spec.drives, name).not.toContain('microphone');
  });

  it('no request is named after recording or the microphone', () => {
    for (const name of REQUESTS) expect(name).not.toMatch(/record|micro|\bmic|listen|capture|audio/i);
  });

  it('the type bytes a toy decodes are exactly the table requests (every byte value tried with a valid body)', () => {
    const bodyFor = new Map(vectors.map((v) => [fromHex(v.hex)[0]!, fromHex(v.hex).subarray(1)]));
    const decodedAtToy = new Set<number>();
    for (let b = 0; b <= 0xff; b++) {
      // A body that is valid for b's type if b is assigned; otherwise a plausible header.
      const rest = bodyFor.get(b) ?? Uint8Array.of(1, 0);
      try {
        const m = decodeAppMessage(Uint8Array.of(b, ...rest), 'toToy');
        decodedAtToy.add(b);
        expect(REQUESTS.has(m.type)).toBe(true);
        expect(MESSAGE_TABLE[m.type].drives).not.toContain('microphone');
      } catch (e) {
        expect(e).toBeInstanceOf(MessageError);
      }
    }
    expect([...decodedAtToy].sort((x, y) => x - y)).toEqual(
      [...REQUESTS].map((t) => MESSAGE_TABLE[t].code).sort((x, y) => x - y),
    );
  });
});
