/**
 * Every process ends by itself once its radio is closed: a full cycle with noble and bleno of one
 * family in a child process, which must then exit with code 0 without being killed (the hosts'
 * never-cleared device polls must not hold it, radio.md).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { within } from './hosts.js';

const fixture = fileURLToPath(new URL('./fixtures/cycle-process.ts', import.meta.url));

describe('process lifetime', () => {
  it('a process that ran a full cycle on the virtual radio exits by itself, for both families', async () => {
    const runs = (['abandonware', 'stoprocent'] as const).map(async (family) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, family], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      const [code, signal] = await within(
        once(child, 'exit'),
        `the ${family} process exits by itself`,
        20_000,
      ).catch((e) => {
        child.kill();
        throw e;
      });
      return { family, code, signal, out: out.trim() };
    });
    expect(await Promise.all(runs)).toEqual([
      { family: 'abandonware', code: 0, signal: null, out: '{"event":"done","family":"abandonware"}' },
      { family: 'stoprocent', code: 0, signal: null, out: '{"event":"done","family":"stoprocent"}' },
    ]);
  });
});
