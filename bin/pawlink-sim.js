#!/usr/bin/env node
// The `pawlink-sim` command (npm start): the simulated toy (firmware-sim/cli.ts), built into dist/
// by `npm install` (prepare). Plain ESM so it runs straight from a fresh clone.
let cli;
try {
  cli = await import('../dist/firmware-sim/cli.js');
} catch (e) {
  // Only dist/ itself missing means "not built"; a missing dependency is reported as it is.
  const missing = /Cannot find module '[^']*dist[\\/]firmware-sim[\\/]cli\.js'/.test(String(e?.message));
  process.stderr.write(
    missing
      ? 'pawlink-sim: the toy is not built yet: run `npm install` (or `npm run build`) first\n'
      : `pawlink-sim: cannot load the toy: ${e?.message || e}\n`,
  );
  process.exit(1);
}
await cli.run(process.argv.slice(2));
