/**
 * The setup payload: what the toy's tag prints as a QR code next to the 8-digit code, so an app
 * can scan it instead of typing. `PAWLINK1-DDD-CCCCCCCC`: the format version, the 12-bit
 * discriminator as three upper-case hex digits, and the setup code. Only characters of QR's
 * alphanumeric mode (0-9, A-Z, '-'), so the code stays small (PROTOCOL.md §6, "Setup payload").
 */
import { PairingError } from '../errors.js';
import { parseSetupCode } from './setup-code.js';

export const SETUP_PAYLOAD_PREFIX = 'PAWLINK1';

export interface SetupPayload {
  discriminator: number;
  setupCode: string;
}

export function encodeSetupPayload(p: SetupPayload): string {
  if (!Number.isInteger(p.discriminator) || p.discriminator < 0 || p.discriminator > 0xfff) {
    throw new PairingError('BAD_SETUP_PAYLOAD', `discriminator ${p.discriminator} is outside 0..4095`);
  }
  const code = parseSetupCode(p.setupCode);
  return `${SETUP_PAYLOAD_PREFIX}-${p.discriminator.toString(16).toUpperCase().padStart(3, '0')}-${code}`;
}

/** Parses a payload as scanned (case and surrounding spaces forgiven). Typed PairingError otherwise. */
export function decodeSetupPayload(input: string): SetupPayload {
  const m =
    typeof input === 'string' ? /^PAWLINK1-([0-9A-F]{3})-([0-9]{8})$/.exec(input.trim().toUpperCase()) : null;
  if (!m) {
    throw new PairingError(
      'BAD_SETUP_PAYLOAD',
      `a setup payload looks like ${SETUP_PAYLOAD_PREFIX}-A5C-12345670`,
    );
  }
  return { discriminator: Number.parseInt(m[1]!, 16), setupCode: parseSetupCode(m[2]!) };
}

/** What a user typed or scanned: an 8-digit code, or a setup payload (which also names the toy). */
export function parseSetupInput(input: string): { setupCode: string; discriminator?: number } {
  if (typeof input === 'string' && input.trim().toUpperCase().startsWith(SETUP_PAYLOAD_PREFIX)) {
    return decodeSetupPayload(input);
  }
  return { setupCode: parseSetupCode(input) };
}
