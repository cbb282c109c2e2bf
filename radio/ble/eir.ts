/**
 * The toy's advertising and scan response data (PROTOCOL.md §3), as AD structures
 * (Core Supplement 11, Part A §1): the advertising data holds the Flags and the Complete List of
 * 128-bit Service UUIDs (3 + 18 = 21 of 31 bytes); the scan response holds Service Data – 128-bit
 * UUID for the same service (2 + 16 + at most 13 = 31 bytes). No name: the GAP Device Name stays
 * a fixed product name and never goes on the air in advertisements.
 */
import { ADV_SERVICE_DATA_MAX } from '../../protocol/gatt/constants.js';
import { AD_FLAGS_GENERAL_LE_ONLY, AdType, LEGACY_AD_MAX } from '../constants.js';
import { normalizeUuid, radioError } from '../internal.js';

/** A 128-bit UUID in the little-endian byte order AD structures carry. */
export function uuid128Le(uuid: string): Buffer {
  const hex = normalizeUuid(uuid);
  if (!/^[0-9a-f]{32}$/.test(hex)) throw radioError('BAD_OPTION', `'${uuid}' is not a 128-bit UUID`);
  return Buffer.from(hex, 'hex').reverse();
}

function ad(type: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(data.length + 1, type), data]);
}

export interface AdvertisingPayload {
  advertisingData: Buffer;
  scanResponse: Buffer;
}

/** The advertising data and scan response for `serviceUuid` with `serviceData`. */
export function encodeAdvertisingPayload(serviceUuid: string, serviceData: Uint8Array): AdvertisingPayload {
  if (serviceData.length > ADV_SERVICE_DATA_MAX) {
    throw radioError(
      'ADV_DATA_TOO_LONG',
      `${serviceData.length} bytes of service data exceed the ${ADV_SERVICE_DATA_MAX} a scan response holds`,
    );
  }
  const uuid = uuid128Le(serviceUuid);
  const advertisingData = Buffer.concat([
    ad(AdType.Flags, Buffer.of(AD_FLAGS_GENERAL_LE_ONLY)),
    ad(AdType.CompleteUuid128, uuid),
  ]);
  const scanResponse = ad(AdType.ServiceData128, Buffer.concat([uuid, serviceData]));
  // Both hold by construction; the check guards a change of the constants above.
  if (advertisingData.length > LEGACY_AD_MAX || scanResponse.length > LEGACY_AD_MAX) {
    throw radioError('ADV_DATA_TOO_LONG', 'advertising payload exceeds 31 bytes');
  }
  return { advertisingData, scanResponse };
}
