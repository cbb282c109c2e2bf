/**
 * PawLink's error hierarchy: one root, one subclass per protocol layer, each with a stable `code`.
 *
 * Every parser and state machine in `protocol/` throws only these when given bad input, and changes
 * no state when it does. Tests assert the exact class and code. Codes are stable strings (part of
 * the public API; PROTOCOL.md lists them); messages are for people and may change.
 */
export class PawLinkError extends Error {
  /** Stable machine-readable code, e.g. `TRUNCATED`, `BAD_CONFIRMATION`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Framing layer (BTP segments, the framing handshake, windows, timers). */
export class FramingError extends PawLinkError {}
/** Pairing layer (setup codes, SPAKE2+, the pairing window, the pairing table). */
export class PairingError extends PawLinkError {}
/** Session layer (Noise IK handshake, encrypted records). */
export class SessionError extends PawLinkError {}
/** Application message codecs. */
export class MessageError extends PawLinkError {}
/** Voice / data transfers (Init, Accept, Block, BlockAck, End, Done). */
export class TransferError extends PawLinkError {}
/** Stored voice container (header and length-prefixed Opus packets). */
export class ContainerError extends PawLinkError {}
/** The link envelope that says which layer a framed message belongs to. */
export class LinkError extends PawLinkError {}

/** A constructor for one of the layer errors; `Reader` and `Writer` throw the layer's own class. */
export type ErrorClass = new (code: string, message: string) => PawLinkError;
