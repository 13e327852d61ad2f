#!/usr/bin/env node
// Runs the bundled CLI (npm run build makes it). CommonJS: an ES module stub costs ~8 ms more.
require('../dist/cli/svcreg-loader.cjs');
