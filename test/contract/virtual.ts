/**
 * The virtual radio as a contract transport: the unmodified noble and bleno of one family, through
 * the adapters in radio/ble/, on a fresh in-process air per test, in virtual time (the air's clock
 * runs the adapters' scan and connect timeouts and the engines' timers).
 */

import { type BleFamily, openBleCentral, openBlePeripheral } from '../../radio/ble/index.js';
import type { Scheduler } from '../../radio/clock.js';
import { createAir, installVirtualHci } from '../../radio/virtual/index.js';
import type { ContractTransport } from './suite.js';

export function virtualTransport(family: BleFamily): () => Promise<ContractTransport> {
  return async () => {
    const air = createAir({ timeScale: 0 });
    const scheduler: Scheduler = {
      now: () => air.now(),
      setTimer: (fn, delayMs) => air.scheduler.after(delayMs, fn),
    };
    const virtual = (f: BleFamily) => {
      installVirtualHci(f, air);
    };
    const ble = { family, virtual, scheduler };
    return {
      scheduler,
      openPeripheral: (options) => openBlePeripheral({ ...ble, ...options }),
      openCentral: () => openBleCentral(ble),
      expectedMtu: 256,
      scanTimeoutMs: 5_000,
      quietScanMs: 1_000,
      loseLink: () => air.connections.at(-1)?.lose(),
      get supervisionTimeoutMs() {
        return air.connections.at(-1)?.supervisionTimeoutMs ?? 420;
      },
      virtualTime: true,
      close: async () => air.close(),
    };
  };
}
