import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import {
  type AppMessage,
  type AppMessageType,
  decodeAppMessage,
  encodeAppMessage,
  MESSAGE_TABLE,
} from '../../../protocol/messages/index.js';
import { generate, type MessageVectorFile, messageFromJson } from '../../vectors/generate/messages.js';
import { loadVectors } from '../../vectors/load.js';

const file = loadVectors<MessageVectorFile>('messages');

describe('test/vectors/messages.json', () => {
  it('is exactly what generate/messages.ts produces today (bit for bit)', () => {
    expect(generate()).toStrictEqual(file);
  });

  it('holds at least one vector of every message type, with a source', () => {
    expect(file.source).toMatch(/generate\/messages\.ts/);
    const covered = new Set(file.vectors.map((v) => v.type));
    expect([...covered].sort()).toEqual((Object.keys(MESSAGE_TABLE) as AppMessageType[]).sort());
  });

  for (const v of file.vectors) {
    it(`${v.name}: the hex decodes to the listed message and the message encodes to the hex`, () => {
      const message = messageFromJson(v.message) as AppMessage;
      const bytes = fromHex(v.hex);
      expect(bytes[0]).toBe(MESSAGE_TABLE[v.type].code);
      expect(decodeAppMessage(bytes, v.direction)).toStrictEqual(message);
      expect(toHex(encodeAppMessage(message, v.direction))).toBe(v.hex);
    });
  }
});
