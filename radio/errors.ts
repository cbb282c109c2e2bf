import { PawLinkError } from '../protocol/errors.js';

/**
 * The radio layer's error (link interfaces, in-memory link, virtual radio, noble/bleno adapters).
 * Codes are stable UPPER_SNAKE strings; tests assert them.
 */
export class RadioError extends PawLinkError {}
