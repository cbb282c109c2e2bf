/**
 * Virtual radio constants: the HCI numbers the virtual controller speaks and the link-layer timing
 * it models.
 *
 * "Core Vol x Part y §z" is the Bluetooth Core Specification 5.4. "radio.md" is the project's
 * measurement notes on noble and bleno (shared/design/radio.md). "PawLink" marks a default chosen
 * here; MODEL.md explains the link model built from these numbers.
 */

/** H4 packet indicators: the first byte of every packet on an HCI socket (Core Vol 4 Part A §2). */
export const H4 = {
  Command: 0x01,
  Acl: 0x02,
  Event: 0x04,
} as const;

/** HCI opcode = OGF << 10 | OCF (Core Vol 4 Part E §5.4.1). */
export function opcode(ogf: number, ocf: number): number {
  return (ogf << 10) | ocf;
}

/** The commands the virtual controller answers (Core Vol 4 Part E §7.1–§7.8; 0xFC06 vendor). */
export const Op = {
  Disconnect: opcode(0x01, 0x0006),
  SetEventMask: opcode(0x03, 0x0001),
  Reset: opcode(0x03, 0x0003),
  ReadLeHostSupported: opcode(0x03, 0x006c),
  WriteLeHostSupported: opcode(0x03, 0x006d),
  ReadLocalVersion: opcode(0x04, 0x0001),
  ReadLocalSupportedFeatures: opcode(0x04, 0x0003),
  ReadBufferSize: opcode(0x04, 0x0005),
  ReadBdAddr: opcode(0x04, 0x0009),
  ReadRssi: opcode(0x05, 0x0005),
  LeSetEventMask: opcode(0x08, 0x0001),
  LeReadBufferSize: opcode(0x08, 0x0002),
  LeReadLocalSupportedFeatures: opcode(0x08, 0x0003),
  LeSetRandomAddress: opcode(0x08, 0x0005),
  LeSetAdvertisingParameters: opcode(0x08, 0x0006),
  LeReadAdvertisingTxPower: opcode(0x08, 0x0007),
  LeSetAdvertisingData: opcode(0x08, 0x0008),
  LeSetScanResponseData: opcode(0x08, 0x0009),
  LeSetAdvertisingEnable: opcode(0x08, 0x000a),
  LeSetScanParameters: opcode(0x08, 0x000b),
  LeSetScanEnable: opcode(0x08, 0x000c),
  LeCreateConnection: opcode(0x08, 0x000d),
  LeCreateConnectionCancel: opcode(0x08, 0x000e),
  LeReadFilterAcceptListSize: opcode(0x08, 0x000f),
  LeClearFilterAcceptList: opcode(0x08, 0x0010),
  LeConnectionUpdate: opcode(0x08, 0x0013),
  LeReadRemoteFeatures: opcode(0x08, 0x0016),
  LeEnableEncryption: opcode(0x08, 0x0019),
  LeLtkRequestReply: opcode(0x08, 0x001a),
  LeLtkRequestNegativeReply: opcode(0x08, 0x001b),
  LeReadSupportedStates: opcode(0x08, 0x001c),
  LeSetDataLength: opcode(0x08, 0x0022),
  LeReadSuggestedDefaultDataLength: opcode(0x08, 0x0023),
  LeWriteSuggestedDefaultDataLength: opcode(0x08, 0x0024),
  LeReadMaximumDataLength: opcode(0x08, 0x002f),
  LeReadPhy: opcode(0x08, 0x0030),
  LeSetDefaultPhy: opcode(0x08, 0x0031),
  LeSetPhy: opcode(0x08, 0x0032),
  /** Zephyr / Linux Foundation "Write BD_ADDR" (@stoprocent's vs.js sends it for manufacturer 0x05F1). */
  VendorWriteBdAddr: opcode(0x3f, 0x0006),
} as const;

/** Event codes (Core Vol 4 Part E §7.7). */
export const Evt = {
  DisconnectionComplete: 0x05,
  EncryptionChange: 0x08,
  CommandComplete: 0x0e,
  CommandStatus: 0x0f,
  NumberOfCompletedPackets: 0x13,
  LeMeta: 0x3e,
} as const;

/** LE Meta subevent codes (Core Vol 4 Part E §7.7.65). */
export const LeEvt = {
  ConnectionComplete: 0x01,
  AdvertisingReport: 0x02,
  ConnectionUpdateComplete: 0x03,
  ReadRemoteFeaturesComplete: 0x04,
  DataLengthChange: 0x07,
  EnhancedConnectionComplete: 0x0a,
  PhyUpdateComplete: 0x0c,
} as const;

/** HCI error codes (Core Vol 1 Part F §1.3). */
export const HciStatus = {
  Success: 0x00,
  UnknownCommand: 0x01,
  UnknownConnectionId: 0x02,
  ConnectionTimeout: 0x08,
  CommandDisallowed: 0x0c,
  UnsupportedFeature: 0x11,
  InvalidParameters: 0x12,
  RemoteUserTerminated: 0x13,
  LocalHostTerminated: 0x16,
  UnsupportedRemoteFeature: 0x1a,
} as const;

/** Advertising PDU types as HCI names them in LE Set Advertising Parameters (Core Vol 4 Part E §7.8.5). */
export const AdvType = {
  AdvInd: 0x00,
  AdvDirectIndHigh: 0x01,
  AdvScanInd: 0x02,
  AdvNonconnInd: 0x03,
  AdvDirectIndLow: 0x04,
} as const;

/** Event_Type of a legacy LE Advertising Report (Core Vol 4 Part E §7.7.65.2). */
export const ReportType = {
  AdvInd: 0x00,
  AdvDirectInd: 0x01,
  AdvScanInd: 0x02,
  AdvNonconnInd: 0x03,
  ScanRsp: 0x04,
} as const;

/** Packet_Boundary_Flag of an HCI ACL data packet (Core Vol 4 Part E §5.4.2). */
export const PacketBoundary = {
  FirstNonFlushable: 0b00,
  Continuing: 0b01,
  FirstFlushable: 0b10,
} as const;

/** Link-layer PDU LLID of a data channel PDU (Core Vol 6 Part B §2.4). */
export const Llid = {
  Continuation: 0b01,
  Start: 0b10,
} as const;

/** Role in LE Connection Complete (Core Vol 4 Part E §7.7.65.1). */
export const Role = { Central: 0x00, Peripheral: 0x01 } as const;

/** Event_Mask after HCI_Reset (Core Vol 4 Part E §7.3.1): bits 0–44, LE Meta (bit 61) off. */
export const DEFAULT_EVENT_MASK = 0x00001fffffffffffn;
/** Event_Mask of a controller the kernel has already brought up (BlueZ enables LE Meta). PawLink. */
export const KERNEL_EVENT_MASK = DEFAULT_EVENT_MASK | (1n << 61n);
/** LE_Event_Mask after HCI_Reset: subevents 0x01–0x05 (Core Vol 4 Part E §7.8.1). */
export const DEFAULT_LE_EVENT_MASK = 0x1fn;

/** Event_Mask bit of Disconnection Complete and of LE Meta (Core Vol 4 Part E §7.3.1). */
export const EventMaskBit = { DisconnectionComplete: 4n, LeMeta: 61n } as const;

/** HCI version reported by Read Local Version: 0x09 = Core 5.0 (Assigned Numbers §2.1). */
export const HCI_VERSION = 0x09;
/** Company identifier 0x05F1 = The Linux Foundation (as Zephyr controllers report; Assigned Numbers). */
export const MANUFACTURER_ID = 0x05f1;

/** LE features bits (Core Vol 6 Part B §4.6): data packet length extension, LE 2M PHY. */
export const LeFeature = { DataLengthExtension: 5, Le2mPhy: 8 } as const;

/** Smallest and largest LE data channel payload, octets (Core Vol 6 Part B §2.4, §4.5.10). */
export const MIN_DATA_LENGTH = 27;
export const MAX_DATA_LENGTH = 251;

/** Inter-frame space, µs (Core Vol 6 Part B §4.1.1). */
export const T_IFS_US = 150;

/**
 * Octets on air around a data channel PDU's payload, unencrypted (Core Vol 6 Part B §2.1):
 * preamble (1 on 1M, 2 on 2M) + access address 4 + header 2 + CRC 3.
 */
export const PDU_OVERHEAD_OCTETS = { '1M': 10, '2M': 11 } as const;
/** Symbol rate, bits per µs (Core Vol 6 Part A §3.1). */
export const PHY_BITS_PER_US = { '1M': 1, '2M': 2 } as const;

/** Connection interval unit and advertising/scan interval unit, ms (Core Vol 6 Part B §4.5.1, §4.4.2.2). */
export const CONN_INTERVAL_UNIT_MS = 1.25;
export const ADV_INTERVAL_UNIT_MS = 0.625;
/** Supervision timeout unit, ms (Core Vol 4 Part E §7.8.12). */
export const SUPERVISION_TIMEOUT_UNIT_MS = 10;
/** Connection interval limits, ms (Core Vol 6 Part B §4.5.1). */
export const MIN_CONN_INTERVAL_MS = 7.5;
export const MAX_CONN_INTERVAL_MS = 4000;
/** advDelay: a random 0–10 ms added to every advertising interval (Core Vol 6 Part B §4.4.2.2.1). */
export const MAX_ADV_DELAY_MS = 10;
/** The first connection event follows CONNECT_IND after transmitWindowDelay = 1.25 ms (Core Vol 6 Part B §4.5.3). */
export const TRANSMIT_WINDOW_DELAY_MS = 1.25;
/** An LL control procedure (data length, PHY, connection update) completes this many events later. PawLink. */
export const CONTROL_PROCEDURE_EVENTS = 2;
/** A connection update takes effect at an instant at least 6 events later (Core Vol 6 Part B §5.1.1). */
export const CONNECTION_UPDATE_EVENTS = 6;

/** Default link and controller parameters. PawLink (MODEL.md). */
export const Defaults = {
  /** Connection interval the central's controller picks within the host's range, ms (protocol.md: 15 ms). */
  connectionIntervalMs: 15,
  /** PDUs per connection event and direction (phones: 4–6, protocol.md link budget). */
  maxPdusPerEvent: 6,
  /** LE data length the controllers support and negotiate at connection, octets (27 = no DLE). */
  dataLength: MAX_DATA_LENGTH,
  /** PHY the controllers switch to after connecting. */
  phy: '1M',
  /**
   * LE ACL buffers the controller offers its host (LE Read Buffer Size): payload octets and count.
   * 12 buffers let a 15 ms event on 2M carry its 10 full PDUs (MODEL.md, "Buffers").
   */
  aclBufferLength: 251,
  aclBufferCount: 12,
  /** RSSI other controllers see for this one, dBm. */
  rssiDbm: -50,
  /** Extra one-way delay added to every data PDU delivered, ms. */
  latencyMs: 0,
} as const;

/** First connection handle a controller hands out (0 is avoided: bleno tests `if (handle)`). */
export const FIRST_CONNECTION_HANDLE = 0x0040;
/** Public addresses the air hands out: this prefix then a 24-bit counter (a locally chosen OUI). PawLink. */
export const ADDRESS_PREFIX = [0xc0, 0xde, 0x5a] as const;

/** Socket file name and directory of the shared air (PawLink; see shared-air.ts). */
export const SHARED_AIR_DIR_PREFIX = 'pawlink-';
export const SHARED_AIR_DEFAULT_NAME = 'default';
/** Environment variable naming the shared air a process joins. */
export const SHARED_AIR_ENV = 'PAWLINK_AIR';
/** Version of the air wire protocol between processes. */
export const AIR_WIRE_VERSION = 1;
