/**
 * PawLink's radio layer: the link interfaces (link.ts) and their implementations — the in-memory
 * link (memory/), the noble/bleno adapters for real adapters or the virtual radio (ble/) — plus the
 * drivers that run the protocol engines over a link (drive.ts). The virtual radio itself is in
 * virtual/ (its own entry point).
 */
export {
  BLE_FAMILIES,
  type BleFamily,
  type BleOptions,
  openBleCentral,
  openBlePeripheral,
  resolveFamily,
  type VirtualHciInstaller,
} from './ble/index.js';
export { ManualClock, type ManualClockOptions, realScheduler, type Scheduler, type Timer } from './clock.js';
export { PhoneDriver, type PhoneDriverOptions, ToyDriver, type ToyDriverOptions } from './drive.js';
export { RadioError } from './errors.js';
export type {
  AdvertiseOptions,
  Central,
  CentralConnection,
  ConnectOptions,
  DisconnectInfo,
  DisconnectReason,
  DiscoveredToy,
  Peripheral,
  PeripheralConnection,
  PeripheralOptions,
  RadioErrorCode,
  ScanOptions,
  Unsubscribe,
} from './link.js';
export * from './memory/index.js';
