/**
 * PawLink protocol version. It appears in the INFO characteristic, the advertisement and the
 * session prologue, so two sides that disagree on it can never complete a session. Bump it with
 * any incompatible change to PROTOCOL.md.
 */
export const PROTOCOL_VERSION = 1;
