/** The PawLink voice container: header + length-prefixed Opus packets (PROTOCOL.md, "Voice container"). */
export * from './constants.js';
export {
  type BlockSpan,
  cutIntoBlocks,
  decodeContainer,
  encodeContainer,
  indexOfBoundary,
  packetBoundaries,
  planBlocks,
  type VoiceContainer,
  type VoiceContainerInput,
} from './container.js';
export {
  type ContainerHeader,
  type ContainerInfo,
  ContainerScanner,
  packetsForSamples,
} from './scanner.js';
