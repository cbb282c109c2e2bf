/**
 * The simulated PawLink toy: the toy composed from its parts (toy.ts), its behaviour
 * (behaviour.ts), its radio and advertising (radio.ts), its tag (tag.ts) and the `pawlink-sim`
 * command (cli.ts). The parts themselves are in hardware/, storage.ts, flash.ts and
 * secure-element.ts.
 *
 *   import { SimulatedToy } from 'pawlink/firmware-sim';
 *   const toy = await SimulatedToy.start({ stateDir, radio: { kind: 'virtual' } });
 */
export { type BehaviourHost, type BehaviourParts, ToyBehaviour } from './behaviour.js';
export * from './constants.js';
export { FlashError, ToyError } from './errors.js';
export type { PawName, PhoneSummary, ToySimEvent, ToySimEventName, ToyStatusSnapshot } from './events.js';
export { Battery, type BatteryOptions } from './hardware/battery.js';
export { describeLed, HeartLed, LED_LAYERS, type LedLayer, type LedPattern } from './hardware/led.js';
export {
  createMicrophone,
  type MicrophoneSpec,
  parseMicrophoneSpec,
  type ToyMicrophone,
} from './hardware/microphone.js';
export { Paw, PRESS_MAX_MS } from './hardware/paw.js';
export { createSpeaker, parseSpeakerSpec, type SpeakerSpec, type ToySpeaker } from './hardware/speaker.js';
export {
  type AdvertisedState,
  Advertiser,
  type OpenToyRadioOptions,
  openToyRadio,
  type ToyRadio,
  type ToyRadioSpec,
} from './radio.js';
export {
  DEFAULT_SETTINGS,
  defaultStateDir,
  type OpenedToyStorage,
  openToyStorage,
  type StoragePolicy,
  ToyFlashStorage,
  type ToySettings,
} from './storage.js';
export { formatSetupCode, makeToyTag, readTag, type ToyTag, tagPath, writeTag } from './tag.js';
export { SimulatedToy, type SimulatedToyOptions, type TagStatus } from './toy.js';
