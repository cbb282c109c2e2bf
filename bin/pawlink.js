#!/usr/bin/env node
// The `pawlink` command: the SDK's CLI (sdk/cli.ts), built into dist/ by `npm install` (prepare).
import { run } from '../dist/sdk/cli.js';

await run();
