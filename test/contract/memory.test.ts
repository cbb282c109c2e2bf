/** The link contract over the in-memory link, in virtual time. */
import { ManualClock } from '../../radio/clock.js';
import { MemoryAir } from '../../radio/memory/index.js';
import { defineLinkContract } from './suite.js';

defineLinkContract('in-memory link', async () => {
  const scheduler = new ManualClock({ auto: true });
  const air = new MemoryAir({ scheduler });
  return {
    scheduler,
    openPeripheral: async (options) => air.createPeripheral(options),
    openCentral: async () => air.createCentral(),
    expectedMtu: 256,
    scanTimeoutMs: 5_000,
    quietScanMs: 1_000,
    loseLink: () => [...air.links].at(-1)?.drop(),
    supervisionTimeoutMs: air.defaults.supervisionTimeoutMs,
    virtualTime: true,
    close: async () => {},
  };
});
