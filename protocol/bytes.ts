/**
 * Byte helpers shared by every codec. All multi-byte integers on PawLink's wire are little-endian
 * (as in Matter's BTP and most MCUs). Readers throw the calling layer's error class, never a
 * RangeError, so a truncated or oversized frame is always a typed PawLinkError.
 */
import { type ErrorClass, PawLinkError } from './errors.js';

/** Sequential little-endian reader over a byte array. Never reads past the end. */
export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly error: ErrorClass = PawLinkError,
    private readonly what = 'message',
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n > this.remaining) {
      throw new this.error(
        'TRUNCATED',
        `${this.what} truncated: needed ${n} more byte(s) at offset ${this.pos}, ${this.remaining} left`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const v = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    const lo = BigInt(this.u32());
    const hi = BigInt(this.u32());
    return (hi << 32n) | lo;
  }

  /** Exactly `n` bytes (a copy, so later mutation of the input cannot change decoded values). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything that is left. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** Asserts the input is fully consumed: trailing bytes are an error, not ignored. */
  end(): void {
    if (this.remaining !== 0) {
      throw new this.error(
        'TRAILING_BYTES',
        `${this.what} has ${this.remaining} unexpected trailing byte(s)`,
      );
    }
  }
}

/** Little-endian writer. Out-of-range values throw the layer's error with code `OUT_OF_RANGE`. */
export class Writer {
  private chunks: number[] = [];
  private parts: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly error: ErrorClass = PawLinkError) {}

  private check(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new this.error('OUT_OF_RANGE', `${what} value ${v} is outside 0..${max}`);
    }
  }

  private flush(): void {
    if (this.chunks.length > 0) {
      this.parts.push(Uint8Array.from(this.chunks));
      this.chunks = [];
    }
  }

  u8(v: number): this {
    this.check(v, 0xff, 'u8');
    this.chunks.push(v);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.check(v, 0xffff, 'u16');
    this.chunks.push(v & 0xff, v >>> 8);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.check(v, 0xffffffff, 'u32');
    this.chunks.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) {
      throw new this.error('OUT_OF_RANGE', `u64 value ${v} is outside 0..2^64-1`);
    }
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
    return this;
  }

  bytes(b: Uint8Array): this {
    this.flush();
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  /** Raw bytes with a u8 / u16 length prefix. */
  bytes8(b: Uint8Array): this {
    return this.u8(b.length).bytes(b);
  }

  bytes16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }

  get size(): number {
    return this.length;
  }

  finish(): Uint8Array {
    this.flush();
    return concat(...this.parts);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parses a hex string (whitespace allowed). Throws a PawLinkError on odd length or non-hex. */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new PawLinkError('BAD_HEX', 'not a hex string of whole bytes');
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** Plain equality (not constant-time: use `timingSafeEqual` in crypto.ts for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  /** Strict decode: invalid UTF-8 throws the layer's error. */
  decode: (b: Uint8Array, error: ErrorClass = PawLinkError): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      throw new error('BAD_UTF8', 'string field is not valid UTF-8');
    }
  },
};
