/**
 * The toy's tag — the sticker sewn into a real toy, printed at the factory with its setup code,
 * discriminator and setup payload (the QR code). The toy itself never stores the code (its flash
 * keeps only the SPAKE2+ verifier, PROTOCOL.md §6): the simulator keeps the sticker as `tag.json`
 * in the state directory, outside the flash image, mode 0600, written once by the simulated
 * factory at first start. The firmware never reads it; only the CLI does, to print it. A factory
 * reset keeps the verifier, so the printed code stays valid for the toy's life.
 *
 * File: `{"format":1,"setupCode":"12345670","discriminator":2652,"setupPayload":"PAWLINK1-A5C-12345670"}`.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PawLinkError } from '../protocol/errors.js';
import { decodeSetupPayload, encodeSetupPayload } from '../protocol/pairing/setup-payload.js';
import { TAG_FILE } from './constants.js';
import { ToyError } from './errors.js';
import { fsyncDir } from './flash.js';

export interface ToyTag {
  /** The 8 digits, canonical (no separators). */
  setupCode: string;
  /** 0..4095. */
  discriminator: number;
  /** `PAWLINK1-DDD-CCCCCCCC`, what the QR code holds. */
  setupPayload: string;
}

const TAG_FORMAT = 1;

/** `12345670` → `1234-5670`, as printed. */
export function formatSetupCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

export function tagPath(stateDir: string): string {
  return join(stateDir, TAG_FILE);
}

/** Makes the tag for a code and discriminator (checks both). @throws PairingError. */
export function makeToyTag(setupCode: string, discriminator: number): ToyTag {
  const setupPayload = encodeSetupPayload({ setupCode, discriminator });
  return { ...decodeSetupPayload(setupPayload), setupPayload };
}

/**
 * Writes the tag durably (temporary file 0600, fsync, rename, directory fsync), replacing any
 * earlier one. @throws ToyError TAG_IO.
 */
export function writeTag(stateDir: string, tag: ToyTag): void {
  const path = tagPath(stateDir);
  const temp = `${path}.${process.pid}.tmp`;
  const body = `${JSON.stringify({ format: TAG_FORMAT, ...tag })}\n`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    fsyncDir(stateDir);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing to clean
    }
    throw new ToyError('TAG_IO', `cannot write the toy's tag ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads the tag, or undefined when there is none. @throws ToyError TAG_CORRUPT (not a tag this
 * simulator wrote), TAG_IO (unreadable).
 */
export function readTag(stateDir: string): ToyTag | undefined {
  const path = tagPath(stateDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ToyError('TAG_IO', `cannot read the toy's tag ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    if (raw.format !== TAG_FORMAT || typeof raw.setupPayload !== 'string') throw new Error('unknown format');
    const tag = makeToyTag(String(raw.setupCode), Number(raw.discriminator));
    if (tag.setupPayload !== raw.setupPayload) throw new Error('the payload does not match the code');
    return tag;
  } catch (e) {
    const why = e instanceof PawLinkError ? e.code : (e as Error).message;
    throw new ToyError('TAG_CORRUPT', `the toy's tag ${path} is damaged (${why})`, { cause: e });
  }
}
