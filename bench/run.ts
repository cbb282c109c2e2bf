/**
 * `npm run bench` — runs every benchmark in bench/ and writes bench/results.json.
 * `npm run bench -- --quick` runs fewer repetitions.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { type Bench, type Figure, formatTable } from './harness.js';
import { productBenches } from './product.bench.js';
import { protocolBenches } from './protocol.bench.js';
import { radioBenches } from './radio.bench.js';

const quick = process.argv.includes('--quick');
const benches: Array<[string, Bench]> = [...protocolBenches, ...radioBenches, ...productBenches];

const all: Figure[] = [];
for (const [title, bench] of benches) {
  process.stderr.write(`running ${title}...\n`);
  all.push(...(await bench({ quick })));
}
console.log(formatTable(all));
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
writeFileSync(
  new URL('./results.json', import.meta.url),
  `${JSON.stringify({ machine, quick, date: new Date().toISOString(), figures: all }, null, 2)}\n`,
);
console.log(`\n${machine}\nwrote bench/results.json`);
const missed = all.filter((f) => f.met === false);
if (missed.length > 0) console.log(`goals missed: ${missed.map((f) => f.name).join(', ')}`);
