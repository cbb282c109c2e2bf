/**
 * Choosing a BLE library family and turning what goes wrong with host stacks into RadioErrors
 * that say what to do (radio/ble/family.ts, host.ts).
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BleFamily,
  hostError,
  loadFresh,
  ProcessListenerTrap,
  preflightAdapter,
  resolveFamily,
  withEnv,
} from '../../../radio/ble/family.js';
import { disconnectReason, platformBindings, waitForPowerOn } from '../../../radio/ble/host.js';
import { realScheduler } from '../../../radio/clock.js';
import { RadioError } from '../../../radio/errors.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RadioError);
    return (e as RadioError).code;
  }
  return undefined;
}

describe('choosing the family', () => {
  it('defaults to @abandonware, takes PAWLINK_BLE_LIB, and an option over both', () => {
    expect(resolveFamily(undefined, {})).toBe('abandonware');
    expect(resolveFamily(undefined, { PAWLINK_BLE_LIB: '' })).toBe('abandonware');
    expect(resolveFamily(undefined, { PAWLINK_BLE_LIB: 'stoprocent' })).toBe('stoprocent');
    expect(resolveFamily('abandonware', { PAWLINK_BLE_LIB: 'stoprocent' })).toBe('abandonware');
  });

  it('refuses an unknown family with BAD_OPTION, naming where it came from', () => {
    let e: unknown;
    try {
      resolveFamily(undefined, { PAWLINK_BLE_LIB: 'bluez' });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(RadioError);
    expect((e as RadioError).code).toBe('BAD_OPTION');
    expect((e as RadioError).message).toContain('PAWLINK_BLE_LIB');
    expect(code(() => resolveFamily('noble'))).toBe('BAD_OPTION');
  });

  it('a family that is not installed is LIBRARY_MISSING, with the npm command', () => {
    let e: unknown;
    try {
      loadFresh('nonexistent' as BleFamily, 'noble', ['index.js']);
    } catch (err) {
      e = err;
    }
    expect((e as RadioError).code).toBe('LIBRARY_MISSING');
    expect((e as RadioError).message).toContain('npm install @nonexistent/noble');
  });
});

describe('host errors', () => {
  const errno = (c: string) => Object.assign(new Error(`${c}, something`), { code: c });
  it.each([
    ['EAFNOSUPPORT', 'NO_ADAPTER', 'virtual radio'],
    ['ENODEV', 'NO_ADAPTER', 'hci3 does not exist'],
    ['EPERM', 'NO_PERMISSION', 'setcap cap_net_raw'],
    ['EACCES', 'NO_PERMISSION', 'setcap cap_net_raw'],
    ['EBUSY', 'NO_PERMISSION', 'BlueZ'],
    ['MODULE_NOT_FOUND', 'LIBRARY_MISSING', 'npm rebuild'],
    ['EIO', 'HOST_ERROR', 'EIO'],
  ])('%s becomes %s with advice', (errnoCode, radioCode, advice) => {
    const e = hostError(errno(errnoCode), 'abandonware', 'noble', 3);
    expect(e).toBeInstanceOf(RadioError);
    expect(e.code).toBe(radioCode);
    expect(e.message).toContain(advice);
  });

  it('an errno found only in the message counts too (native modules put it there)', () => {
    expect(
      hostError(new Error('EAFNOSUPPORT, Address family not supported'), 'stoprocent', 'bleno').code,
    ).toBe('NO_ADAPTER');
  });

  it('maps HCI disconnect reasons: 0x16 local, 0x13–0x15 remote, timeouts and the rest link-lost', () => {
    expect(disconnectReason(0x16)).toBe('local');
    expect([0x13, 0x14, 0x15].map(disconnectReason)).toEqual(['remote', 'remote', 'remote']);
    expect([0x08, 0x3e, 'cleanup', undefined].map(disconnectReason)).toEqual([
      'link-lost',
      'link-lost',
      'link-lost',
      'link-lost',
    ]);
  });
});

describe('waiting for the adapter', () => {
  const options = {
    hciDeviceId: 0,
    userChannel: undefined,
    powerOnTimeoutMs: 50,
    scheduler: realScheduler,
    bindings: 'hci' as const,
  };
  const host = () => Object.assign(new EventEmitter(), { state: 'unknown' });

  it('resolves on poweredOn, also when it was reported before the wait began', async () => {
    const h = host();
    const p = waitForPowerOn(h, () => h.state, options, 'noble');
    h.emit('stateChange', 'poweredOff');
    h.emit('stateChange', 'poweredOn');
    await p;
    h.state = 'poweredOn';
    await waitForPowerOn(h, () => h.state, options, 'noble');
    expect(h.listenerCount('stateChange')).toBe(0);
  });

  it('fails at once for unsupported (NO_ADAPTER) and unauthorized (NO_PERMISSION), on timeout otherwise', async () => {
    const codes: string[] = [];
    for (const state of ['unsupported', 'unauthorized', 'poweredOff']) {
      const h = host();
      const p = waitForPowerOn(h, () => h.state, options, 'bleno');
      h.state = state;
      h.emit('stateChange', state);
      codes.push(
        await p.then(
          () => 'ok',
          (e: RadioError) => e.code,
        ),
      );
    }
    expect(codes).toEqual(['NO_ADAPTER', 'NO_PERMISSION', 'NO_ADAPTER']);
  });
});

describe('preflight: is there an adapter at all?', () => {
  const sysfs = (...adapters: string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pawlink-sysfs-'));
    for (const a of adapters) mkdirSync(path.join(dir, a));
    return dir;
  };

  it('no Bluetooth (no sysfs class, or no hciN in it) is NO_ADAPTER, pointing at the virtual radio', () => {
    expect(
      code(() => preflightAdapter(undefined, { platform: 'linux', env: {}, sysfs: '/nonexistent' })),
    ).toBe('NO_ADAPTER');
    expect(code(() => preflightAdapter(undefined, { platform: 'linux', env: {}, sysfs: sysfs() }))).toBe(
      'NO_ADAPTER',
    );
  });

  it('an id the machine does not have is NO_ADAPTER naming the ones it has; a present one passes', () => {
    const dir = sysfs('hci0', 'hci2');
    let e: unknown;
    try {
      preflightAdapter(1, { platform: 'linux', env: {}, sysfs: dir });
    } catch (err) {
      e = err;
    }
    expect((e as RadioError).code).toBe('NO_ADAPTER');
    expect((e as RadioError).message).toContain('hci0, hci2');
    expect(code(() => preflightAdapter(2, { platform: 'linux', env: {}, sysfs: dir }))).toBeUndefined();
    expect(
      code(() => preflightAdapter(undefined, { platform: 'linux', env: {}, sysfs: dir })),
    ).toBeUndefined();
  });

  it('is skipped for UART/USB drivers and off Linux', () => {
    expect(
      code(() =>
        preflightAdapter(0, { platform: 'linux', env: { BLUETOOTH_HCI_SOCKET_FORCE_USB: '1' }, sysfs: '/x' }),
      ),
    ).toBeUndefined();
    expect(code(() => preflightAdapter(0, { platform: 'darwin', env: {}, sysfs: '/x' }))).toBeUndefined();
  });
});

describe('process hygiene helpers', () => {
  it('withEnv sets and removes variables for the call only, even when it throws', () => {
    process.env.PAWLINK_TEST_A = 'before';
    delete process.env.PAWLINK_TEST_B;
    expect(() =>
      withEnv({ PAWLINK_TEST_A: undefined, PAWLINK_TEST_B: 'set' }, () => {
        expect(process.env.PAWLINK_TEST_A).toBeUndefined();
        expect(process.env.PAWLINK_TEST_B).toBe('set');
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(process.env.PAWLINK_TEST_A).toBe('before');
    expect('PAWLINK_TEST_B' in process.env).toBe(false);
    delete process.env.PAWLINK_TEST_A;
  });

  it('ProcessListenerTrap removes exactly the exit/SIGINT listeners added while it watched', () => {
    const mine = () => {};
    process.on('exit', mine);
    const trap = new ProcessListenerTrap();
    trap.begin();
    const theirs = () => {};
    const theirSig = () => {};
    process.on('exit', theirs);
    process.on('SIGINT', theirSig);
    trap.end();
    trap.release();
    expect(process.listeners('exit')).toContain(mine);
    expect(process.listeners('exit')).not.toContain(theirs);
    expect(process.listeners('SIGINT')).not.toContain(theirSig);
    process.removeListener('exit', mine);
  });
});

describe('bindings per platform', () => {
  it('real adapters use HCI on Linux, the system stack on macOS, and for noble on Windows', () => {
    expect(platformBindings('central', 'linux')).toBe('hci');
    expect(platformBindings('peripheral', 'linux')).toBe('hci');
    expect(platformBindings('central', 'darwin')).toBe('platform');
    expect(platformBindings('peripheral', 'darwin')).toBe('platform');
    expect(platformBindings('central', 'win32')).toBe('platform');
    expect(platformBindings('peripheral', 'win32')).toBe('hci');
  });
});
