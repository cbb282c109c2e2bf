/**
 * The air's wire format between processes (shared-air.ts): H4-like frames on a local stream socket.
 *
 *   type u8 | port u32 LE | length u32 LE | payload
 *
 * `port` names one controller a guest process attached (0 for session messages). Payloads:
 * Hello / Welcome = the wire version (u8); Attach = controller options as JSON; Packet = one H4
 * packet, host → controller or controller → host; Detach and Down carry nothing.
 */
import { RadioError } from '../errors.js';

export const Frame = {
  /** guest → host: the first frame, with the guest's wire version. */
  Hello: 1,
  /** host → guest: the host's wire version. */
  Welcome: 2,
  /** guest → host: attach a controller under this port number. */
  Attach: 3,
  /** both ways: one H4 packet for the controller or its host. */
  Packet: 4,
  /** guest → host: power the controller off. */
  Detach: 5,
  /** host → guest: the controller is gone (power off, air closed). */
  Down: 6,
} as const;

export interface WireFrame {
  type: number;
  port: number;
  payload: Buffer;
}

const HEADER = 9;
/** Frames larger than this are a broken peer, not a big packet (H4 packets are ≤ 64 KiB). */
const MAX_PAYLOAD = 1 << 20;

export function encodeFrame(type: number, port: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(HEADER + payload.length);
  out[0] = type;
  out.writeUInt32LE(port, 1);
  out.writeUInt32LE(payload.length, 5);
  out.set(payload, HEADER);
  return out;
}

/** Reassembles frames from stream chunks; throws RadioError `BAD_AIR_FRAME` on a broken stream. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): WireFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: WireFrame[] = [];
    while (this.pending.length >= HEADER) {
      const length = this.pending.readUInt32LE(5);
      if (length > MAX_PAYLOAD) throw new RadioError('BAD_AIR_FRAME', `air frame of ${length} bytes`);
      if (this.pending.length < HEADER + length) break;
      frames.push({
        type: this.pending[0]!,
        port: this.pending.readUInt32LE(1),
        payload: Buffer.from(this.pending.subarray(HEADER, HEADER + length)),
      });
      this.pending = this.pending.subarray(HEADER + length);
    }
    return frames;
  }
}
