/**
 * The virtual radio: user-space LE controllers on a shared air, installed at the HCI-socket seam of
 * noble and bleno (both library families), with a link model and fault hooks. README: MODEL.md.
 */
export {
  Air,
  type AirEndpoint,
  type AirEvents,
  type AirOptions,
  type ControllerPort,
  createAir,
} from './air.js';
export { Connection, type ConnectionStats } from './connection.js';
export { HciStatus } from './constants.js';
export { Controller, type ControllerOptions, type HostPort } from './controller.js';
export { installVirtualHci, type VirtualHci, type VirtualHciOptions } from './install.js';
export {
  type AclBuffers,
  checkLinkParameters,
  exchangeUs,
  type LinkParameters,
  linkThroughput,
  type Phy,
  pduAirtimeUs,
  type Throughput,
} from './link-model.js';
export { type Clock, Scheduler } from './scheduler.js';
export { connectToSharedAir, type SharedAir, type SharedAirOptions, sharedAirPath } from './shared-air.js';
export type { HciFamily } from './socket.js';
