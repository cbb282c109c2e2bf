/**
 * Regenerates our own test vectors: `npm run vectors`.
 *
 * Each module in test/vectors/generate/ exports `generate()` returning a JSON-able object built from
 * fixed seeds; it is written to test/vectors/<module name>.json. Published vectors (RFC 9383,
 * the Noise IK cacophony vector, Matter's BTP examples) are transcribed by hand and not generated.
 * Tests recompute every generated vector and compare bit for bit, so a change to the wire format
 * shows up as a failing test until the vectors and PROTOCOL.md are updated together.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const dir = new URL('./generate/', import.meta.url);
const only = process.argv.slice(2);
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const name = basename(file, '.ts');
  if (only.length > 0 && !only.includes(name)) continue;
  const mod = (await import(new URL(file, dir).href)) as { generate: () => unknown };
  const out = new URL(`../${name}.json`, dir);
  writeFileSync(out, `${JSON.stringify(mod.generate(), null, 2)}\n`);
  console.log(`wrote test/vectors/${name}.json`);
}
