/**
 * `svcreg watch [service] -- command`: the command runs once per event, one at a time, in
 * revision order, with the event's ndjson object on stdin and in its environment, as
 * etcdctl's `watch -- cmd` sets it (checked against etcdctl itself). Failures are
 * reported and the watch goes on; the first stop signal waits for a running handler and
 * the second is passed on to it, on a real terminal too.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli, startCli } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { currentRevision, history, value } from '../harness/history.js';
import { TmuxPane } from '../harness/tmux.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ETCDCTL = process.env.ETCDCTL_BIN ?? 'etcdctl';
const REFUSED = 'http://127.0.0.1:1';

let etcd: EtcdCluster;
let raw: Etcd3;
let dir: string;
/** A handler that appends {env: its SVCREG_EVENT_* and ETCD_WATCH_* variables, stdin} as one JSON line to the file it is given. */
let dump: string[];
let n = 0;
const started: CliProcess[] = [];
let pane: TmuxPane | undefined;

function flags(): { prefix: string; args: string[]; log: string } {
  const prefix = `/wh-${++n}/`;
  return { prefix, args: ['--endpoints', etcd.endpoints, '--prefix', prefix], log: join(dir, `log-${n}`) };
}

function start(args: string[], env: Record<string, string> = {}): CliProcess {
  const p = startCli(args, env);
  started.push(p);
  return p;
}

/** `svcreg args` once etcd serves its watch: what is written after that is live. */
const watching = (args: string[], env: Record<string, string> = {}) => etcd.startWatching(() => start(args, env));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

interface Dumped {
  env: Record<string, string>;
  stdin: string;
}
const dumped = (file: string) => lines(file).map((l) => JSON.parse(l) as Dumped);

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

const put = async (key: string | Buffer, v: string | Buffer) => Number((await raw.put(key).value(v).exec()).header.revision);

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoints });
  dir = mkdtempSync(join(tmpdir(), 'svcreg-handler-'));
  const script = join(dir, 'dump.cjs');
  writeFileSync(
    script,
    `const fs = require('fs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(SVCREG_EVENT_|ETCD_WATCH_)/.test(k)));
fs.appendFileSync(process.argv[2], JSON.stringify({ env, stdin: fs.readFileSync(0, 'utf8') }) + '\\n');`,
  );
  dump = [process.execPath, script];
});

afterEach(async () => {
  await pane?.stop();
  pane = undefined;
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  raw?.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('watch -- command: what the handler gets', () => {
  it('runs the handler once per event, one at a time, in revision order (a transaction in key order)', async () => {
    const { prefix, args, log } = flags();
    const from = (await currentRevision(raw)) + 1;
    await put(`${prefix}web/a`, value('web', 'a'));
    await raw
      .if(`${prefix}web/a`, 'Create', '>', 0)
      .then(raw.put(`${prefix}web/b`).value(value('web', 'b')), raw.put(`${prefix}web/c`).value(value('web', 'c')))
      .commit();
    await raw.delete().key(`${prefix}web/a`).exec();
    const to = await put(`${prefix}web/d`, value('web', 'd'));
    const handler = `echo "start $SVCREG_EVENT_REVISION $SVCREG_EVENT_KEY $(date +%s%N)" >> "$0"; sleep 0.2; echo "end $SVCREG_EVENT_REVISION $SVCREG_EVENT_KEY $(date +%s%N)" >> "$0"`;
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '5', '--', 'sh', '-c', handler, log]);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(log).map((l) => l.split(' '));
    // Each start is followed by its own end before the next start: never two at once.
    expect(rows.map(([what, rev, key]) => `${what} ${rev} ${key}`)).toEqual(
      (await history(raw, prefix, from, to)).flatMap((e) => [`start ${e.revision} ${e.key}`, `end ${e.revision} ${e.key}`]),
    );
    const times = rows.map((row) => BigInt(row[3]));
    for (let i = 1; i < times.length; i++) expect(times[i] >= times[i - 1]).toBe(true);
  });

  it("gives the handler on stdin the event's line exactly as watch -o ndjson prints it", async () => {
    const { prefix, args, log } = flags();
    const from = (await currentRevision(raw)) + 1;
    await put(`${prefix}web/w1`, value('web', 'w1'));
    await put(`${prefix}web/w1`, JSON.stringify({ ...JSON.parse(value('web', 'w1')), health: { status: 'critical', output: 'down', checked_at: 2 } }));
    await put(`${prefix}web/bad`, 'not json');
    await raw.delete().key(`${prefix}web/w1`).exec();
    const printed = await runCli([...args, 'watch', '--rev', String(from), '--count', '4', '-o', 'ndjson']);
    const handled = await runCli([...args, 'watch', '--rev', String(from), '--count', '4', '--', 'sh', '-c', 'cat >> "$0"', log]);
    expect(handled.code, handled.stderr).toBe(0);
    expect(printed.stdout.split('\n').filter(Boolean)).toHaveLength(4);
    expect(readFileSync(log, 'utf8')).toBe(printed.stdout);
  });

  it('sets SVCREG_EVENT_TYPE, _KEY, _SERVICE, _ID and _REVISION for PUT and DELETE', async () => {
    const { prefix, args, log } = flags();
    const from = await put(`${prefix}web/w1`, value('web', 'w1'));
    const deleted = Number((await raw.delete().key(`${prefix}web/w1`).exec()).header.revision);
    const r = await runCli([...args, 'watch', 'web', '--rev', String(from), '--count', '2', '--', ...dump, log]);
    expect(r.code, r.stderr).toBe(0);
    const svcreg = (e: Record<string, string>) => Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('SVCREG_')));
    expect(dumped(log).map((d) => svcreg(d.env))).toEqual([
      { SVCREG_EVENT_TYPE: 'PUT', SVCREG_EVENT_KEY: `${prefix}web/w1`, SVCREG_EVENT_SERVICE: 'web', SVCREG_EVENT_ID: 'w1', SVCREG_EVENT_REVISION: String(from) },
      { SVCREG_EVENT_TYPE: 'DELETE', SVCREG_EVENT_KEY: `${prefix}web/w1`, SVCREG_EVENT_SERVICE: 'web', SVCREG_EVENT_ID: 'w1', SVCREG_EVENT_REVISION: String(deleted) },
    ]);
  });

  it("leaves out what the event does not set (a key at the wrong depth has no id), even if svcreg's own environment has it", async () => {
    const { prefix, args, log } = flags();
    const from = await put(`${prefix}stray`, 'x');
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '1', '--', ...dump, log], { SVCREG_EVENT_ID: 'stale', SVCREG_EVENT_RESYNC: '1' });
    expect(r.code, r.stderr).toBe(0);
    const [{ env }] = dumped(log);
    expect(env.SVCREG_EVENT_KEY).toBe(`${prefix}stray`);
    expect(env).not.toHaveProperty('SVCREG_EVENT_ID');
    expect(env).not.toHaveProperty('SVCREG_EVENT_RESYNC');
  });

  it("the handler's stdout is svcreg's, and svcreg prints nothing of its own there", async () => {
    const { prefix, args } = flags();
    const from = await put(`${prefix}web/w1`, value('web', 'w1'));
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '1', '--', 'sh', '-c', 'echo "handled $SVCREG_EVENT_ID"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('handled w1\n');
  });
});

describe('watch -- command: etcdctl parity', () => {
  /** Runs `etcdctl watch --prefix P --rev R -- dump` until it has handled `count` events; its dumps. */
  async function etcdctlDumps(prefix: string, from: number, count: number, log: string): Promise<Dumped[]> {
    const endpoints = etcd.endpoints;
    const child = new CliProcess(spawn(ETCDCTL, ['--endpoints', endpoints, 'watch', '--prefix', prefix, '--rev', String(from), '--', ...dump, log], { env: { ...process.env, ETCDCTL_API: '3' } }));
    started.push(child);
    try {
      await until(`etcdctl handled ${count} events`, () => lines(log).length >= count);
    } finally {
      await child.stop();
    }
    return dumped(log);
  }

  it('gives a handler written for etcdctl the same ETCD_WATCH_* variables as etcdctl does, hostile bytes and a transaction included', async () => {
    const { prefix, args, log } = flags();
    const from = (await currentRevision(raw)) + 1;
    const hostile = Buffer.concat([
      Buffer.from('line1\nline2 "q" \\ \t \x1b[31m \x7f \u00a0 \u00ad \u200b \u2028 e\u0301 \u00e9 \u{1f600} \ufffd \x01 '),
      Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82, 0x00, 0x41]),
    ]);
    await put(`${prefix}web/w1`, value('web', 'w1'));
    await put(Buffer.concat([Buffer.from(`${prefix}web/`), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x22, 0x0a])]), hostile);
    await raw
      .if(`${prefix}web/w1`, 'Create', '>', 0)
      .then(raw.put(`${prefix}web/t1`).value('v1'), raw.put(`${prefix}web/t2`).value(''))
      .commit();
    await raw.delete().key(`${prefix}web/w1`).exec();
    const fromEtcdctl = await etcdctlDumps(prefix, from, 5, `${log}.etcdctl`);
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '5', '--', ...dump, log]);
    expect(r.code, r.stderr).toBe(0);
    const etcdVariables = (d: Dumped) => Object.fromEntries(Object.entries(d.env).filter(([k]) => k.startsWith('ETCD_WATCH_')));
    expect(fromEtcdctl.map(etcdVariables)).toHaveLength(5);
    expect(dumped(log).map(etcdVariables)).toEqual(fromEtcdctl.map(etcdVariables));
    // The quoting is etcdctl's own (Go's %q): nothing raw, even from hostile bytes.
    expect(fromEtcdctl[1].env.ETCD_WATCH_KEY).toBe(`"${prefix}web/\\x1b[2J\\xff\\"\\n"`);
  });

  it('gives the handler the same ETCD_WATCH_* variables as etcdctl for a live PUT and DELETE', async () => {
    const { prefix, args, log } = flags();
    const svcreg = await watching([...args, 'watch', '--', ...dump, log]);
    const etcdctlLog = `${log}.etcdctl`;
    const etcdctl = await etcd.startWatching(() => {
      const child = new CliProcess(spawn(ETCDCTL, ['--endpoints', etcd.endpoints, 'watch', '--prefix', prefix, '--', ...dump, etcdctlLog], { env: { ...process.env, ETCDCTL_API: '3' } }));
      started.push(child);
      return child;
    });
    await put(`${prefix}web/w1`, value('web', 'w1'));
    await until('the PUT handled by both', () => lines(log).length === 1 && lines(etcdctlLog).length === 1);
    await raw.delete().key(`${prefix}web/w1`).exec();
    await until('the DELETE handled by both', () => lines(log).length === 2 && lines(etcdctlLog).length === 2);
    await Promise.all([svcreg.stop(), etcdctl.stop()]);
    const etcdVariables = (d: Dumped) => Object.fromEntries(Object.entries(d.env).filter(([k]) => k.startsWith('ETCD_WATCH_')));
    expect(dumped(log).map(etcdVariables)).toEqual(dumped(etcdctlLog).map(etcdVariables));
    expect(dumped(log)[1].env).toMatchObject({ ETCD_WATCH_EVENT_TYPE: '"DELETE"', ETCD_WATCH_VALUE: '""' });
  });
});

describe('watch -- command: hostile values', () => {
  it('passes values as environment and stdin only: a value that is shell code is never run', async () => {
    const { prefix, args, log } = flags();
    const marker = join(dir, `pwned-${n}`);
    const code = `$(touch ${marker}); touch ${marker}; \`touch ${marker}\``;
    const from = await put(`${prefix}web/${code.replaceAll('/', '_')}`, code);
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '1', '--', ...dump, log]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(dumped(log)[0].env.ETCD_WATCH_VALUE).toBe(JSON.stringify(code));
  });

  it('a NUL in the key leaves SVCREG_EVENT_KEY and _ID out, with a warning; the handler runs with the event on stdin and ETCD_WATCH_KEY quoted', async () => {
    const { prefix, args, log } = flags();
    const from = await put(`${prefix}web/a\0b`, value('web', 'a'));
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '1', '--', ...dump, log]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: SVCREG_EVENT_KEY \(it holds a NUL byte\) left out of the environment of the handler of PUT .*web\/a\\x00b at revision/);
    expect(r.stderr).toMatch(/warning: SVCREG_EVENT_ID \(it holds a NUL byte\) left out/);
    const [{ env, stdin }] = dumped(log);
    expect(env).not.toHaveProperty('SVCREG_EVENT_KEY');
    expect(env).not.toHaveProperty('SVCREG_EVENT_ID');
    expect(env.ETCD_WATCH_KEY).toBe(`"${prefix}web/a\\x00b"`);
    expect(JSON.parse(stdin).key).toBe(`${prefix}web/a\0b`);
  });

  it('a value over 128 KiB leaves ETCD_WATCH_VALUE out, with a warning; the handler runs with the whole event on stdin', async () => {
    const { prefix, args, log } = flags();
    const big = JSON.stringify({ ...JSON.parse(value('web', 'big')), metadata: { blob: 'x'.repeat(200_000) } });
    const from = await put(`${prefix}web/big`, big);
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '1', '--', ...dump, log]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: ETCD_WATCH_VALUE \(over 128 KiB\) left out/);
    const [{ env, stdin }] = dumped(log);
    expect(env).not.toHaveProperty('ETCD_WATCH_VALUE');
    expect(env.ETCD_WATCH_KEY).toBe(`"${prefix}web/big"`);
    expect(JSON.parse(stdin).instance.metadata.blob).toHaveLength(200_000);
  });
});

describe('watch -- command: failures', () => {
  it('a handler that exits non-zero or is killed by a signal is reported on stderr, and the next events run', async () => {
    const { prefix, args, log } = flags();
    const from = await put(`${prefix}web/a`, value('web', 'a'));
    const killed = await put(`${prefix}web/b`, value('web', 'b'));
    await put(`${prefix}web/c`, value('web', 'c'));
    const handler = 'case "$SVCREG_EVENT_ID" in a) exit 3;; b) kill -KILL $$;; esac; echo "ran $SVCREG_EVENT_ID" >> "$0"';
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '3', '--', 'sh', '-c', handler, log]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`svcreg: handler failed on PUT ${prefix}web/a at revision ${from}: exit code 3\n`);
    expect(r.stderr).toContain(`svcreg: handler failed on PUT ${prefix}web/b at revision ${killed}: killed by SIGKILL\n`);
    expect(lines(log)).toEqual(['ran c']);
  });

  it('a command that cannot be found exits 127 before watching', async () => {
    // etcd refuses: had svcreg tried to watch first, it would exit 3.
    const r = await runCli(['--endpoints', REFUSED, '--timeout', '1s', 'watch', '--', './no-such-handler']);
    expect(r.code, r.stderr).toBe(127);
    expect(r.stderr).toBe('svcreg: error: cannot run ./no-such-handler: no such file; nothing was watched; check the command name and PATH\n');
  });

  it('--handler-timeout stops a handler that runs too long (SIGTERM), reports it, and the next events run', async () => {
    const { prefix, args, log } = flags();
    const from = await put(`${prefix}web/slow`, value('web', 'slow'));
    await put(`${prefix}web/fast`, value('web', 'fast'));
    const handler = '[ "$SVCREG_EVENT_ID" = slow ] && sleep 30; echo "ran $SVCREG_EVENT_ID" >> "$0"';
    const r = await runCli([...args, 'watch', '--rev', String(from), '--count', '2', '--handler-timeout', '500ms', '--', 'sh', '-c', handler, log]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`handler failed on PUT ${prefix}web/slow at revision ${from}: timed out after 500ms, then killed by SIGTERM\n`);
    expect(lines(log)).toEqual(['ran fast']);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('events written while a handler runs are all handled after it, none dropped or merged', async () => {
    const { prefix, args, log } = flags();
    const busy = `${log}.busy`;
    const handler = '[ "$SVCREG_EVENT_ID" = first ] && touch "$0.busy" && sleep 1; echo "$SVCREG_EVENT_REVISION $SVCREG_EVENT_TYPE $SVCREG_EVENT_KEY" >> "$0"';
    const p = await watching([...args, 'watch', '--count', '201', '--', 'sh', '-c', handler, log]);
    const from = await put(`${prefix}web/first`, value('web', 'first'));
    await until('the first handler running', () => existsSync(busy));
    let to = from;
    for (let i = 0; i < 200; i++) to = i % 4 === 3 ? Number((await raw.delete().key(`${prefix}web/${i - 1}`).exec()).header.revision) : await put(`${prefix}web/${i}`, value('web', String(i)));
    const result = await p.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(lines(log)).toEqual((await history(raw, prefix, from, to)).map((e) => `${e.revision} ${e.type} ${e.key}`));
  });
});

describe('watch -- command: stop signals', () => {
  it('the first SIGTERM waits for the running handler, starts no other, and exits 0', async () => {
    const { prefix, args, log } = flags();
    const handler = 'touch "$0.running"; sleep 1.5; echo "finished $SVCREG_EVENT_ID" >> "$0"';
    const p = await watching([...args, 'watch', '--', 'sh', '-c', handler, log]);
    await put(`${prefix}web/a`, value('web', 'a'));
    await put(`${prefix}web/b`, value('web', 'b'));
    await until('the handler running', () => existsSync(`${log}.running`));
    p.signal('SIGTERM');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`waiting for the handler of PUT ${prefix}web/a at revision`);
    expect(lines(log)).toEqual(['finished a']);
  });

  /** Runs `handler` (which touches `$0.running`) for one PUT and sends svcreg SIGTERM twice, the second once it waits for the handler. */
  async function stoppedTwice(handler: string, options: string[] = []) {
    const { prefix, args, log } = flags();
    const p = await watching([...args, 'watch', ...options, '--', 'sh', '-c', handler, log]);
    await put(`${prefix}web/a`, value('web', 'a'));
    await until('the handler running', () => existsSync(`${log}.running`));
    p.signal('SIGTERM');
    await p.waitFor(/waiting for the handler/, { stream: 'stderr' });
    const second = Date.now();
    p.signal('SIGTERM');
    const r = await p.exited;
    return { r, log, afterSecondMs: Date.now() - second };
  }

  it('a second SIGTERM is passed on to the running handler, and svcreg exits 143', async () => {
    const { r, log, afterSecondMs } = await stoppedTwice('trap \'echo "got TERM" >> "$0"; exit 9\' TERM; touch "$0.running"; sleep 30 & wait');
    expect(r.code, r.stderr).toBe(143);
    expect(afterSecondMs).toBeLessThan(5000);
    expect(lines(log)).toEqual(['got TERM']);
    expect(r.stderr).toMatch(/handler failed on PUT .*web\/a at revision \d+: exit code 9/);
  });

  it('a handler that ignores the passed-on signal is killed after --kill-timeout', async () => {
    const { r, afterSecondMs } = await stoppedTwice('trap "" TERM; touch "$0.running"; sleep 30', ['--kill-timeout', '1s']);
    expect(r.code, r.stderr).toBe(143);
    expect(afterSecondMs).toBeGreaterThanOrEqual(900);
    expect(r.stderr).toMatch(/handler failed on PUT .*web\/a at revision \d+: killed by SIGKILL/);
  });
});

describe('watch -- command: Ctrl-C at a terminal', () => {
  async function paneRunning(handler: string, log: string, args: string[], prefix: string): Promise<TmuxPane> {
    pane = await TmuxPane.start([...args, 'watch', '--', 'sh', '-c', handler, log]);
    await pane.waitFor(/watching .* from revision/);
    await put(`${prefix}web/a`, value('web', 'a'));
    await put(`${prefix}web/b`, value('web', 'b'));
    await until('the handler running', () => existsSync(`${log}.running`));
    return pane;
  }

  it('the first Ctrl-C waits for the running handler (which does not see it), starts no other, and exits 0', async () => {
    const { prefix, args, log } = flags();
    const handler = 'trap \'echo "got INT" >> "$0"; exit 9\' INT; touch "$0.running"; echo "handling $SVCREG_EVENT_ID"; sleep 2 & wait; echo "finished $SVCREG_EVENT_ID" >> "$0"';
    const tty = await paneRunning(handler, log, args, prefix);
    await tty.keys('C-c');
    await tty.waitFor(/waiting for the handler of PUT .*web\/a/);
    await tty.waitFor(/\[terminal unchanged\]\s+\[exit 0\]/, 15_000);
    expect(lines(log)).toEqual(['finished a']);
  });

  it('a second Ctrl-C stops the running handler (it gets SIGINT once) and exits 130', async () => {
    const { prefix, args, log } = flags();
    const handler = 'trap \'echo "got INT" >> "$0"; exit 9\' INT; touch "$0.running"; sleep 30 & wait; echo "finished $SVCREG_EVENT_ID" >> "$0"';
    const tty = await paneRunning(handler, log, args, prefix);
    await tty.keys('C-c');
    await tty.waitFor(/waiting for the handler of PUT .*web\/a/);
    await tty.keys('C-c');
    const screen = await tty.waitFor(/\[terminal unchanged\]\s+\[exit 130\]/, 15_000);
    expect(screen).toMatch(/handler failed on PUT .*web\/a at revision \d+: exit code 9/);
    expect(lines(log)).toEqual(['got INT']);
  });
});
