import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { decodeTransferMessage, encodeTransferMessage } from '../../../protocol/transfer/codec.js';
import { generate } from '../../vectors/generate/transfer.js';
import { loadVectors } from '../../vectors/load.js';

interface Step {
  from: 'sender' | 'receiver';
  type: string;
  hex: string;
}
interface TransferVectors {
  messages: { name: string; message: Record<string, unknown>; hex: string }[];
  upload: { sha256: string; content: string; sequence: Step[] };
  resume: { committedBytes: number; first: Step[]; second: Step[] };
}

const vectors = loadVectors<TransferVectors>('transfer');

/** A decoded message as JSON (byte fields as hex), like the vector file writes it. */
function asJson(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(decodeTransferMessage(bytes)))
    out[k] = v instanceof Uint8Array ? toHex(v) : v;
  return out;
}

describe('transfer vectors (test/vectors/transfer.json)', () => {
  it('are reproduced bit for bit by the generator and the reference state machines', () => {
    expect(generate()).toEqual(vectors);
  });

  it.each(vectors.messages.map((v) => [v.name, v] as const))('decode and re-encode: %s', (_name, v) => {
    expect(asJson(fromHex(v.hex))).toEqual(v.message);
    expect(toHex(encodeTransferMessage(decodeTransferMessage(fromHex(v.hex))))).toBe(v.hex);
  });

  it('carry the content in order in the upload blocks, and resume at the committed offset', () => {
    const blocks = vectors.upload.sequence
      .filter((s) => s.type === 'Block')
      .map((s) => decodeTransferMessage(fromHex(s.hex)));
    const data = blocks.map((b) => (b.type === 'Block' ? toHex(b.data) : '')).join('');
    expect(data).toBe(vectors.upload.content);
    const accept = decodeTransferMessage(fromHex(vectors.resume.second[1]!.hex));
    expect(accept).toMatchObject({ type: 'TransferAccept', startOffset: vectors.resume.committedBytes });
    expect(vectors.resume.second.at(-1)!.type).toBe('Done');
  });
});
