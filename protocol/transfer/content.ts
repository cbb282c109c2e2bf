/**
 * What a transfer may carry, per codec: its size limits, how to validate it in flight and where its
 * block boundaries are. Codec 1 (voice container) is the only one today; codec 2 (firmware images)
 * will add an entry here with its own limit and validator, without touching the state machines.
 */
import { packetBoundaries } from '../container/container.js';
import { ContainerScanner } from '../container/scanner.js';
import { PawLinkError, TransferError } from '../errors.js';
import { CODEC_LIMITS, TransferCodec } from './constants.js';

/** Validates a content as it arrives; `push` is atomic (throws and changes nothing, or accepts all). */
export interface ContentScanner {
  /** Accepts the next bytes; with `requireBoundary`, refuses bytes that end inside a unit. */
  push(chunk: Uint8Array, requireBoundary: boolean): unknown;
  /** Throws if the bytes accepted so far are not a complete, valid content. */
  finish(): unknown;
}

export interface ContentFormat {
  codec: number;
  /** Smallest valid content in bytes. */
  minBytes: number;
  /** Largest content in bytes accepted at TransferInit. */
  maxBytes: number;
  /** Validates a whole content and returns its block boundaries (ascending, from 0 to its length). */
  boundaries(content: Uint8Array): number[];
  /** A fresh in-flight validator. */
  scanner(): ContentScanner;
}

const VOICE: ContentFormat = {
  codec: TransferCodec.VoiceContainer,
  ...CODEC_LIMITS[TransferCodec.VoiceContainer]!,
  boundaries: packetBoundaries,
  scanner: () => new ContainerScanner(),
};

/** The format for a codec byte, or undefined when this implementation does not support it. */
export function contentFormat(codec: number): ContentFormat | undefined {
  return codec === TransferCodec.VoiceContainer ? VOICE : undefined;
}

/**
 * Runs a content validator step and turns its layer error (ContainerError...) into a TransferError,
 * keeping the original as `cause`: a transfer API throws only TransferError. `code` is the new code,
 * or a function of the original code.
 */
export function asTransferError<T>(
  code: string | ((inner: string) => string),
  what: string,
  step: () => T,
): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof TransferError || !(e instanceof PawLinkError)) throw e;
    const mapped = typeof code === 'string' ? code : code(e.code);
    throw new TransferError(mapped, `${what}: ${e.code}: ${e.message}`, { cause: e });
  }
}
