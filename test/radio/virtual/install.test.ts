/**
 * The installer and the virtual socket as the hosts see them: the module they require, the socket
 * API, the HCI filter, process liveness, and installing too late.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RadioError } from '../../../radio/errors.js';
import { createAir, installVirtualHci } from '../../../radio/virtual/index.js';

const require = createRequire(import.meta.url);

interface SocketLike {
  bindRaw(devId?: number): number;
  setFilter(filter: Buffer): void;
  start(): void;
  stop(): void;
  write(data: Buffer): void;
  isDevUp(): boolean;
  on(event: string, listener: (arg: never) => void): void;
}
type SocketModule = (new () => SocketLike) & { loadDriver(name: string): new () => SocketLike };

const turn = () => new Promise((r) => setImmediate(r));
const keepAlives = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('installVirtualHci', () => {
  it('refuses to install after the family has loaded its HCI code with the real socket', () => {
    require('@abandonware/noble/lib/hci-socket/hci.js');
    const air = createAir({ timeScale: 0 });
    expect(() => installVirtualHci('abandonware', air)).toThrow(
      expect.objectContaining({ name: 'RadioError', code: 'INSTALLED_TOO_LATE' }),
    );
    air.close();
  });

  it("puts the virtual socket where @stoprocent's hosts get theirs; other drivers are a typed error", () => {
    const air = createAir({ timeScale: 0 });
    installVirtualHci('stoprocent', air);
    const mod = require('@stoprocent/bluetooth-hci-socket') as SocketModule;
    expect(mod.loadDriver('default')).toBe(mod);
    expect(mod.loadDriver('native')).toBe(mod);
    expect(() => mod.loadDriver('uart')).toThrow(RadioError);
    air.close();
  });

  it('gives each bound socket a controller of its own, on the air of the latest installation', () => {
    const first = createAir({ timeScale: 0 });
    const second = createAir({ timeScale: 0 });
    installVirtualHci('stoprocent', first);
    const Socket = require('@stoprocent/bluetooth-hci-socket') as SocketModule;
    new Socket().bindRaw(0);
    new Socket().bindRaw(0);
    const hci = installVirtualHci('stoprocent', second, { controller: { label: 'toy' } });
    new Socket().bindRaw(0);
    expect(first.controllers.map((c) => c.addressString)).toEqual(['c0:de:5a:00:00:01', 'c0:de:5a:00:00:02']);
    expect(second.controllers.map((c) => c.label)).toEqual(['toy']);
    hci.close();
    expect(second.controllers).toEqual([]);
    first.close();
    second.close();
  });

  it("applies a raw socket's HCI filter, and holds the process only while started and attached", async () => {
    const air = createAir({ timeScale: 0 });
    installVirtualHci('stoprocent', air);
    const Socket = require('@stoprocent/bluetooth-hci-socket') as SocketModule;
    const socket = new Socket();
    const data: Buffer[] = [];
    const errors: Error[] = [];
    socket.on('data', (d: Buffer) => data.push(d));
    socket.on('error', (e: Error) => errors.push(e));
    socket.bindRaw();
    const filter = Buffer.alloc(14);
    filter.writeUInt32LE(1 << 4, 0); // events only
    filter.writeUInt32LE(1 << 0x0e, 4); // Command Complete only
    socket.setFilter(filter);
    const before = keepAlives();
    socket.start();
    expect(keepAlives()).toBe(before + 1);
    expect(socket.isDevUp()).toBe(true);
    socket.write(Buffer.from('01091000', 'hex')); // Read BD_ADDR: Command Complete
    socket.write(Buffer.from('0106040300000013', 'hex')); // Disconnect: Command Status, filtered
    while (!air.scheduler.idle) await turn();
    expect(data.map((d) => d.subarray(0, 2).toString('hex'))).toEqual(['040e']);

    socket.stop(); // the host is done: the controller powers off
    expect(keepAlives()).toBe(before);
    expect(air.controllers).toEqual([]);
    expect(socket.isDevUp()).toBe(false);
    socket.write(Buffer.from('01091000', 'hex'));
    expect(errors.map((e) => e.message)).toEqual(['Network is down']);
    air.close();
  });

  it("makes the device poll the hosts arm right after isDevUp() unref'd, and only that one", async () => {
    const air = createAir({ timeScale: 0 });
    installVirtualHci('stoprocent', air);
    const Socket = require('@stoprocent/bluetooth-hci-socket') as SocketModule;
    const socket = new Socket();
    socket.bindRaw();
    socket.isDevUp();
    const poll = setTimeout(() => {}, 1000);
    await Promise.resolve();
    const later = setTimeout(() => {}, 1000);
    expect([poll.hasRef(), later.hasRef()]).toEqual([false, true]);
    clearTimeout(poll);
    clearTimeout(later);
    air.close();
  });
});
