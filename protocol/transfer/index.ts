/** Resumable voice transfers, BDX-like (PROTOCOL.md, "Transfers"). */
export {
  type BlockAck,
  type DownloadRequest,
  decodeTransferMessage,
  encodeTransferMessage,
  isTransferPlaintext,
  type TransferAbort,
  type TransferAccept,
  type TransferBlock,
  type TransferDone,
  type TransferEnd,
  type TransferInit,
  type TransferMessage,
} from './codec.js';
export * from './constants.js';
export { type ContentFormat, type ContentScanner, contentFormat } from './content.js';
export {
  type PersistedTransfer,
  type ReceiverOptions,
  type ReceiverOutput,
  type ReceiverState,
  type RestartReason,
  TransferReceiver,
} from './receiver.js';
export {
  newTransferId,
  type SenderOptions,
  type SenderState,
  type TransferProgress,
  TransferSender,
} from './sender.js';
export { abortFor, transferStatusFor, transferStatusName } from './status.js';
