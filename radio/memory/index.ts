/** The in-memory link (see air.ts). */
export {
  MemoryAir,
  type MemoryAirOptions,
  MemoryCentral,
  MemoryCentralConnection,
  type MemoryCentralOptions,
  MemoryLink,
  type MemoryLinkOptions,
  type MemoryLinkStats,
  MemoryPeripheral,
  MemoryPeripheralConnection,
  type MemoryPeripheralOptions,
} from './air.js';
