// etcd 3.5 (the seed's version) beside Debian 12's etcd 3.4, without touching the system's
// apt configuration: Debian 13's etcd-server and etcd-client packages are fetched through a
// throwaway apt configuration (its own sources list, state, lists and cache dirs) from the
// Debian mirror this machine's own apt sources name, verified by apt against the
// debian-archive-keyring keys, and unpacked with `dpkg-deb -x` into a cache directory
// (default `.etcd/3.5/` in the repository, git-ignored; `SVCREG_ETCD35_DIR` to move it).
// Idempotent: when the cached binary already says 3.5, nothing is downloaded.
// Node builtins only (setup.mjs imports it before npm install).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (text) => process.stderr.write(`setup: ${text}\n`);

/** Debian release whose packages carry etcd 3.5, and the version wanted. */
const SUITE = 'trixie';
const WANTED = /^3\.5\./;

/** @returns {string} the directory etcd 3.5 is unpacked into */
export function etcd35Dir() {
  return resolve(process.env.SVCREG_ETCD35_DIR ?? join(root, '.etcd', '3.5'));
}

/** @returns {{ etcd: string, etcdctl: string, binDir: string }} where the unpacked binaries are */
export function etcd35Paths(dir = etcd35Dir()) {
  const binDir = join(dir, 'usr', 'bin');
  return { etcd: join(binDir, 'etcd'), etcdctl: join(binDir, 'etcdctl'), binDir };
}

/** @returns {string | undefined} the version `<etcd> --version` reports, if it runs */
export function etcdVersion(bin) {
  if (!existsSync(bin)) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? /etcd Version:\s*(\S+)/.exec(r.stdout)?.[1] : undefined;
}

/**
 * The machine's own Debian archive source (the one that serves its release, not -security
 * or -updates), from /etc/apt/sources.list{,.d/*.list} and /etc/apt/sources.list.d/*.sources.
 * @returns {{ uri: string, signedBy: string[] } | undefined}
 */
export function machineDebianSource() {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readIf('/etc/os-release') ?? '')?.[1]?.replace(/["']/g, '');
  /** @type {{ uri: string, suites: string[], signedBy: string[] }[]} */
  const entries = [];
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(existsSync(dir) ? readdirSync(dir).sort().map((f) => join(dir, f)) : [])];
  for (const file of files) {
    const text = readIf(file);
    if (text === undefined) continue;
    if (file.endsWith('.sources')) entries.push(...parseDeb822(text));
    else if (file.endsWith('.list')) entries.push(...parseOneLine(text));
  }
  const archive = entries.filter((e) => !/-security\/?$/.test(e.uri) && e.suites.some((s) => !s.includes('-')));
  const pick =
    archive.find((e) => codename && e.suites.includes(codename) && e.signedBy.some((k) => /debian-archive/.test(k))) ??
    archive.find((e) => codename && e.suites.includes(codename)) ??
    archive.find((e) => e.signedBy.some((k) => /debian-archive/.test(k)));
  return pick && { uri: pick.uri, signedBy: pick.signedBy.filter((k) => k.startsWith('/')) };
}

function readIf(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseDeb822(text) {
  const out = [];
  for (const para of text.split(/\n\s*\n/)) {
    /** @type {Record<string, string>} */
    const f = {};
    let last;
    for (const line of para.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last) f[last] += `\n${line.trim()}`;
      else {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) f[(last = m[1].toLowerCase())] = m[2];
      }
    }
    if (!f.types?.split(/\s+/).includes('deb') || /^(no|false)$/i.test(f.enabled ?? '')) continue;
    const suites = (f.suites ?? '').split(/\s+/).filter(Boolean);
    const signedBy = (f['signed-by'] ?? '').split(/[\s,]+/).filter(Boolean);
    for (const uri of (f.uris ?? '').split(/\s+/).filter(Boolean)) out.push({ uri, suites, signedBy });
  }
  return out;
}

function parseOneLine(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1].split(',') ?? [];
    out.push({ uri: m[2], suites: [m[3]], signedBy });
  }
  return out;
}

/**
 * Makes etcd 3.5 available and returns where its binaries are. Throws with a plain
 * reason when it cannot (no Debian source, apt cannot reach the mirror, wrong version).
 */
export function ensureEtcd35() {
  const dir = etcd35Dir();
  const paths = etcd35Paths(dir);
  const have = etcdVersion(paths.etcd);
  if (have && WANTED.test(have)) return { ...paths, version: have };

  for (const cmd of ['apt-get', 'apt-cache', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) throw new Error(`${cmd} not found: etcd 3.5 comes from Debian packages`);
  }
  const source = machineDebianSource();
  if (!source) throw new Error('no Debian archive source found in /etc/apt/sources.list*: cannot tell which mirror to fetch etcd 3.5 from');
  // The trixie Release file must verify: the source's own keyring (debian-archive-keyring.gpg
  // holds every current release's keys) plus trixie's keyrings shipped beside it.
  const keyDir = '/usr/share/keyrings';
  const trixieKeys = existsSync(keyDir) ? readdirSync(keyDir).filter((f) => /^debian-archive-trixie-(stable|automatic)\.gpg$/.test(f)).map((f) => join(keyDir, f)) : [];
  const keyrings = [...new Set([...source.signedBy, ...trixieKeys])].filter((k) => existsSync(k));
  if (keyrings.length === 0) throw new Error(`no Debian archive keyring under ${keyDir} (install debian-archive-keyring)`);

  const tmp = mkdtempSync(join(tmpdir(), 'svcreg-apt-'));
  try {
    const etc = join(tmp, 'etc');
    for (const d of ['etc/sources.list.d', 'etc/preferences.d', 'state/lists/partial', 'cache/archives/partial', 'debs', 'unpack']) mkdirSync(join(tmp, d), { recursive: true });
    writeFileSync(join(etc, 'sources.list'), '');
    writeFileSync(
      join(etc, 'sources.list.d', `${SUITE}.sources`),
      `Types: deb\nURIs: ${source.uri}\nSuites: ${SUITE}\nComponents: main\nSigned-By: ${keyrings.join(', ')}\n`,
    );
    writeFileSync(join(tmp, 'state', 'status'), '');
    // The machine's apt.conf.d still applies (proxies, mirror settings); its sources, lists,
    // pins, caches and dpkg status do not.
    const opts = [
      ['Dir::Etc::sourcelist', join(etc, 'sources.list')],
      ['Dir::Etc::sourceparts', join(etc, 'sources.list.d')],
      ['Dir::Etc::preferences', join(etc, 'preferences')],
      ['Dir::Etc::preferencesparts', join(etc, 'preferences.d')],
      ['Dir::State', join(tmp, 'state')],
      ['Dir::State::lists', join(tmp, 'state', 'lists')],
      ['Dir::State::status', join(tmp, 'state', 'status')],
      ['Dir::Cache', join(tmp, 'cache')],
      ['Dir::Cache::archives', join(tmp, 'cache', 'archives')],
      ['Dir::Log', join(tmp, 'log')],
      // As root apt drops to _apt for downloads; into this private temp dir it may not.
      ...(process.getuid?.() === 0 ? [['APT::Sandbox::User', 'root']] : []),
    ].flatMap(([k, v]) => ['-o', `${k}=${v}`]);
    const apt = (cmd, args, cwd = tmp) => spawnSync(cmd, [...opts, ...args], { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });

    say(`fetching etcd 3.5 (Debian ${SUITE} etcd-server, etcd-client) from the mirror of this machine's apt sources: ${source.uri}`);
    const update = apt('apt-get', ['update', '-q']);
    const lists = readdirSync(join(tmp, 'state', 'lists'));
    const gotRelease = lists.some((f) => f.includes(`_dists_${SUITE}_InRelease`) || f.includes(`_dists_${SUITE}_Release`));
    const gotPackages = lists.some((f) => f.includes(`_dists_${SUITE}_main_binary-`));
    const problems = `${update.stdout}${update.stderr}`.split('\n').filter((l) => /^(E|W|Err):?/.test(l)).join('\n');
    if (update.status !== 0 || !gotRelease || !gotPackages) {
      const unreachable = /Could not resolve|Temporary failure|Connection failed|Could not connect|timed out|Unable to connect|No route/i.test(problems);
      throw new Error(
        `${unreachable ? `apt cannot reach ${source.uri}` : `apt-get update on Debian ${SUITE} failed`} (exit ${update.status}):\n${problems || update.stderr}`,
      );
    }
    const show = apt('apt-cache', ['show', '--no-all-versions', 'etcd-server']);
    const version = /^Version:\s*(\S+)/m.exec(show.stdout ?? '')?.[1];
    if (!version || !WANTED.test(version)) throw new Error(`Debian ${SUITE} offers etcd-server ${version ?? '(none)'}, not 3.5.x`);
    const dl = apt('apt-get', ['download', '-q', `etcd-server=${version}`, `etcd-client=${version}`], join(tmp, 'debs'));
    if (dl.status !== 0) throw new Error(`apt-get download etcd-server etcd-client (${version}) failed:\n${dl.stderr}`);
    const debs = readdirSync(join(tmp, 'debs')).filter((f) => f.endsWith('.deb'));
    for (const deb of debs) execFileSync('dpkg-deb', ['-x', join(tmp, 'debs', deb), join(tmp, 'unpack')], { stdio: ['ignore', 'ignore', process.stderr] });
    const got = etcdVersion(etcd35Paths(join(tmp, 'unpack')).etcd);
    if (!got || !WANTED.test(got)) throw new Error(`the unpacked etcd does not run as 3.5 (etcd --version: ${got ?? 'failed'})`);
    writeFileSync(join(tmp, 'unpack', 'PACKAGES'), `${debs.join('\n')}\n`);
    // Into place in one rename, so an interrupted fetch never leaves a half-unpacked cache.
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameAcross(join(tmp, 'unpack'), dir);
    say(`etcd ${got} unpacked in ${dir} (${debs.join(', ')})`);
    return { ...paths, version: got };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** rename, or copy then rename when the temp dir is on another file system. */
function renameAcross(from, to) {
  try {
    renameSync(from, to);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EXDEV') throw err;
    const staging = `${to}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    execFileSync('cp', ['-a', from, staging]);
    renameSync(staging, to);
  }
}
