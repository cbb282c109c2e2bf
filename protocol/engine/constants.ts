/** Engine-level constants: rules that span layers (PROTOCOL.md §4.3). */

/**
 * A connection that has neither begun a pairing attempt nor proven a session (its first record
 * opened) within this time is dropped, so a stranger cannot hold the toy's only connection slot
 * (protocol brief, "Attacks": dropped after 10 s). Milliseconds.
 */
export const AUTH_TIMEOUT_MS = 10_000;

/**
 * Bytes the engine may queue in one framing endpoint: a transfer window (16 KiB of blocks, see
 * transfer/constants.ts DEFAULT_WINDOW) plus record and envelope overhead plus control messages.
 */
export const ENGINE_MAX_QUEUED_BYTES = 64 * 1024;

/**
 * How many completed uploads (transferId → messageId, sha256) the toy remembers, so that a phone
 * whose link dropped before it heard Done gets Done on its retry instead of a duplicate message.
 * A phone retries only its own unfinished uploads, one at a time, so a handful per phone suffices.
 */
export const COMPLETED_TRANSFERS_KEPT = 64;
