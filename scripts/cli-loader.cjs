// The CLI's entry (bin/svcreg.js loads it): runs the bundle (dist/cli/svcreg.cjs) through
// vm.Script with the V8 code cache made at build time, so a start compiles little. A cache
// from another Node version is rejected by V8 and the bundle simply compiles as usual.
// SVCREG_WRITE_CODE_CACHE=1 (used by scripts/build.mjs only) writes the cache on exit.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { wrap } = require('node:module');

const file = join(__dirname, 'svcreg.cjs');
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache: compile as usual
}
const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (process.env.SVCREG_WRITE_CODE_CACHE === '1') {
  delete process.env.SVCREG_WRITE_CODE_CACHE;
  process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
}
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, require, module_, file, __dirname);
