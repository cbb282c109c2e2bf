/**
 * How many generated inputs each fuzzed surface gets. `npm test` runs a bounded slice (10,000 per
 * surface); `npm run fuzz` raises it through PAWLINK_FUZZ_RUNS and prints the seed so a failure
 * can be replayed with PAWLINK_FUZZ_SEED.
 */
const envRuns = Number(process.env.PAWLINK_FUZZ_RUNS);
export const FUZZ_RUNS = Number.isInteger(envRuns) && envRuns > 0 ? envRuns : 10_000;

const envSeed = Number(process.env.PAWLINK_FUZZ_SEED);
/** fast-check parameters for every fuzz property: pass as `fc.assert(prop, fuzzParams())`. */
export function fuzzParams(): { numRuns: number; seed?: number } {
  return Number.isInteger(envSeed) ? { numRuns: FUZZ_RUNS, seed: envSeed } : { numRuns: FUZZ_RUNS };
}
