/**
 * Radio-layer constants: the link interfaces, the in-memory link, the drivers and the noble/bleno
 * adapters. Each with its unit and where the number comes from. The virtual radio keeps its own
 * link-model constants in radio/virtual/.
 */

/** Smallest and default ATT_MTU on LE, bytes (Bluetooth Core 5.4 Vol 3 Part G §5.2.1). */
export const ATT_MTU_DEFAULT = 23;
/** Largest ATT_MTU a side may declare, bytes (Core 5.4 Vol 3 Part F §3.2.8: 512-byte values + header). */
export const ATT_MTU_MAX = 517;
/** ATT header of a Write / Write Command / Handle Value Notification: opcode (1) + handle (2), bytes. */
export const ATT_HEADER_LENGTH = 3;
/**
 * The ATT_MTU bleno answers with at most, and the one noble asks for, bytes (radio.md: "bleno's
 * maximum ATT MTU is 256 (noble asks for 256)"; `maxMtu` / `_desired_mtu` in both families).
 */
export const BLE_HOST_MTU = 256;
/**
 * An ATT request not answered within 30 s ends the transaction, and no further ATT request may be
 * sent on that bearer (Core 5.4 Vol 3 Part F §3.3.3). The adapters then drop the link. Milliseconds.
 */
export const ATT_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * noble's default supervision timeout: 0x002a × 10 ms (its LE Create Connection parameters; Core
 * 5.4 Vol 4 Part E §7.8.12). The in-memory link uses it as its default. Milliseconds.
 */
export const DEFAULT_SUPERVISION_TIMEOUT_MS = 420;
/** Default one-way delivery delay of the in-memory link: half of a 15 ms connection interval. Milliseconds. */
export const MEMORY_LATENCY_MS = 7.5;
/** Default advertising interval of the in-memory link (a typical 100 ms legacy advertiser). Milliseconds. */
export const MEMORY_ADVERTISING_INTERVAL_MS = 100;
/** Default RSSI the in-memory link reports, dBm (a toy a metre or two away). */
export const MEMORY_RSSI_DBM = -60;

/** How long a BLE adapter may take to reach `poweredOn` before it counts as absent. Milliseconds. */
export const POWER_ON_TIMEOUT_MS = 5_000;
/** Default limit for connect (link up, MTU exchange, service discovery). Milliseconds. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a local disconnect may take before the adapter gives up waiting for the Disconnection
 * Complete event and reports the link down anyway: beyond any supervision timeout in use (noble's
 * is 420 ms; the spec's longest is 32 s, Core 5.4 Vol 6 Part B §4.5.2, but no PawLink peer uses it).
 * Milliseconds.
 */
export const DISCONNECT_TIMEOUT_MS = 5_000;
/** Limit for starting or stopping advertising and scanning in the host stacks. Milliseconds. */
export const GAP_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Drivers: how long after a protocol engine asks to drop a connection the link is actually
 * dropped, so the values queued before it (an Alert) can leave the host stack first: bleno queues
 * notifications in its own ACL queue, while HCI Disconnect goes straight to the controller.
 * About six 15 ms connection events. Milliseconds.
 */
export const DISCONNECT_GRACE_MS = 100;

/** HCI error codes used as disconnect reasons (Core 5.4 Vol 1 Part F §1.3). */
export const HciReason = {
  /** 0x08 Connection Timeout: the supervision timeout expired (link lost, out of range). */
  ConnectionTimeout: 0x08,
  /** 0x13 Remote User Terminated Connection. */
  RemoteUserTerminated: 0x13,
  /** 0x14 Remote Device Terminated Connection due to Low Resources. */
  RemoteLowResources: 0x14,
  /** 0x15 Remote Device Terminated Connection due to Power Off. */
  RemotePowerOff: 0x15,
  /** 0x16 Connection Terminated By Local Host. */
  LocalHost: 0x16,
  /** 0x3e Connection Failed to be Established. */
  FailedToEstablish: 0x3e,
} as const;

/**
 * Advertising data (AD) types (Bluetooth Assigned Numbers §2.3, "Common Data Types"; the formats
 * in Core Supplement 11, Part A §1).
 */
export const AdType = {
  Flags: 0x01,
  /** Complete List of 128-bit Service Class UUIDs. */
  CompleteUuid128: 0x07,
  /** Service Data – 128-bit UUID. */
  ServiceData128: 0x21,
} as const;
/** Flags AD value: LE General Discoverable Mode | BR/EDR Not Supported (Core Supplement Part A §1.3). */
export const AD_FLAGS_GENERAL_LE_ONLY = 0x06;
/** Legacy advertising and scan response data hold at most 31 bytes each (Core 5.4 Vol 6 Part B §2.3.1.1). */
export const LEGACY_AD_MAX = 31;

/** The environment variable that chooses the BLE library family ('abandonware' | 'stoprocent'). */
export const BLE_LIB_ENV = 'PAWLINK_BLE_LIB';
/** GAP Device Name the toy exposes (PROTOCOL.md §2: a fixed product name, never the child's name). */
export const GAP_DEVICE_NAME = 'PawLink';
