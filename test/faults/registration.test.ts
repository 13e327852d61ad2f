/**
 * Registrations under real faults: etcd frozen (SIGSTOP), killed and restarted,
 * leaders killed in a 3-member cluster, a member frozen.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../harness/cli.js';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: CliProcess[] = [];

function registrant(endpoints: string, args: string[]): CliProcess {
  const p = startCli(['--endpoints', endpoints, '--timeout', '1s', 'register', 'web', '--address', '127.0.0.1', '--port', '80', '-o', 'ndjson', ...args]);
  started.push(p);
  return p;
}

/** Polls `key` every 100 ms through any member that answers; counts answers that say it is absent. */
function pollKey(cluster: EtcdCluster, key: string) {
  const result = { polls: 0, answered: 0, missing: 0, stop: false };
  const done = (async () => {
    while (!result.stop) {
      const value = await cluster.get(key);
      result.polls++;
      if (value !== undefined) result.answered++;
      if (value === null) result.missing++;
      await sleep(100);
    }
  })();
  return { finish: async () => ((result.stop = true), await done, result) };
}

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

describe('one etcd', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it('frozen for 3×TTL: the registrant reports the loss and re-registers within 2 s of etcd answering', async () => {
    const member = etcd.members[0];
    const p = registrant(etcd.endpoints, ['--id', 'frozen', '--ttl', '2']);
    await p.waitFor(/"event":"registered"/);
    member.freeze();
    await sleep(6000);
    const thawed = Date.now();
    member.thaw();
    await p.waitFor(/"event":"reregistered"/, { timeoutMs: 20_000 });
    const recoveryMs = Date.now() - thawed;
    expect(await raw.get('/services/web/frozen').string()).not.toBeNull();
    const events = p.stdout.trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).toEqual(['registered', 'lost', 'reregistered']);
    // stderr is a pipe of its own: its last line (written after the stdout event) may still be on its way.
    await p.waitFor(/re-registered \/services\/web\/frozen/, { stream: 'stderr' });
    expect(p.stderr).toMatch(/registration lost: \/services\/web\/frozen/);
    // Throttled: a 6 s outage with a 667 ms renewal interval gives a few lines, not one per attempt.
    expect(p.stderr.trim().split('\n').length).toBeLessThanOrEqual(5);
    expect(p.child.exitCode).toBeNull();
    expect(recoveryMs).toBeLessThan(4000);
    console.log(`recovery after SIGCONT: ${recoveryMs} ms`);
  });

  it('killed and restarted after more than a TTL: the registrant re-registers the same key', async () => {
    const member = etcd.members[0];
    const p = registrant(etcd.endpoints, ['--id', 'restarted', '--ttl', '2']);
    await p.waitFor(/"event":"registered"/);
    await member.kill9();
    await sleep(3000);
    await member.start();
    const answering = Date.now();
    await p.waitFor(/"event":"reregistered"/, { timeoutMs: 20_000 });
    const recoveryMs = Date.now() - answering;
    expect(await raw.get('/services/web/restarted').string()).not.toBeNull();
    expect(p.stdout.trim().split('\n').map((l) => JSON.parse(l).event)).toEqual(['registered', 'lost', 'reregistered']);
    expect(recoveryMs).toBeLessThan(4000);
    console.log(`recovery after restart: ${recoveryMs} ms`);
    // The old lease, which etcd revived on restart, must not take the key with it when it expires.
    await sleep(5000);
    expect(await raw.get('/services/web/restarted').string()).not.toBeNull();
  });

  it('a second signal while deregistering from a frozen etcd exits at once', async () => {
    const member = etcd.members[0];
    const p = startCli(['--endpoints', etcd.endpoints, '--timeout', '5s', 'register', 'web', '--id', 'impatient', '--address', '127.0.0.1', '--port', '80']);
    started.push(p);
    await p.waitFor(/registered/);
    member.freeze();
    try {
      p.signal('SIGTERM');
      await sleep(300);
      const second = Date.now();
      p.signal('SIGTERM');
      const result = await p.exited;
      expect(result.code).toBe(128 + 15);
      expect(Date.now() - second).toBeLessThan(2000);
      expect(result.stderr).toMatch(/expires within its TTL/);
    } finally {
      member.thaw();
    }
  });

  it('a signal that arrives while registering stops it without starting the command', async () => {
    const member = etcd.members[0];
    member.freeze();
    const p = startCli(['--endpoints', etcd.endpoints, '--timeout', '5s', 'register', 'web', '--id', 'early', '--address', '127.0.0.1', '--port', '80', '--', process.execPath, '-e', "console.log('command started')"]);
    started.push(p);
    try {
      await sleep(1000); // node is up and waiting for etcd
      p.signal('SIGINT');
      await sleep(300);
    } finally {
      member.thaw();
    }
    const result = await p.exited;
    expect(result.stdout).not.toMatch(/command started/);
    expect(result.code).toBe(0);
    expect(await raw.get('/services/web/early').string()).toBeNull();
  });

  it('discover --wait interrupted before it reached etcd exits 128+n at once', async () => {
    const member = etcd.members[0];
    member.freeze();
    const p = startCli(['--endpoints', etcd.endpoints, '--timeout', '5s', 'discover', 'nothing', '--wait']);
    started.push(p);
    try {
      await sleep(1000);
      p.signal('SIGINT');
      await sleep(300);
    } finally {
      member.thaw();
    }
    const result = await Promise.race([p.exited, sleep(8000).then(() => undefined)]);
    expect(result?.code).toBe(130);
  });

  it('with --on-lost exit, a lost registration exits 6', async () => {
    const member = etcd.members[0];
    const p = registrant(etcd.endpoints, ['--id', 'gives-up', '--ttl', '2', '--on-lost', 'exit']);
    await p.waitFor(/"event":"registered"/);
    member.freeze();
    try {
      const result = await Promise.race([p.exited, sleep(15_000).then(() => undefined)]);
      expect(result?.code).toBe(6);
      expect(result?.stderr).toMatch(/registration lost/);
    } finally {
      member.thaw();
    }
  });
});

describe('a 3-member cluster', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('5 consecutive leader kills: a poll every 100 ms never finds the registration missing', async () => {
    const p = registrant(cluster.endpoints, ['--id', 'through-elections', '--ttl', '5']);
    await p.waitFor(/"event":"registered"/);
    const poll = pollKey(cluster, '/services/web/through-elections');
    for (let round = 0; round < 5; round++) {
      const leader = await cluster.leader();
      await leader.kill9();
      await sleep(1500);
      await leader.start();
      await cluster.leader();
      await sleep(1000);
    }
    await sleep(1000);
    const result = await poll.finish();
    expect(result.missing).toBe(0);
    expect(result.answered).toBeGreaterThan(30);
    expect(p.child.exitCode).toBeNull();
    // On a loaded machine an election can outlast the TTL: the registrant may then report
    // "lost" and swap in a new lease (atomically: the polls above never saw a gap). Either
    // way it must end registered.
    const events = p.stdout.trim().split('\n').map((l) => JSON.parse(l).event);
    expect(['registered', 'reregistered']).toContain(events.at(-1));
    console.log(`leader kills: ${result.polls} polls, ${result.answered} answered, ${result.missing} missing; events: ${events.join(', ')}`);
  });

  it('the member it talks to frozen for 3×TTL: a poll every 100 ms never finds the registration missing', async () => {
    // Connection starts with the first endpoint, so freeze that one.
    const p = registrant(cluster.endpoints, ['--id', 'through-freeze', '--ttl', '3']);
    await p.waitFor(/"event":"registered"/);
    const poll = pollKey(cluster, '/services/web/through-freeze');
    cluster.members[0].freeze();
    try {
      await sleep(9000);
    } finally {
      cluster.members[0].thaw();
    }
    await sleep(1000);
    const result = await poll.finish();
    expect(result.missing).toBe(0);
    expect(result.answered).toBeGreaterThan(30);
    expect(p.child.exitCode).toBeNull();
    console.log(`frozen member: ${result.polls} polls, ${result.answered} answered, ${result.missing} missing`);
  });
});
