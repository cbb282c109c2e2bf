import { describe, expect, it } from 'vitest';
import { RadioError } from '../../../radio/errors.js';
import { encodeFrame, Frame, FrameDecoder } from '../../../radio/virtual/wire.js';

describe('air wire frames', () => {
  it('lays out type, port, length and payload, and reassembles frames split anywhere', () => {
    const a = encodeFrame(Frame.Packet, 7, Buffer.from('040e0401030c00', 'hex'));
    expect(a.toString('hex')).toBe('04' + '07000000' + '07000000' + '040e0401030c00');
    const b = encodeFrame(Frame.Detach, 7);
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(frames).toEqual([
        { type: Frame.Packet, port: 7, payload: Buffer.from('040e0401030c00', 'hex') },
        { type: Frame.Detach, port: 7, payload: Buffer.alloc(0) },
      ]);
    }
  });

  it('refuses a frame longer than any H4 packet', () => {
    const header = Buffer.from('04' + '01000000' + '00002000', 'hex');
    expect(() => new FrameDecoder().push(header)).toThrow(RadioError);
  });
});
