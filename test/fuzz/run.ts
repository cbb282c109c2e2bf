/**
 * `npm run fuzz [-- --runs N] [-- --seed S] [-- <filter>]`: the long fuzz runs. Every
 * `*.fuzz.test.ts` property runs N inputs per surface (default 200,000; `npm test` runs 10,000)
 * with one seed for the whole run, printed first so a failure can be replayed exactly:
 * `npm run fuzz -- --seed S --runs N <file filter>`.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: { runs: { type: 'string', default: '200000' }, seed: { type: 'string' } },
    allowPositionals: true,
  });
}
try {
  args = parse();
} catch (e) {
  console.error(`fuzz: ${(e as Error).message}\nusage: npm run fuzz -- [--runs N] [--seed S] [file filter]`);
  process.exit(2);
}
const runs = Number(args.values.runs);
const seed = args.values.seed === undefined ? randomInt(0, 2 ** 31 - 1) : Number(args.values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('fuzz: --runs must be a positive integer and --seed an integer');
  process.exit(2);
}
const filters = args.positionals.length > 0 ? args.positionals : ['fuzz.test.ts'];
console.log(
  `fuzz: ${runs} inputs per surface, seed ${seed} (replay: npm run fuzz -- --seed ${seed} --runs ${runs})`,
);
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', ...filters], {
  stdio: 'inherit',
  env: { ...process.env, PAWLINK_FUZZ_RUNS: String(runs), PAWLINK_FUZZ_SEED: String(seed) },
});
console.log(`fuzz: finished in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${seed}`);
process.exit(result.status ?? 1);
