// `svcreg status` against real clusters: healthy, a member killed, a member frozen, both
// at once, a NOSPACE alarm raised for real, the JSON gateway off, and auth on.
import { AlarmType, Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill, raiseAlarm, SMALL_QUOTA } from '../harness/alarms.js';
import { enableAuth } from '../harness/auth.js';
import { runCli } from '../harness/cli.js';
import type { EndpointStatus } from '../../src/index.js';
import { startEtcd, type EtcdCluster, type EtcdMember } from '../harness/etcd.js';

type Row = EndpointStatus;

/** `status -o json` through `endpoints`, in that order. */
async function status(endpoints: string[], extra: string[] = [], env: Record<string, string> = {}) {
  const r = await runCli(['--endpoints', endpoints.join(','), ...extra, 'status', '-o', 'json'], env);
  return { ...r, rows: JSON.parse(r.stdout) as Row[] };
}

/** A member id as etcd's gateway gives it (decimal) in the hex status prints. */
async function hexId(member: EtcdMember): Promise<string> {
  return BigInt((await member.status())!.memberId).toString(16);
}

/** The fields of a row that answered, with their types and etcd's own values. */
async function expectAnswered(row: Row, member: EtcdMember, leader: EtcdMember): Promise<void> {
  expect(row).toMatchObject({ endpoint: member.clientUrl, reachable: true, error: null, alarms: [] });
  expect(row.member_id).toBe(await hexId(member));
  expect(row.leader_id).toBe(await hexId(leader));
  expect(row.is_leader).toBe(member === leader);
  expect(row.version).toMatch(/^3\.\d+\.\d+/);
  for (const field of ['db_size', 'db_size_in_use', 'revision', 'raft_term', 'raft_index'] as const) expect(row[field], field).toBeGreaterThan(0);
  expect(row.round_trip_ms).toBeGreaterThanOrEqual(0);
  expect(row.round_trip_ms).toBeLessThan(1000);
}

describe('a 3-member cluster', () => {
  let cluster: EtcdCluster;
  let leader: EtcdMember;
  /** The members that are not the leader: the ones the fault tests stop. */
  let followers: EtcdMember[];
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3 });
    leader = await cluster.leader();
    followers = cluster.members.filter((m) => m !== leader);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const urls = (members: EtcdMember[]) => members.map((m) => m.clientUrl);

  it('healthy: one row per endpoint, exactly one leader, nothing on stderr, exit 0', async () => {
    const r = await runCli(['--endpoints', cluster.endpoints, 'status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const [head, ...lines] = r.stdout.trimEnd().split('\n');
    expect(head.split(/\s{2,}/)).toEqual(['ENDPOINT', 'ID', 'REACHABLE', 'VERSION', 'LEADER', 'DB SIZE', 'REVISION', 'RAFT TERM', 'ALARMS', 'RTT', 'ERROR']);
    expect(lines.map((l) => l.split(/\s{2,}/)[0])).toEqual(urls(cluster.members));
    expect(lines.map((l) => l.split(/\s{2,}/)[4]).sort()).toEqual(['no', 'no', 'yes']);
  });

  it('-o json: one object per endpoint with every field typed and as etcd reports it', async () => {
    const r = await status(urls(cluster.members));
    expect(r.code, r.stderr).toBe(0);
    expect(r.rows).toHaveLength(3);
    for (const [i, row] of r.rows.entries()) await expectAnswered(row, cluster.members[i], leader);
    expect(r.rows.filter((row) => row.is_leader)).toHaveLength(1);
  });

  it('a killed member is a row saying connection refused, the others still shown, exit 3', async () => {
    const [dead] = followers;
    await dead.kill9();
    try {
      const r = await status(urls(cluster.members));
      expect(r.code).toBe(3);
      const row = r.rows[cluster.members.indexOf(dead)];
      expect(row).toMatchObject({ endpoint: dead.clientUrl, reachable: false, error: 'connection refused', member_id: null, is_leader: null, alarms: null });
      for (const m of cluster.members.filter((m) => m !== dead)) await expectAnswered(r.rows[cluster.members.indexOf(m)], m, leader);
      expect(r.stderr).toBe('svcreg: not healthy: 1 of 3 endpoints unreachable\n');
    } finally {
      await dead.start();
    }
  });

  it('a frozen member is a row saying it gave no answer, within the deadline, exit 3', async () => {
    const [frozen] = followers;
    // First: the alarm list, asked of one endpoint at a time, starts with it too.
    const order = [frozen, ...cluster.members.filter((m) => m !== frozen)];
    frozen.freeze();
    try {
      const r = await status(urls(order), ['--timeout', '1s']);
      expect(r.code).toBe(3);
      expect(r.ms).toBeLessThan(4000);
      expect(r.rows[0]).toMatchObject({ endpoint: frozen.clientUrl, reachable: false, error: 'no answer within the deadline' });
      expect(r.rows.slice(1).map((row) => row.reachable)).toEqual([true, true]);
      expect(r.stderr).toMatch(/^svcreg: not healthy: 1 of 3 endpoints unreachable(;|\n)/);
    } finally {
      frozen.thaw();
    }
  });

  it('one member killed and one frozen: all three rows within the deadline, exit 3', async () => {
    const [dead, frozen] = followers;
    await dead.kill9();
    frozen.freeze();
    try {
      const r = await status(urls(cluster.members), ['--timeout', '1s']);
      expect(r.code).toBe(3);
      expect(r.ms).toBeLessThan(4000);
      const row = (m: EtcdMember) => r.rows[cluster.members.indexOf(m)];
      expect(row(dead)).toMatchObject({ reachable: false, error: 'connection refused' });
      expect(row(frozen)).toMatchObject({ reachable: false, error: 'no answer within the deadline' });
      expect(row(leader)).toMatchObject({ reachable: true, member_id: await hexId(leader) });
      // Without a quorum, etcd cannot answer the alarm list, which goes through raft.
      expect(row(leader).alarms).toBeNull();
      expect(r.stderr).toMatch(/^svcreg: not healthy: 2 of 3 endpoints unreachable; .*alarms unknown \(/);
      expect(r.stderr.split('\n')).toHaveLength(2);
    } finally {
      frozen.thaw();
      await dead.start();
    }
  });
});

describe('a member whose database is full', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: SMALL_QUOTA });
    await fill(etcd.endpoints);
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('shows the NOSPACE alarm on its row and says which member on stderr, exit 3', async () => {
    const [member] = etcd.members;
    const r = await status([member.clientUrl]);
    expect(r.code).toBe(3);
    expect(r.rows).toMatchObject([{ reachable: true, alarms: ['NOSPACE'] }]);
    expect(r.stderr).toBe(`svcreg: not healthy: alarm NOSPACE raised on member ${await hexId(member)} (${member.clientUrl})\n`);
  });

  it('the table shows NOSPACE under ALARMS', async () => {
    const r = await runCli(['--endpoints', etcd.endpoints, 'status']);
    expect(r.code).toBe(3);
    const [head, row] = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(row[head.indexOf('ALARMS')]).toBe('NOSPACE');
  });
});

describe('an etcd with its JSON gateway off', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: ['--enable-grpc-gateway=false'] });
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  it('answers over gRPC with the same fields, exit 0', async () => {
    const [member] = etcd.members;
    const r = await status([member.clientUrl]);
    expect(r.code, r.stderr).toBe(0);
    // The harness reads the member's id through etcd3 here: the gateway is off.
    const { header } = await raw.maintenance.status();
    expect(r.rows).toMatchObject([{ reachable: true, is_leader: true, member_id: BigInt(header.member_id).toString(16), alarms: [] }]);
    expect(r.rows[0].db_size).toBeGreaterThan(0);
  });

  it('shows an alarm raised on the member, read over gRPC, exit 3', async () => {
    await raiseAlarm(raw, AlarmType.Corrupt);
    const r = await status(etcd.members.map((m) => m.clientUrl));
    expect(r.code).toBe(3);
    expect(r.rows).toMatchObject([{ reachable: true, alarms: ['CORRUPT'] }]);
    expect(r.stderr).toMatch(/alarm CORRUPT raised on member [0-9a-f]+ /);
  });
});

describe('an etcd with auth on', () => {
  let etcd: EtcdCluster;
  const USER = 'svc';
  const PASSWORD = 'pw-status';
  beforeAll(async () => {
    etcd = await startEtcd();
    (await enableAuth(etcd.endpoints, USER, PASSWORD)).close();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('a user granted only the prefix reads the status and the alarms, exit 0', async () => {
    const r = await status([etcd.endpoints], ['--user', USER], { SVCREG_PASSWORD: PASSWORD });
    expect(r.code, r.stderr).toBe(0);
    expect(r.rows).toMatchObject([{ reachable: true, is_leader: true, alarms: [] }]);
  });

  it('a wrong password is a row saying authentication failed, exit 3', async () => {
    const r = await status([etcd.endpoints], ['--user', USER], { SVCREG_PASSWORD: 'wrong' });
    expect(r.code).toBe(3);
    expect(r.rows[0].reachable).toBe(false);
    expect(r.rows[0].error).toMatch(/authentication failed/);
  });
});
