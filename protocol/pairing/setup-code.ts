/**
 * Setup codes (8 decimal digits, printed on the toy's tag) and the 12-bit discriminator.
 *
 * Codes are drawn uniformly from the 10^8 eight-digit strings by rejection sampling, minus the
 * forbidden ones; a person's input is normalised (separators removed) and checked against the same
 * rules before anything is derived from it. PROTOCOL.md, Pairing: "Setup code and discriminator".
 */
import { PairingError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  DISCRIMINATOR_MAX,
  FORBIDDEN_SETUP_CODES,
  SETUP_CODE_DIGITS,
  SETUP_CODE_MAX_INPUT,
  SETUP_CODE_SEPARATORS,
} from './constants.js';

const CODE_SPACE = 10 ** SETUP_CODE_DIGITS;
/**
 * Largest multiple of 10^8 that fits in a u32 (42 · 10^8). A u32 draw below it, reduced mod 10^8,
 * is uniform; draws at or above it are thrown away and redrawn (probability ≈ 2.2 %).
 */
const REJECTION_LIMIT = Math.floor(0x1_0000_0000 / CODE_SPACE) * CODE_SPACE;
const FORBIDDEN = new Set(FORBIDDEN_SETUP_CODES);
const SEPARATORS = new Set(SETUP_CODE_SEPARATORS);

/** True for the codes that are never generated nor accepted (`FORBIDDEN_SETUP_CODES`). */
export function isForbiddenSetupCode(code: string): boolean {
  return FORBIDDEN.has(code);
}

function u32be(b: Uint8Array): number {
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/**
 * A fresh setup code: 8 ASCII digits, uniform over every allowed code. Each candidate is a
 * big-endian u32 from `random`, kept only if below 42·10^8 (so the reduction mod 10^8 has no bias)
 * and not forbidden.
 */
export function generateSetupCode(random: RandomSource): string {
  for (;;) {
    const v = u32be(random(4));
    if (v >= REJECTION_LIMIT) continue;
    const code = String(v % CODE_SPACE).padStart(SETUP_CODE_DIGITS, '0');
    if (!FORBIDDEN.has(code)) return code;
  }
}

/**
 * Normalises and checks a setup code typed or scanned by a person. ASCII spaces and hyphens are
 * allowed anywhere and removed; what remains must be exactly 8 ASCII digits and not a forbidden code.
 * Returns the canonical 8-digit string, the only form the PBKDF ever sees.
 *
 * @throws PairingError `BAD_SETUP_CODE` (other characters, wrong digit count, over-long input) or
 *   `FORBIDDEN_SETUP_CODE`.
 */
export function parseSetupCode(input: string): string {
  if (typeof input !== 'string' || input.length > SETUP_CODE_MAX_INPUT) {
    throw new PairingError('BAD_SETUP_CODE', `a setup code is ${SETUP_CODE_DIGITS} digits`);
  }
  let digits = '';
  for (const ch of input) {
    if (SEPARATORS.has(ch)) continue;
    if (ch < '0' || ch > '9') {
      throw new PairingError('BAD_SETUP_CODE', 'a setup code holds only digits, spaces and hyphens');
    }
    digits += ch;
  }
  if (digits.length !== SETUP_CODE_DIGITS) {
    throw new PairingError(
      'BAD_SETUP_CODE',
      `a setup code is ${SETUP_CODE_DIGITS} digits, got ${digits.length}`,
    );
  }
  if (FORBIDDEN.has(digits)) {
    throw new PairingError('FORBIDDEN_SETUP_CODE', 'this setup code is too easy to guess and never valid');
  }
  return digits;
}

/** A fresh 12-bit discriminator (0..4095): the low 12 bits of a u16, uniform since 4096 divides 65536. */
export function generateDiscriminator(random: RandomSource): number {
  const b = random(2);
  return ((b[0]! << 8) | b[1]!) & DISCRIMINATOR_MAX;
}
