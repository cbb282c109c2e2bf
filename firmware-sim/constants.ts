/**
 * Constants of the simulated toy's behaviour (firmware-sim/behaviour.ts, toy.ts, radio.ts), each with
 * its unit and where it comes from. Protocol numbers (pairing window, factory-reset confirmation,
 * Identify blink) live in protocol/ and are imported from there.
 */
import type { LedPattern } from './hardware/led.js';

/** The firmware version the toy reports in Status (major, minor, patch): this package's version. */
export const FIRMWARE_VERSION = { major: 0, minor: 1, patch: 0 } as const;

/**
 * Both paws held together this long (ms) erase the toy with no app involved (product brief: a
 * factory reset needs physical presence; 10 s is long enough not to happen by a child's squeeze).
 * An admin's FactoryResetRequest shortens it to FACTORY_RESET_HOLD_MS (2 s, PROTOCOL.md §8).
 */
export const BOTH_PAWS_RESET_HOLD_MS = 10_000;

/** How long the simulator's "press" keeps a paw down, ms (well under the 1 s press/hold threshold). */
export const PRESS_DOWN_MS = 100;

/** The heart while a new message waits: a slow heartbeat (on 500 ms of every 1000 ms). */
export const LED_NEW_MESSAGE: LedPattern = { mode: 'blink', periodMs: 1_000, onMs: 500 };
/** The heart while the pairing window is open: breathing, 2 s per breath. */
export const LED_PAIRING: LedPattern = { mode: 'pulse', periodMs: 2_000 };
/** The heart while the microphone is on: steady (PROTOCOL.md §8, LED priorities, row 1). */
export const LED_RECORDING: LedPattern = { mode: 'on' };
/**
 * The heart while a factory reset awaits its confirmation: short flashes, 100 ms of every 800 ms,
 * unlike every other pattern (under 3 flashes a second, as every pattern of this toy).
 */
export const LED_RESET_PENDING: LedPattern = { mode: 'blink', periodMs: 800, onMs: 100 };
/**
 * A short signal that something the child asked for cannot be done (a recording that did not fit,
 * a message that would not play): the identify layer blinks this for REFUSAL_SIGNAL_MS.
 */
export const LED_REFUSAL: LedPattern = { mode: 'blink', periodMs: 400, onMs: 50 };
export const REFUSAL_SIGNAL_MS = 2_000;

/** Largest framing window the toy offers (INFO maxWindow, the engine's default). */
export const TOY_FRAMING_WINDOW = 16;

/** Name of the tag ("sticker") file in the state directory. */
export const TAG_FILE = 'tag.json';
