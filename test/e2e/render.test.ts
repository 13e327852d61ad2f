/**
 * `render`: a file kept rendered from the registry, against a real etcd: what is
 * written, when (only on a change; --wait), how it is installed (atomically, mode kept,
 * after --check), what runs after (--exec), and what happens when etcd is away.
 */
import { Etcd3 } from 'etcd3';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';

let etcd: EtcdCluster;
let client: Etcd3;
let dir: string;
let renderer: CliProcess | undefined;
let proxy: TcpProxy | undefined;
let prefixes = 0;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
});
afterAll(async () => {
  client?.close();
  await etcd?.stop();
});
afterEach(async () => {
  await renderer?.stop();
  await proxy?.close();
  renderer = proxy = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const UPSTREAMS = '{% for s in services %}{{ s.name }}:{% for i in s.instances %} {{ i.addr }}{% endfor %}\n{% endfor %}';

/** A prefix and a directory of the test's own, with the template written. */
function setUp(template = UPSTREAMS) {
  dir = mkdtempSync(join(tmpdir(), 'svcreg-render-'));
  writeFileSync(join(dir, 't.liquid'), template);
  const prefix = `/render-${++prefixes}/`;
  return { prefix, tpl: join(dir, 't.liquid'), out: join(dir, 'out.txt'), env: { SVCREG_ENDPOINTS: etcd.endpoints, SVCREG_PREFIX: prefix } };
}

const value = (service: string, id: string, port: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ service_id: id, service_name: service, address: '127.0.0.1', port, tags: [], metadata: {}, registered_at: 1764000000, ...extra });

/** Polls until `read()` returns something `ok` accepts (15 s at most). */
async function until<T>(read: () => T, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}\nstderr: ${renderer?.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const contentOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
const fileIs = (file: string, text: string) => until(() => contentOf(file), (c) => c === text, `${file} to hold ${JSON.stringify(text)}`);
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('render --once', () => {
  it('renders the template from the registry: services by name, passing instances by id', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    await client.put(`${prefix}web/w3`).value(value('web', 'w3', 8003, { health: { status: 'critical', output: 'down', checked_at: 1 } }));
    await client.put(`${prefix}api/a1`).value(value('api', 'a1', 9001, { address: '::1' }));
    const r = await runCli(['render', tpl, '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('api: [::1]:9001\nweb: 127.0.0.1:8001 127.0.0.1:8002\n');
    expect(r.stdout).toBe('');
  });

  it('gives the template every instance with its health under all, and services by name under service', async () => {
    const { prefix, tpl, out, env } = setUp('{% for i in service["web"].all %}{{ i.id }}={{ i.health.status | default: "none" }} {% endfor %}{{ service.web.instances.size }}');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002, { health: { status: 'critical', output: 'x', checked_at: 1 } }));
    const r = await runCli(['render', tpl, '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('w1=none w2=critical 1');
  });

  it('leaves malformed entries out of the model and warns about each on stderr', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    await client.put(`${prefix}web/bad`).value('not json');
    const r = await runCli(['render', tpl, '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('web: 127.0.0.1:8001\n');
    expect(r.stderr).toMatch(new RegExp(`malformed entry ${prefix}web/bad .*not JSON`));
  });

  it('--format prometheus writes file_sd JSON: one target group per passing instance, with its labels', async () => {
    const { prefix, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001, { tags: ['v1', 'canary'], metadata: { 'zone-name': 'a', weight: 3 } }));
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002, { health: { status: 'critical', output: 'x', checked_at: 1 } }));
    const r = await runCli(['render', '--format', 'prometheus', '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual([
      {
        targets: ['127.0.0.1:8001'],
        labels: {
          service: 'web',
          __meta_svcreg_service: 'web',
          __meta_svcreg_id: 'w1',
          __meta_svcreg_address: '127.0.0.1',
          __meta_svcreg_port: '8001',
          __meta_svcreg_tags: ',v1,canary,',
          __meta_svcreg_metadata_weight: '3',
          __meta_svcreg_metadata_zone_name: 'a',
        },
      },
    ]);
  });

  it('an invalid template exits 2 naming the line, before etcd is asked, and the file is untouched', async () => {
    const { tpl, out } = setUp('line one\n{% for x in %}\n');
    writeFileSync(out, 'old');
    // No etcd at this address: a template error must come first.
    const r = await runCli(['render', tpl, '--out', out, '--once'], { SVCREG_ENDPOINTS: 'http://127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid template.*line:2/);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['out.txt', 't.liquid']);
  });

  it('a template that fails when rendered exits 2 at start and writes nothing', async () => {
    const { prefix, tpl, out, env } = setUp('{% include "no-such-partial" %}');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const r = await runCli(['render', tpl, '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/template failed/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['t.liquid']);
  });

  it('exits 3 when etcd is unreachable, writing nothing', async () => {
    const { tpl, out } = setUp();
    const r = await runCli(['render', tpl, '--out', out, '--once', '--timeout', '1s'], { SVCREG_ENDPOINTS: 'http://127.0.0.1:1' });
    expect(r.code).toBe(3);
    expect(readdirSync(dir)).toEqual(['t.liquid']);
  });

  it('replaces an existing file atomically: its mode kept, no temporary file left', async () => {
    const { prefix, tpl, out, env } = setUp();
    writeFileSync(out, 'old');
    chmodSync(out, 0o640);
    const inode = statSync(out).ino;
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const r = await runCli(['render', tpl, '--out', out, '--once'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('web: 127.0.0.1:8001\n');
    expect(statSync(out).mode & 0o777).toBe(0o640);
    // A new file renamed over the old one, not the old one rewritten in place.
    expect(statSync(out).ino).not.toBe(inode);
    expect(readdirSync(dir).sort()).toEqual(['out.txt', 't.liquid']);
  });

  it('--check runs with SVCREG_RENDERED naming the staged file, which holds the new text, beside the target', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const seen = join(dir, 'seen');
    const r = await runCli(['render', tpl, '--out', out, '--once', '--check', `echo "$SVCREG_RENDERED" > ${seen}; cp "$SVCREG_RENDERED" ${seen}.text`], env);
    expect(r.code, r.stderr).toBe(0);
    const staged = readFileSync(seen, 'utf8').trim();
    expect(staged).not.toBe(out);
    expect(staged.startsWith(`${dir}/`)).toBe(true);
    expect(readFileSync(`${seen}.text`, 'utf8')).toBe('web: 127.0.0.1:8001\n');
    expect(existsSync(staged)).toBe(false);
  });

  it('a --check that rejects leaves the installed file untouched, removes the staged file and exits 1', async () => {
    const { prefix, tpl, out, env } = setUp();
    writeFileSync(out, 'old');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const r = await runCli(['render', tpl, '--out', out, '--once', '--check', 'exit 7', '--exec', `touch ${join(dir, 'exec-ran')}`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--check exited with 7/);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['out.txt', 't.liquid']);
  });

  it('--exec runs after the file is installed, with SVCREG_RENDERED naming it; its output goes to stderr', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const r = await runCli(['render', tpl, '--out', out, '--once', '--exec', 'echo "exec saw: $(cat "$SVCREG_RENDERED")"'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('exec saw: web: 127.0.0.1:8001');
    expect(r.stdout).toBe('');
  });

  it('does not rewrite a file that already holds the rendered text, nor run --exec', async () => {
    const { prefix, tpl, out, env } = setUp();
    writeFileSync(out, 'web: 127.0.0.1:8001\n');
    const inode = statSync(out).ino;
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    const r = await runCli(['render', tpl, '--out', out, '--once', '--exec', `touch ${join(dir, 'exec-ran')}`], env);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).ino).toBe(inode);
    expect(existsSync(join(dir, 'exec-ran'))).toBe(false);
  });
});

describe('render (following the registry)', () => {
  it('renders again after a registration and after a deregistration', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    renderer = startCli(['render', tpl, '--out', out], env);
    await fileIs(out, 'web: 127.0.0.1:8001\n');
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    await fileIs(out, 'web: 127.0.0.1:8001 127.0.0.1:8002\n');
    await client.delete().key(`${prefix}web/w1`);
    await fileIs(out, 'web: 127.0.0.1:8002\n');
  });

  it('runs --exec once per change of the text, not for changes the template does not show', async () => {
    const { prefix, tpl, out, env } = setUp();
    const log = join(dir, 'exec.log');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    renderer = startCli(['render', tpl, '--out', out, '--exec', `cat "$SVCREG_RENDERED" >> ${log}`], env);
    await until(() => lines(log), (l) => l.length === 1, 'the first exec');
    // Tags are not in the template: the text stays, so nothing is installed and nothing runs.
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001, { tags: ['new'] }));
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    await until(() => lines(log), (l) => l.length === 2, 'the second exec');
    expect(lines(log)).toEqual(['web: 127.0.0.1:8001', 'web: 127.0.0.1:8001 127.0.0.1:8002']);
  });

  it('after a rejected --check, the next change is tried again', async () => {
    const { prefix, tpl, out, env } = setUp();
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    // Rejects any text with port 8002 in it.
    renderer = startCli(['render', tpl, '--out', out, '--check', '! grep -q 8002 "$SVCREG_RENDERED"'], env);
    await fileIs(out, 'web: 127.0.0.1:8001\n');
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    await renderer.waitFor(/--check exited with 1/, { stream: 'stderr' });
    expect(readFileSync(out, 'utf8')).toBe('web: 127.0.0.1:8001\n');
    await client.delete().key(`${prefix}web/w2`);
    await client.put(`${prefix}web/w3`).value(value('web', 'w3', 8003));
    await fileIs(out, 'web: 127.0.0.1:8001 127.0.0.1:8003\n');
    expect(readdirSync(dir).sort()).toEqual(['out.txt', 't.liquid']);
  });

  it('with --wait, a burst of changes is rendered once, after the registry is quiet', async () => {
    const { prefix, tpl, out, env } = setUp();
    const log = join(dir, 'exec.log');
    renderer = startCli(['render', tpl, '--out', out, '--wait', '1s:10s', '--exec', `cat "$SVCREG_RENDERED" >> ${log}; echo >> ${log}`], env);
    await until(() => contentOf(log), (c) => c === '\n', 'the first (empty) render');
    for (let i = 1; i <= 5; i++) await client.put(`${prefix}web/w${i}`).value(value('web', `w${i}`, 8000 + i));
    await until(() => lines(log), (l) => l.length === 1, 'the render of the burst');
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines(log)).toEqual(['web: 127.0.0.1:8001 127.0.0.1:8002 127.0.0.1:8003 127.0.0.1:8004 127.0.0.1:8005']);
  });

  it('with --wait, changes that never stop are rendered by the max', async () => {
    const { prefix, tpl, out, env } = setUp();
    renderer = startCli(['render', tpl, '--out', out, '--wait', '800ms:2s'], env);
    await fileIs(out, '');
    const started = Date.now();
    let i = 0;
    // A change every 300 ms: never quiet for 800 ms.
    while (contentOf(out) === '' && Date.now() - started < 10_000) {
      await client.put(`${prefix}web/w${++i}`).value(value('web', `w${i}`, 8000 + i));
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(contentOf(out)).toMatch(/^web: /);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a template that fails on a later listing keeps the last file and goes on', async () => {
    const { prefix, tpl, out, env } = setUp('{% for s in services %}{% if s.name == "boom" %}{% include "no-such-partial" %}{% endif %}{{ s.name }} {% endfor %}');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    renderer = startCli(['render', tpl, '--out', out], env);
    await fileIs(out, 'web ');
    await client.put(`${prefix}boom/b1`).value(value('boom', 'b1', 8001));
    await renderer.waitFor(/template failed.*keeping the last good/, { stream: 'stderr' });
    expect(readFileSync(out, 'utf8')).toBe('web ');
    await client.delete().key(`${prefix}boom/b1`);
    await client.put(`${prefix}zed/z1`).value(value('zed', 'z1', 8001));
    await fileIs(out, 'web zed ');
  });

  it('SIGTERM after --exec started: waits for it to finish, exits 0, leaves no temporary file', async () => {
    const { prefix, tpl, out, env } = setUp();
    const marker = join(dir, 'exec-done');
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    renderer = startCli(['render', tpl, '--out', out, '--exec', `echo started >&2; sleep 1; touch ${marker}`], env);
    await renderer.waitFor(/started/, { stream: 'stderr' });
    renderer.signal('SIGTERM');
    const r = await renderer.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['exec-done', 'out.txt', 't.liquid']);
  });
});

describe('render through an etcd outage', () => {
  /** A proxy in front of etcd that the test can cut. */
  async function viaProxy(env: Record<string, string>) {
    proxy = await TcpProxy.start(Number(new URL(etcd.members[0].clientUrl).port));
    return { ...env, SVCREG_ENDPOINTS: proxy.url };
  }

  it('keeps the last good file while etcd is cut off, says so, and renders the changes once it answers', async () => {
    const { prefix, tpl, out, env } = setUp();
    const viaEnv = await viaProxy(env);
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    renderer = startCli(['render', tpl, '--out', out, '--timeout', '1s'], viaEnv);
    await fileIs(out, 'web: 127.0.0.1:8001\n');
    proxy!.cut();
    await renderer.waitFor(/lost the connection to etcd.*keeping the last good/, { stream: 'stderr' });
    await client.delete().key(`${prefix}web/w1`);
    await client.put(`${prefix}web/w2`).value(value('web', 'w2', 8002));
    await new Promise((r) => setTimeout(r, 1500));
    expect(readFileSync(out, 'utf8')).toBe('web: 127.0.0.1:8001\n');
    proxy!.restore();
    await fileIs(out, 'web: 127.0.0.1:8002\n');
  });

  it('started while etcd is unreachable: writes nothing, retries, and renders once etcd answers', async () => {
    const { prefix, tpl, out, env } = setUp();
    const viaEnv = await viaProxy(env);
    await client.put(`${prefix}web/w1`).value(value('web', 'w1', 8001));
    proxy!.cut();
    renderer = startCli(['render', tpl, '--out', out, '--timeout', '1s'], viaEnv);
    await renderer.waitFor(/cannot read the registry.*nothing written.*retrying/, { stream: 'stderr' });
    expect(readdirSync(dir)).toEqual(['t.liquid']);
    proxy!.restore();
    await fileIs(out, 'web: 127.0.0.1:8001\n');
  });
});
