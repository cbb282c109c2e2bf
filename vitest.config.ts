import { defineConfig } from 'vitest/config';

// CI asks for a JSON report beside the normal output (see .ci/run).
const jsonReport = process.env.PAWLINK_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // A focused test (.only) committed by mistake fails the run instead of hiding the rest.
    allowOnly: false,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : {},
  },
});
