#!/usr/bin/env node
// `npm run build`, after tsc (the library's ESM and types in dist/): the CLI as one
// minified CommonJS bundle (dist/cli/svcreg.cjs, run by bin/svcreg.js through
// dist/cli/svcreg-loader.cjs) with a V8 code cache beside it. One file and a code cache
// start faster than dist/'s ESM modules (measured in the README).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli');
// Libraries only some runs need (-o yaml, -o template, render): each in a file of its own
// beside the bundle, required on first use, so every other start reads 200 KB less.
const VENDORED = ['yaml', 'liquidjs'];
const vendorBuilds = await Promise.all(
  VENDORED.map((name) =>
    build({ entryPoints: [name], outfile: join(out, 'vendor', `${name}.cjs`), bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, legalComments: 'none', metafile: true, absWorkingDir: root, logLevel: 'warning' }),
  ),
);
const vendored = {
  name: 'vendored',
  setup(b) {
    // The bundle runs with the loader's require, which resolves from dist/cli/.
    b.onResolve({ filter: new RegExp(`^(${VENDORED.join('|')})$`) }, (args) => ({ path: `./vendor/${args.path}.cjs`, external: true }));
  },
};
// commander requires child_process as it loads, for executable subcommands (svcreg has
// none): a stand-in that requires it on first use keeps child_process, and the net and
// stream modules it loads, out of --help and of every command that never spawns.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
      loader: 'js',
    }));
  },
};
const cliBuild = await build({
  plugins: [vendored, lazyChildProcess],
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(out, 'svcreg.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  // Node's own modules load with require: a vm.Script has no dynamic import.
  supported: { 'dynamic-import': false },
  // The bundle sits where tsc puts src/cli/program.ts, so relative paths stay right.
  define: { 'import.meta.url': '__svcregModuleUrl' },
  banner: { js: "var __svcregModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  absWorkingDir: root,
  logLevel: 'warning',
});
writeFileSync(join(out, 'THIRD-PARTY-LICENSES.txt'), licenceNotices([cliBuild, ...vendorBuilds]));
copyFileSync(join(root, 'scripts', 'cli-loader.cjs'), join(out, 'svcreg-loader.cjs'));
rmSync(join(out, 'svcreg.cjs.cache'), { force: true });
// The cache holds what one run compiled: a `discover` that finds etcd refusing on a
// loopback port goes through option parsing, the registry, the gateway request and the
// error path, which is most of what any command compiles (and more than --help).
const made = spawnSync(process.execPath, [join(out, 'svcreg-loader.cjs'), '--endpoints', 'http://127.0.0.1:1', '--timeout', '1s', 'discover', 'web', '-o', 'json'], {
  env: { ...process.env, SVCREG_WRITE_CODE_CACHE: '1' },
  stdio: 'ignore',
});
// Exit 3 is the refused connection the run expects; anything else means a broken bundle.
if (made.status !== 3) throw new Error(`the bundle's cache-making run exited ${made.status}, not 3`);

/**
 * The licence of every npm package the bundles carry: they are inside dist/cli/, not
 * installed beside it (package.json lists them as devDependencies), so their notices
 * travel in this file.
 */
function licenceNotices(builds) {
  const packages = new Set();
  for (const { metafile } of builds) {
    for (const input of Object.keys(metafile.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) packages.add(m[1]);
    }
  }
  return [...packages]
    .map((dir) => {
      const { name, version, license = 'licence below' } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      const file = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      if (!file) throw new Error(`${name}: no licence file to ship with the bundle`);
      return `${name}@${version} (${license})\n\n${readFileSync(join(root, dir, file), 'utf8').trim()}\n`;
    })
    .sort()
    .join(`\n${'-'.repeat(72)}\n\n`);
}
