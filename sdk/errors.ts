/**
 * Errors of the app-side SDK (`sdk/`): one class, `SdkError`, under PawLink's root error, with
 * stable UPPER_SNAKE codes. Messages say which file or input is at fault and what to do; they
 * never contain a key or other secret.
 *
 * Keystore codes:
 *
 * | code | when |
 * | --- | --- |
 * | KEYSTORE_CORRUPT | a keystore file does not parse or breaks its schema (left untouched) |
 * | KEYSTORE_UNREADABLE | a keystore file or directory cannot be read (permissions, I/O) |
 * | KEYSTORE_PERMISSIONS | a keystore file is accessible to other users (it must be 0600) |
 * | KEYSTORE_INSECURE_DIR | the keystore directory is writable by other users |
 * | KEYSTORE_WRITE_FAILED | a keystore file could not be written (the old one is intact) |
 * | BAD_NAME | a phone name or toy label that is too long or holds control characters |
 * | BAD_INPUT | a malformed argument (wrong id length, transfer id out of range) |
 * | UNKNOWN_TOY | an operation on a toy that is not in the keystore |
 * | UPLOAD_CONTENT_MISSING | the content of a pending upload can no longer be read |
 */
import { PawLinkError } from '../protocol/errors.js';

/** Root of the SDK's errors. */
export class SdkError extends PawLinkError {}
