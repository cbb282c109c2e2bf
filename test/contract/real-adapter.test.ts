/**
 * The link contract over real Bluetooth adapters, when PAWLINK_TEST_HCI names them:
 *
 *   PAWLINK_TEST_HCI=0,1 npm test            # the toy (bleno) on hci0, the phone (noble) on hci1
 *   PAWLINK_TEST_HCI=0,1 PAWLINK_BLE_LIB=stoprocent npx vitest run test/contract/real-adapter.test.ts
 *
 * Two adapters, one per role: noble and bleno on one adapter is unreliable (radio.md); a single id
 * ("0") puts both on it anyway. The process needs cap_net_raw and BlueZ must leave the adapters
 * alone (docs/hardware.md). Without PAWLINK_TEST_HCI every case is reported as skipped, by name.
 */
import { openBleCentral, openBlePeripheral, resolveFamily } from '../../radio/ble/index.js';
import { realScheduler } from '../../radio/clock.js';
import { defineLinkContract } from './suite.js';

const spec = process.env.PAWLINK_TEST_HCI;
const [toyHci, phoneHci] = (spec ?? '').split(',').map((s) => Number(s.trim()));
const family = resolveFamily();

defineLinkContract(
  `real adapters (@${family}, ${spec ? `toy hci${toyHci}, phone hci${phoneHci ?? toyHci}` : 'none configured'})`,
  async () => ({
    scheduler: realScheduler,
    openPeripheral: (options) => openBlePeripheral({ ...options, family, hciDeviceId: toyHci! }),
    openCentral: () => openBleCentral({ family, hciDeviceId: phoneHci ?? toyHci! }),
    expectedMtu: 256,
    scanTimeoutMs: 10_000,
    quietScanMs: 2_000,
    supervisionTimeoutMs: 420,
    virtualTime: false,
    close: async () => {},
  }),
  {
    skip: spec ? undefined : 'no real adapter: set PAWLINK_TEST_HCI=<toy hci>,<phone hci> (docs/hardware.md)',
    noFaults: 'a real adapter cannot lose its link on demand',
  },
);
