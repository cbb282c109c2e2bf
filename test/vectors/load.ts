/** Loads a committed test-vector file from test/vectors/ by name (without `.json`). */
import { readFileSync } from 'node:fs';

export function loadVectors<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./${name}.json`, import.meta.url), 'utf8')) as T;
}
