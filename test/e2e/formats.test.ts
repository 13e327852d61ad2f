/**
 * -o yaml and -o template end to end: the built CLI against one real etcd. YAML must
 * carry the values -o json does (parsed back with the yaml library); templates see
 * what -o json prints (a list as `items`), once per value of a stream. Hostile values
 * are put into etcd directly with etcd3.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runCli, startCli, type CliProcess, type CliResult } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { startCliOnTty } from '../harness/tty.js';

let etcd: EtcdCluster;
let client: Etcd3;
let dir: string;
let counter = 0;
const started: CliProcess[] = [];

/** Nothing listens on port 1 of the loopback interface: a request there exits 3 at once. */
const REFUSED = 'http://127.0.0.1:1';

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
  dir = mkdtempSync(join(tmpdir(), 'svcreg-formats-'));
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const freshPrefix = () => `/fmt-${process.pid}-${++counter}/`;

function svcreg(prefix: string, ...args: string[]): Promise<CliResult> {
  return runCli(['--endpoints', etcd.endpoints, '--prefix', prefix, ...args]);
}

function instance(service: string, id: string, extra: Record<string, unknown> = {}) {
  return { service_id: id, service_name: service, address: '10.0.0.1', port: 8080, tags: ['v1'], metadata: { zone: 'a' }, registered_at: 1764000000.123, ...extra };
}

async function put(key: string, value: string | object): Promise<number> {
  const res = await client.put(key).value(typeof value === 'string' ? value : JSON.stringify(value)).exec();
  return Number(res.header.revision);
}

/** Two services, one with a malformed entry: what the listings below print. */
async function seedRegistry(prefix: string): Promise<void> {
  await put(`${prefix}web/web-1`, instance('web', 'web-1', { address: '10.0.0.1' }));
  await put(`${prefix}web/web-2`, instance('web', 'web-2', { address: '10.0.0.2', health: { status: 'passing', output: 'ok', checked_at: 1 } }));
  await put(`${prefix}web/broken`, 'not json');
  await put(`${prefix}db/db-1`, instance('db', 'db-1', { port: 5432 }));
}

function describeResult(r: CliResult): string {
  return `code=${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Bytes that would act on a terminal or forge a line, other than the output's own newlines. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

const HOSTILE = { address: '10.0.0.9\u001b[2J\u001b[HALL GOOD', tags: ['v1\n---\nforged: true', '\u009b2J'], metadata: { '\u202ekey': 'x\u0085y\u0007', note: '{{ 7 | plus: 1 }}' } };

describe('-o yaml', () => {
  it('list -o yaml gives the values list -o json gives', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const [yaml, json] = await Promise.all([svcreg(p, 'list', '-o', 'yaml'), svcreg(p, 'list', '-o', 'json')]);
    expect(yaml.code, describeResult(yaml)).toBe(0);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    expect(parse(yaml.stdout)).toHaveLength(2);
  });

  it('list --instances -o yaml gives the values -o json gives, malformed entries included', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const [yaml, json] = await Promise.all([svcreg(p, 'list', '--instances', '-o', 'yaml'), svcreg(p, 'list', '--instances', '-o', 'json')]);
    expect(yaml.code, describeResult(yaml)).toBe(0);
    const items = parse(yaml.stdout);
    expect(items).toEqual(JSON.parse(json.stdout));
    expect(items.find((i: { key: string }) => i.key === `${p}web/broken`)).toMatchObject({ malformed: true, problem: 'value is not JSON' });
  });

  it('discover -o yaml gives the values discover -o json gives', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const [yaml, json] = await Promise.all([svcreg(p, 'discover', 'web', '-o', 'yaml'), svcreg(p, 'discover', 'web', '-o', 'json')]);
    expect(yaml.code, describeResult(yaml)).toBe(0);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    expect(parse(yaml.stdout).map((i: { service_id: string }) => i.service_id)).toEqual(['web-1', 'web-2']);
  });

  it('a hostile entry in yaml parses back to what etcd holds and puts no control character on stdout', async () => {
    const p = freshPrefix();
    const stored = instance('evil', 'e1', HOSTILE);
    await put(`${p}evil/e1`, stored);
    const r = await svcreg(p, 'discover', 'evil', '-o', 'yaml');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(parseAllDocuments(r.stdout)).toHaveLength(1);
    expect(parse(r.stdout)[0]).toMatchObject(stored);
  });

  it('watch --count -o yaml streams one document per event, the values -o ndjson gives', async () => {
    const p = freshPrefix();
    const first = await put(`${p}web/web-1`, instance('web', 'web-1'));
    await put(`${p}web/web-2`, instance('web', 'web-2'));
    await client.delete().key(`${p}web/web-1`).exec();
    const args = ['watch', '--rev', String(first), '--count', '3'];
    const [yaml, ndjson] = await Promise.all([svcreg(p, ...args, '-o', 'yaml'), svcreg(p, ...args, '-o', 'ndjson')]);
    expect(yaml.code, describeResult(yaml)).toBe(0);
    const docs = (parseAllDocuments(yaml.stdout) as { toJS(): unknown }[]).map((d) => d.toJS());
    expect(docs).toEqual(ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l)));
    expect(docs.map((d) => (d as { type: string }).type)).toEqual(['PUT', 'PUT', 'DELETE']);
  });

  it('watch -o yaml writes each event as it comes, while it runs', async () => {
    const p = freshPrefix();
    const first = await put(`${p}web/web-1`, instance('web', 'web-1'));
    const watch = startCli(['--endpoints', etcd.endpoints, '--prefix', p, 'watch', '--rev', String(first), '-o', 'yaml']);
    started.push(watch);
    await watch.waitFor(/^---\ntype: PUT\nkey: \S+\/web\/web-1\n/);
    // Delivered the first event, the watch is live: this one comes as it happens.
    await client.delete().key(`${p}web/web-1`).exec();
    await watch.waitFor(/\n---\ntype: DELETE\nkey: \S+\/web\/web-1\n/);
    await watch.stop();
  });

  it('purge --dry-run -o yaml lists what it would delete', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await svcreg(p, 'purge', 'web', '--dry-run', '-o', 'yaml');
    expect(r.code, describeResult(r)).toBe(0);
    expect(parse(r.stdout).map((e: { key: string }) => e.key)).toEqual([`${p}web/broken`, `${p}web/web-1`, `${p}web/web-2`]);
  });

  it('purge --yes -o yaml prints what it deleted and skipped', async () => {
    const p = freshPrefix();
    await put(`${p}old/o1`, instance('old', 'o1'));
    const r = await svcreg(p, 'purge', 'old', '--yes', '-o', 'yaml');
    expect(r.code, describeResult(r)).toBe(0);
    expect(parse(r.stdout)).toMatchObject({ deleted: [{ key: `${p}old/o1`, service: 'old', id: 'o1' }], skipped: [] });
  });

  it('register -o yaml prints its lifecycle as one document per event', async () => {
    const p = freshPrefix();
    const reg = startCli(['--endpoints', etcd.endpoints, '--prefix', p, 'register', 'web', '--id', 'w1', '--address', '127.0.0.1', '--port', '80', '-o', 'yaml']);
    started.push(reg);
    await reg.waitFor(/^---\nevent: registered\n/);
    const r = await reg.stop();
    expect(r.code, describeResult(r)).toBe(0);
    const events = (parseAllDocuments(r.stdout) as { toJS(): { event: string; key: string } }[]).map((d) => d.toJS());
    expect(events.map((e) => [e.event, e.key])).toEqual([
      ['registered', `${p}web/w1`],
      ['deregistered', `${p}web/w1`],
    ]);
  });

  it('-o=yaml and --output=yaml are read as yaml', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    for (const spelling of [['-o=yaml'], ['--output=yaml'], ['-oyaml']]) {
      const r = await svcreg(p, 'list', ...spelling);
      expect(r.code, `${spelling}: ${describeResult(r)}`).toBe(0);
      expect(parse(r.stdout)).toHaveLength(2);
    }
  });

  it('SVCREG_OUTPUT=yaml is read as yaml', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await runCli(['--endpoints', etcd.endpoints, '--prefix', p, 'list'], { SVCREG_OUTPUT: 'yaml' });
    expect(r.code, describeResult(r)).toBe(0);
    expect(parse(r.stdout)).toHaveLength(2);
  });

  it('SVCREG_OUTPUT=template=... is read as a template', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await runCli(['--endpoints', etcd.endpoints, '--prefix', p, 'list'], { SVCREG_OUTPUT: 'template={{ items.size }} services' });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('2 services');
  });

  it('discover -o yaml that finds nothing prints an empty list and exits 4', async () => {
    const r = await svcreg(freshPrefix(), 'discover', 'nothing-here', '-o', 'yaml');
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('[]\n');
  });
});

describe('-o template', () => {
  it('discover -o template sees the instances as items', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await svcreg(p, 'discover', 'web', '-o', 'template={% for i in items %}{{ i.address }}:{{ i.port }}{{ "\\n" }}{% endfor %}');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('10.0.0.1:8080\n10.0.0.2:8080\n');
  });

  it('a template with spaces, braces, quotes and newlines is one argument of -o', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await svcreg(p, 'list', '-o', 'template={% for s in items %}{{ s.service }} = {{ s.instances }} {"x": \'y\'}\n{% endfor %}');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('db = 1 {"x": \'y\'}\nweb = 2 {"x": \'y\'}\n');
  });

  it('--output=template=... and -o=template=... are read as a template', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    for (const spelling of ['--output=template={{ items.size }}', '-o=template={{ items.size }}']) {
      const r = await svcreg(p, 'list', spelling);
      expect(r.code, `${spelling}: ${describeResult(r)}`).toBe(0);
      expect(r.stdout).toBe('2');
    }
  });

  it('list --instances -o template sees malformed entries among the items', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await svcreg(p, 'list', '--instances', '-o', 'template={% for i in items %}{% if i.malformed %}{{ i.key }} {{ i.problem }}{% endif %}{% endfor %}');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(`${p}web/broken value is not JSON`);
  });

  it('watch --count -o template renders once per event, adding nothing', async () => {
    const p = freshPrefix();
    const first = await put(`${p}web/web-1`, instance('web', 'web-1'));
    await client.delete().key(`${p}web/web-1`).exec();
    const r = await svcreg(p, 'watch', '--rev', String(first), '--count', '2', '-o', 'template={{ type }} {{ id }} {{ revision }}|');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(`PUT web-1 ${first}|DELETE web-1 ${first + 1}|`);
  });

  it('purge --dry-run -o template sees the entries it would delete as items', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const r = await svcreg(p, 'purge', 'web', '--dry-run', '-o', 'template={{ items | map: "id" | join: "," }}');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('broken,web-1,web-2');
  });

  it('-o template-file=PATH renders the file', async () => {
    const p = freshPrefix();
    await seedRegistry(p);
    const file = join(dir, 'upstreams.liquid');
    writeFileSync(file, 'upstream web {\n{%- for i in items %}\n  server {{ i.address }}:{{ i.port }};\n{%- endfor %}\n}\n');
    const r = await svcreg(p, 'discover', 'web', '-o', `template-file=${file}`);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('upstream web {\n  server 10.0.0.1:8080;\n  server 10.0.0.2:8080;\n}\n');
  });

  it('off a terminal, values from etcd are inserted as they are, and never read as template code', async () => {
    const p = freshPrefix();
    await put(`${p}evil/e1`, instance('evil', 'e1', HOSTILE));
    const r = await svcreg(p, 'discover', 'evil', '-o', 'template={% for i in items %}{{ i.address }}|{{ i.metadata.note }}{% endfor %}');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(`${HOSTILE.address}|{{ 7 | plus: 1 }}`);
  });

  it('on a terminal, values from etcd are shown escaped and the line breaks the template writes are kept', async () => {
    const p = freshPrefix();
    await put(`${p}evil/e1`, instance('evil', 'e1', HOSTILE));
    const template = 'template={% for i in items %}{{ i.address }} {{ i.tags | raw }}{{ "\\n" }}{% endfor %}end';
    const tty = startCliOnTty(['--endpoints', etcd.endpoints, '--prefix', p, 'discover', 'evil', '-o', template]);
    started.push(tty);
    const r = await tty.exited;
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).not.toMatch(/[\u001b\u009b]/);
    // A terminal shows a line break as \r\n.
    expect(r.stdout).toBe('10.0.0.9\\x1b[2J\\x1b[HALL GOOD v1\\n---\\nforged: true\\x9b2J\r\nend');
  });
});

describe('template errors', () => {
  it('a template that does not parse exits 2 naming the line and column, before any request', async () => {
    // etcd is refused: a request would exit 3.
    const r = await runCli(['--endpoints', REFUSED, 'discover', 'web', '-o', 'template=first line\n{% for i in items %}{{ i.address }}']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toBe('svcreg: error: invalid template: tag {% for i in items %} not closed, line:2, col:1; templates are Liquid: {{ field }}, {% for i in items %}...{% endfor %}\n');
  });

  it('an unknown filter exits 2 naming the line and column, before any request', async () => {
    const r = await runCli(['--endpoints', REFUSED, 'list', '-o', 'template={{ items | nope }}']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/^svcreg: error: invalid template: undefined filter: nope, line:1, col:1;/);
  });

  it('a template file that does not parse exits 2 naming the file, line and column', async () => {
    const file = join(dir, 'broken.liquid');
    writeFileSync(file, 'ok\nok\n  {{ items');
    const r = await runCli(['--endpoints', REFUSED, 'list', '-o', `template-file=${file}`]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain(`file:${file}, line:3, col:3`);
  });

  it('a template file that cannot be read exits 2, before any request', async () => {
    const r = await runCli(['--endpoints', REFUSED, 'list', '-o', `template-file=${join(dir, 'missing.liquid')}`]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toMatch(/cannot read -o template-file .*missing\.liquid: ENOENT/);
  });

  it('-o template without a template exits 2 with an example', async () => {
    const r = await runCli(['--endpoints', REFUSED, 'list', '-o', 'template']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain("-o 'template={{ address }}:{{ port }}'");
  });
});
