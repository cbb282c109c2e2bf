/**
 * No adapter: opening a BLE radio fails with a typed error that says what to do — never a stack
 * trace, never a hung process (radio.md: stuck polls, hanging stop()). Run in a child process so
 * that "the process ends by itself" is what is checked.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/no-adapter.ts', import.meta.url));

it('without an adapter every open fails with NO_ADAPTER (or NO_PERMISSION), no stack trace, and the process exits by itself', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [exitCode] = await once(child, 'exit');
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(exitCode).toBe(0);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
  for (const family of ['abandonware', 'stoprocent']) {
    expect(result[`public ${family} central`]).toBe('NO_ADAPTER');
    expect(result[`public ${family} peripheral`]).toBe('NO_ADAPTER');
    // Past the adapter check the host stack decides: absent here, or not ours to use elsewhere.
    expect(['NO_ADAPTER', 'NO_PERMISSION']).toContain(result[`library ${family} central`]);
    expect(['NO_ADAPTER', 'NO_PERMISSION']).toContain(result[`library ${family} peripheral`]);
  }
});
