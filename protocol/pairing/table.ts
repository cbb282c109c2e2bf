/**
 * The pairing table: up to 16 paired phones, each with its id, static X25519 public key, role and
 * display name. Pure functions over an immutable array; the admin checks live here so that every
 * caller (the pairing window, the application's "pairings" commands) enforces the same rules.
 * PROTOCOL.md, Pairing: "Pairing table and roles".
 */
import { bytesEqual, utf8 } from '../bytes.js';
import { PairingError } from '../errors.js';
import { DEVICE_ID_LEN, MAX_PAIRINGS, NAME_MAX_BYTES, STATIC_KEY_LEN } from './constants.js';

/** What a paired phone may do: an admin adds (opens the window), lists and removes pairings. */
export type Role = 'admin' | 'member';

/** Role numbers on the wire (ToyIdentity) and in the persisted state. 0 is never valid. */
export const RoleCode = { admin: 0x01, member: 0x02 } as const satisfies Record<Role, number>;

/** Maps a wire role number back to a role. @throws PairingError `BAD_ROLE`. */
export function roleFromCode(code: number): Role {
  if (code === RoleCode.admin) return 'admin';
  if (code === RoleCode.member) return 'member';
  throw new PairingError('BAD_ROLE', `unknown role ${code}`);
}

export interface PairingEntry {
  /** 16 random bytes chosen by the phone at install time. */
  readonly phoneId: Uint8Array;
  /** The phone's static X25519 public key: the session layer (Noise IK) authenticates it. */
  readonly phoneStaticPublicKey: Uint8Array;
  readonly role: Role;
  /** Display name for the owner's list, at most 32 UTF-8 bytes; may be empty. */
  readonly name: string;
  /**
   * Paired, but the phone has not yet opened a session, so the toy does not know that it received
   * ToyIdentity (the last pairing message can be lost with the link). Cleared by its first session
   * (`ToyPairing.confirmSession`); a table of provisional entries only does not stop the paw from
   * opening the window (PROTOCOL.md, "Toy state machine"). Absent = confirmed.
   */
  readonly provisional?: true;
}

/** Bit 7 of a persisted entry's role byte: the entry is provisional. */
export const ROLE_PROVISIONAL_BIT = 0x80;

export type PairingTable = readonly PairingEntry[];

/** Checks one entry's field sizes. @throws PairingError `BAD_ENTRY`. */
export function checkEntry(entry: PairingEntry): void {
  if (entry.phoneId.length !== DEVICE_ID_LEN) {
    throw new PairingError('BAD_ENTRY', `phone id must be ${DEVICE_ID_LEN} bytes`);
  }
  if (entry.phoneStaticPublicKey.length !== STATIC_KEY_LEN) {
    throw new PairingError('BAD_ENTRY', `phone static key must be ${STATIC_KEY_LEN} bytes`);
  }
  if (entry.role !== 'admin' && entry.role !== 'member') throw new PairingError('BAD_ENTRY', 'bad role');
  if (utf8.encode(entry.name).length > NAME_MAX_BYTES) {
    throw new PairingError('BAD_ENTRY', `name longer than ${NAME_MAX_BYTES} UTF-8 bytes`);
  }
}

export function findByPhoneId(table: PairingTable, phoneId: Uint8Array): PairingEntry | undefined {
  return table.find((e) => bytesEqual(e.phoneId, phoneId));
}

/** The session layer's question: is this static key a paired phone, and which? */
export function findByStaticKey(table: PairingTable, publicKey: Uint8Array): PairingEntry | undefined {
  return table.find((e) => bytesEqual(e.phoneStaticPublicKey, publicKey));
}

/**
 * The entry of `requesterPhoneId` if it is an admin.
 * @throws PairingError `UNKNOWN_PHONE` (not paired) or `NOT_ADMIN`.
 */
export function requireAdmin(table: PairingTable, requesterPhoneId: Uint8Array): PairingEntry {
  const entry = findByPhoneId(table, requesterPhoneId);
  if (!entry) throw new PairingError('UNKNOWN_PHONE', 'the requesting phone is not paired');
  if (entry.role !== 'admin') throw new PairingError('NOT_ADMIN', 'only an admin phone may do this');
  return entry;
}

/** The table, for an admin. @throws PairingError `UNKNOWN_PHONE` or `NOT_ADMIN`. */
export function listPairings(table: PairingTable, requesterPhoneId: Uint8Array): PairingTable {
  requireAdmin(table, requesterPhoneId);
  return table;
}

/**
 * Adds a freshly paired phone. An entry with the same phone id or the same static key is replaced
 * (a phone pairing again), keeping the stronger role so that re-pairing never demotes an admin nor
 * leaves the table without one. @throws PairingError `BAD_ENTRY` or `TABLE_FULL` (16 other phones).
 */
export function addPairing(table: PairingTable, entry: PairingEntry): PairingTable {
  checkEntry(entry);
  const replaced = table.filter(
    (e) =>
      bytesEqual(e.phoneId, entry.phoneId) || bytesEqual(e.phoneStaticPublicKey, entry.phoneStaticPublicKey),
  );
  const others = table.filter((e) => !replaced.includes(e));
  if (others.length >= MAX_PAIRINGS) throw new PairingError('TABLE_FULL', `at most ${MAX_PAIRINGS} pairings`);
  const role: Role = entry.role === 'admin' || replaced.some((e) => e.role === 'admin') ? 'admin' : 'member';
  return [...others, { ...entry, role }];
}

/** True when a table can take one more new phone. */
export function hasRoom(table: PairingTable): boolean {
  return table.length < MAX_PAIRINGS;
}

/**
 * Removes `targetPhoneId` on an admin's request. Removing the last admin (only possible as an
 * admin removing itself) wipes the whole table: a toy never keeps members nobody can manage.
 * @throws PairingError `UNKNOWN_PHONE` (requester or target not paired) or `NOT_ADMIN`.
 */
export function removePairing(
  table: PairingTable,
  requesterPhoneId: Uint8Array,
  targetPhoneId: Uint8Array,
): { table: PairingTable; wiped: boolean } {
  requireAdmin(table, requesterPhoneId);
  const target = findByPhoneId(table, targetPhoneId);
  if (!target) throw new PairingError('UNKNOWN_PHONE', 'no such pairing');
  const rest = table.filter((e) => e !== target);
  if (!rest.some((e) => e.role === 'admin')) return { table: [], wiped: true };
  return { table: rest, wiped: false };
}
