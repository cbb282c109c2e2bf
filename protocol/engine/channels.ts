import { RecordChannel } from '../session/index.js';
import { isTransferPlaintext } from '../transfer/index.js';

/** Transfer messages travel on the audio channel, application messages on control (PROTOCOL.md §4.4). */
export function channelFor(plaintext: Uint8Array): RecordChannel {
  return isTransferPlaintext(plaintext) ? RecordChannel.Audio : RecordChannel.Control;
}
