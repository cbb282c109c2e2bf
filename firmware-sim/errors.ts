/**
 * Errors of the simulated toy (`firmware-sim/`). One root, `ToyError`, under PawLink's root error,
 * and `FlashError` for the simulated flash and the key-value store on it. Every code is a stable
 * UPPER_SNAKE string; messages are for people and say what to do.
 *
 * Codes used by the flash, the secure element and the toy's storage:
 *
 * | class | code | when |
 * | --- | --- | --- |
 * | FlashError | POWER_CUT | the simulated power failed during a write (fault hook); the device stays off until a reboot |
 * | FlashError | NOT_ERASED | a program over bytes that are not erased (a bug: flash can only be programmed once per erase) |
 * | FlashError | OUT_OF_BOUNDS | a read, program or erase outside the device |
 * | FlashError | BAD_GEOMETRY | a flash size or page size the simulator does not accept |
 * | FlashError | IMAGE_SIZE_MISMATCH | the flash image file has another size than the simulated flash |
 * | FlashError | IO_ERROR | the flash image file could not be read or written |
 * | FlashError | STATE_IN_USE | another running toy uses the same state directory |
 * | FlashError | WRONG_DEVICE_KEY | the image was written under another device key (another secure element) |
 * | FlashError | CORRUPT_IMAGE | the image holds data but no valid index: damaged or tampered |
 * | FlashError | CORRUPT_VALUE | a stored value fails authentication: damaged or tampered |
 * | FlashError | LAYOUT_MISMATCH | the image was formatted with another page size or index layout |
 * | FlashError | UNSUPPORTED_FORMAT | the image was formatted by another version of the store |
 * | FlashError | FULL | not enough free flash for the values of a commit; nothing was written |
 * | FlashError | INDEX_FULL | the index would not fit its slot; nothing was written |
 * | FlashError | BAD_KEY | a key name that is empty or longer than 255 UTF-8 bytes |
 * | FlashError | BAD_VALUE | a value that is not a Uint8Array, or an unknown batch op |
 * | FlashError | NEEDS_REMOUNT | a write failed part-way; reopen the store (reboot) before writing again |
 * | ToyError | SECURE_ELEMENT_CORRUPT | secure-element.key is damaged |
 * | ToyError | SECURE_ELEMENT_PERMISSIONS | secure-element.key is readable or writable by other users |
 * | ToyError | SECURE_ELEMENT_MISSING | secure-element.key is gone but a flash image written under it exists |
 * | ToyError | SECURE_ELEMENT_IO | secure-element.key could not be read or created |
 * | ToyError | STORAGE_FULL | the toy's message slots or flash are full |
 * | ToyError | NO_PARTIAL | appendPartial for a transfer with no stored partial |
 * | ToyError | BAD_OFFSET | appendPartial at an offset other than the stored length |
 * | ToyError | BAD_KEEP | beginPartial keeping more bytes than are stored |
 * | ToyError | BAD_MESSAGE_ID | completePartial with an id that is not a u32 above 0 |
 * | ToyError | BAD_CLOCK | saveClock with a value that is not a u32 |
 * | ToyError | DUPLICATE_MESSAGE_ID | completePartial with an id that is already stored |
 * | ToyError | IDS_EXHAUSTED | all 2^32 - 1 message ids are used (until a factory reset) |
 * | ToyError | BAD_CONTAINER | a recording that is not a valid voice container |
 * | ToyError | BAD_SETTINGS | a volume or LED mode out of range |
 * | ToyError | CORRUPT_RECORD | a stored record that does not decode |
 * | ToyError | NOT_PROVISIONED | the toy has no identity or pairing state yet |
 * | ToyError | ALREADY_PROVISIONED | provision() on a toy that has an identity |
 */
import { PawLinkError } from '../protocol/errors.js';

/** Root of the simulated toy's errors. */
export class ToyError extends PawLinkError {}

/** The simulated flash device and the encrypted key-value store on it. */
export class FlashError extends ToyError {}
