/**
 * The audio layer, shared by the simulated toy (firmware-sim/) and the SDK (sdk/), which never import
 * each other: Opus encode/decode between PCM and PawLink voice containers, WAV / Ogg Opus / raw PCM
 * input, resampling, WAV output, and test helpers (a speech-like signal, a correlation measure).
 * Optional hardware (speaker, microphone) lives in firmware-sim/hardware/.
 */
export * from './constants.js';
export { type CorrelateOptions, type CorrelationResult, correlate } from './correlate.js';
export { type DecodedVoice, type DecodeOptions, decodeVoice, VoiceDecoder } from './decode.js';
export {
  type EncodedVoice,
  type EncodeOptions,
  encodeOpusFrames,
  encodeVoice,
  type OnTooLong,
} from './encode.js';
export { AUDIO_ERROR_CODES, AudioError, type AudioErrorCode } from './errors.js';
export {
  type AudioFile,
  decodeOggOpusTo16k,
  parseAudioBytes,
  readAudioFile,
  type VoiceFromInput,
  type VoiceInputOptions,
  voiceFromAudioFile,
  voiceFromFile,
  voiceFromOggOpus,
  voiceFromOpusPackets,
  voiceFromPcm,
} from './input.js';
export { encodeOggOpus, isOgg, type OggOpusStream, type OggOpusWriteInput, readOggOpus } from './ogg.js';
export { inspectOpusPacket, type OpusPacketInfo, parseToc, voicePacketProblem } from './opus-packet.js';
export {
  applyGain,
  deinterleave,
  downmix,
  floatToInt16,
  int16ToFloat,
  int16ToS16le,
  type PcmSamples,
  s16leToInt16,
} from './pcm.js';
export { checkSampleRate, resample, resampledLength } from './resample.js';
export { type SpeechLikeOptions, speechLikeSignal } from './synth.js';
export { encodeWav, readWav, type WavAudio, writeWav } from './wav.js';
