/**
 * A man in the middle on the air: a peripheral that looks exactly like the toy (same service, same
 * service data, same INFO) for the phone, and a raw central connected to the real toy behind it.
 * Every ATT value is forwarded through a hook that may pass it, drop it, duplicate it, hold it back
 * to reorder, or change it; `inject` sends any value either way later (replay). The phone side runs
 * the real bleno stack (through the radio adapter), the toy side the attacker's raw ATT client.
 *
 *   const relay = await Relay.start(lab);
 *   relay.fromPhone = (value, i) => (i === 3 ? [flipBit(value, 17)] : [value]);
 *   const phone = await TestPhone.connect(lab.bench, identity, { address: relay.address });
 */
import { concat } from '../../../protocol/bytes.js';
import { type BtpPacket, decodePacket, encodePacket } from '../../../protocol/framing/codec.js';
import { openBlePeripheral } from '../../../radio/ble/index.js';
import type { Peripheral, PeripheralConnection } from '../../../radio/link.js';
import { installVirtualHci } from '../../../radio/virtual/index.js';
import type { Lab } from './index.js';
import { type RawCentral, type RawConnection, serviceDataOf } from './raw-central.js';

export type Hook = (value: Uint8Array, index: number) => Uint8Array[];

export interface Relayed {
  from: 'phone' | 'toy';
  value: Uint8Array;
  at: number;
}

export class Relay {
  /** Everything each side sent, as it was sent (before the hooks). */
  readonly log: Relayed[] = [];
  /** Phone → toy hook (default: forward as is). */
  fromPhone: Hook = (v) => [v];
  /** Toy → phone hook (default: forward as is). */
  fromToy: Hook = (v) => [v];
  toyConn: RawConnection | undefined;
  phoneConn: PeripheralConnection | undefined;
  #phoneCount = 0;
  #toyCount = 0;
  #toyWrites: Promise<void> = Promise.resolve();

  private constructor(
    readonly lab: Lab,
    readonly eve: RawCentral,
    readonly toyAddress: string,
    readonly peripheral: Peripheral,
    readonly address: string,
  ) {}

  /** Finds the toy, copies its advertisement and INFO, and starts advertising as it. */
  static async start(lab: Lab): Promise<Relay> {
    const { air, scheduler } = lab.bench;
    const eve = lab.attacker();
    const reports = await eve.scan(2_000);
    const toyReport = reports.find((r) => serviceDataOf(r.data) !== undefined);
    if (!toyReport) throw new Error('no toy to relay');
    const serviceData = serviceDataOf(toyReport.data)!;
    const probe = await eve.connect(toyReport.address);
    const info = await probe.readInfo();
    await probe.disconnect();
    const before = new Set(air.controllers.map((c) => c.addressString));
    const peripheral = await openBlePeripheral({
      family: 'abandonware',
      virtual: (f) => {
        installVirtualHci(f, air);
      },
      scheduler,
      info: () => info,
      maxMtu: 247,
    });
    const mine = air.controllers.find((c) => !before.has(c.addressString));
    if (!mine) throw new Error('the relay has no controller');
    const relay = new Relay(lab, eve, toyReport.address, peripheral, mine.addressString);
    peripheral.onConnect((conn) => {
      void relay.#phoneConnected(conn);
    });
    await peripheral.advertise({ serviceData });
    return relay;
  }

  async #phoneConnected(phone: PeripheralConnection): Promise<void> {
    this.phoneConn = phone;
    const pending: Uint8Array[] = [];
    let ready = false;
    const toPhone = (value: Uint8Array) => {
      this.log.push({ from: 'toy', value: value.slice(), at: this.lab.bench.air.now() });
      for (const v of this.fromToy(value, this.#toyCount++)) if (phone.connected) phone.notify(v);
    };
    const forward = (value: Uint8Array, withoutResponse: boolean) => {
      this.log.push({ from: 'phone', value: value.slice(), at: this.lab.bench.air.now() });
      for (const v of this.fromPhone(value, this.#phoneCount++)) this.#toToy(v, !withoutResponse);
    };
    phone.onWrite((value, withoutResponse) => {
      if (ready) forward(value, withoutResponse);
      else pending.push(value);
    });
    const toy = await this.eve.connect(this.toyAddress);
    this.toyConn = toy;
    await toy.exchangeMtu(phone.mtu);
    await toy.subscribe(toPhone);
    toy.onDisconnect(() => void phone.disconnect().catch(() => {}));
    phone.onDisconnect(() => void toy.disconnect().catch(() => {}));
    ready = true;
    // The first write (the framing handshake request) may have come before the toy link was up.
    for (const v of pending.splice(0)) forward(v, false);
  }

  #toToy(value: Uint8Array, withResponse: boolean): void {
    const toy = this.toyConn;
    if (!toy) return;
    this.#toyWrites = this.#toyWrites.then(() => toy.write(value, { withResponse })).catch(() => {});
  }

  /** Sends `value` to one side now, as if the other side had sent it (a replay or a forgery). */
  inject(to: 'toy' | 'phone', value: Uint8Array): void {
    if (to === 'toy') this.#toToy(value, false);
    else if (this.phoneConn?.connected) this.phoneConn.notify(value);
  }

  async close(): Promise<void> {
    await this.toyConn?.disconnect().catch(() => {});
    await this.peripheral.close();
  }
}

/** A copy of `value` with bit `bit` (0 = the first byte's lowest bit) flipped. */
export function flipBit(value: Uint8Array, bit: number): Uint8Array {
  const out = value.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/**
 * The data packets of one direction's ATT values (the framing handshake and anything that does not
 * decode are skipped), and the messages they carry, reassembled: what a passive listener recovers.
 */
export function framedMessages(values: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] | undefined;
  for (const v of values) {
    let p: BtpPacket;
    try {
      p = decodePacket(v);
    } catch {
      continue;
    }
    if (p.kind === 'ack') continue;
    if (p.kind === 'beginning') parts = [p.payload];
    else parts?.push(p.payload);
    if (p.ending && parts) {
      out.push(concat(...parts));
      parts = undefined;
    }
  }
  return out;
}

/**
 * A hook that changes the message of a single-segment packet when `match(message)` holds (the
 * packet is re-encoded with its own header, so framing cannot tell); everything else passes.
 * `times` limits how many messages are changed (default 1).
 */
export function tamper(
  match: (message: Uint8Array) => boolean,
  change: (message: Uint8Array) => Uint8Array,
  times = 1,
): Hook & { changed: number } {
  const hook = ((value: Uint8Array) => {
    if (hook.changed >= times) return [value];
    let p: BtpPacket;
    try {
      p = decodePacket(value);
    } catch {
      return [value];
    }
    if (p.kind !== 'beginning' || !p.ending || !match(p.payload)) return [value];
    hook.changed++;
    const payload = change(p.payload);
    return [encodePacket({ ...p, payload, messageLength: payload.length })];
  }) as unknown as Hook & { changed: number };
  hook.changed = 0;
  return hook;
}
