// `status` without etcd: how answers become rows (leader, alarms, health), how a failure
// is said in a row, and what the printer makes of the rows.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { summarize, type ClusterStatus, type EndpointAnswer } from '../../src/etcd/cluster-status.js';
import { failureReason, translate } from '../../src/etcd/status-table.js';
import { EtcdRequestError, GrpcStatus, type MemberStatus } from '../../src/etcd/transport.js';
import type { Io } from '../../src/output/io.js';
import { humanBytes, printStatus, statusProblems } from '../../src/output/status.js';

const A = 'http://127.0.0.1:2379';
const B = 'http://127.0.0.1:22379';
const C = 'http://127.0.0.1:32379';

/** Member ids in decimal, as etcd sends them, and in the hex status shows. */
const ID = { a: '11', b: '12', c: '13' } as const;
const HEX = { a: 'b', b: 'c', c: 'd' } as const;

function member(id: string, leader: string, over: Partial<MemberStatus> = {}): EndpointAnswer {
  const status: MemberStatus = { member_id: id, revision: '42', version: '3.4.23', db_size: '32768', db_size_in_use: '16384', leader, raft_index: '9', raft_term: '2', ...over };
  return { status, round_trip_ms: 1.234 };
}

const healthy = (alarms: { member_id: string; alarm: string }[] = []) =>
  summarize([A, B, C], [member(ID.a, ID.b), member(ID.b, ID.b), member(ID.c, ID.b)], { alarms });

describe('cluster status from the answers', () => {
  it('an endpoint is the leader when the leader it follows is its own member', () => {
    const status = healthy();
    expect(status.endpoints.map((e) => e.is_leader)).toEqual([false, true, false]);
    expect(status.endpoints.map((e) => e.leader_id)).toEqual([HEX.b, HEX.b, HEX.b]);
    expect(status.endpoints.map((e) => e.member_id)).toEqual([HEX.a, HEX.b, HEX.c]);
  });

  it('is healthy when every endpoint answers, one follows a leader and no alarm is raised', () => {
    expect(healthy()).toMatchObject({ healthy: true, has_leader: true, alarms: [], alarms_error: null });
  });

  it('turns int64 fields into numbers and uint64 ids beyond 2^53 into exact hex', () => {
    const big = '18446744073709551615';
    const [row] = summarize([A], [member(big, big, { revision: '7', raft_term: '3', raft_index: '99' })], { alarms: [] }).endpoints;
    expect(row).toMatchObject({ member_id: 'ffffffffffffffff', leader_id: 'ffffffffffffffff', is_leader: true, db_size: 32768, db_size_in_use: 16384, revision: 7, raft_term: 3, raft_index: 99, round_trip_ms: 1.2 });
  });

  it('has no leader when no answering endpoint follows one', () => {
    const status = summarize([A, B], [member(ID.a, '0'), { error: 'connection refused' }], { alarms: [] });
    expect(status).toMatchObject({ has_leader: false, healthy: false });
    expect(status.endpoints[0]).toMatchObject({ is_leader: false, leader_id: null });
  });

  it('an endpoint that did not answer is a row with its reason and every other field null', () => {
    const [, row] = summarize([A, B], [member(ID.a, ID.a), { error: 'connection refused' }], { alarms: [] }).endpoints;
    expect(row).toEqual({
      endpoint: B,
      reachable: false,
      error: 'connection refused',
      member_id: null,
      version: null,
      is_leader: null,
      leader_id: null,
      db_size: null,
      db_size_in_use: null,
      revision: null,
      raft_term: null,
      raft_index: null,
      alarms: null,
      round_trip_ms: null,
    });
  });

  it("shows a member's alarm on its own row only, and one raised for the whole cluster (member 0) on every row", () => {
    expect(healthy([{ member_id: ID.c, alarm: 'NOSPACE' }]).endpoints.map((e) => e.alarms)).toEqual([[], [], ['NOSPACE']]);
    expect(healthy([{ member_id: '0', alarm: 'CORRUPT' }]).endpoints.map((e) => e.alarms)).toEqual([['CORRUPT'], ['CORRUPT'], ['CORRUPT']]);
  });

  it('is not healthy when an alarm is raised, even on a member that is not among the endpoints', () => {
    const status = healthy([{ member_id: '99', alarm: 'NOSPACE' }]);
    expect(status.healthy).toBe(false);
    expect(status.alarms).toEqual([{ member_id: '63', alarm: 'NOSPACE' }]);
  });

  it('is not healthy when the alarms could not be read, and shows them as unknown', () => {
    const status = summarize([A], [member(ID.a, ID.a)], { error: 'permission denied' });
    expect(status).toMatchObject({ healthy: false, alarms: null, alarms_error: 'permission denied' });
    expect(status.endpoints[0].alarms).toBeNull();
  });

  it('keeps a member id that is not a number as it came instead of failing', () => {
    const [row] = summarize([A], [member('x\u001b[2J', '0')], { alarms: [] }).endpoints;
    expect(row.member_id).toBe('x\u001b[2J');
  });
});

describe('why an endpoint failed, for its row', () => {
  it('gives the transport reason of an unreachable endpoint, before or after translation', () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:2379');
    expect(failureReason(refused)).toBe('connection refused');
    expect(failureReason(translate(refused, '', A))).toBe('connection refused');
    expect(failureReason(new EtcdRequestError('no answer within the deadline', GrpcStatus.DEADLINE_EXCEEDED))).toBe('no answer within the deadline');
  });

  it('gives the message of any other failure', () => {
    expect(failureReason(new EtcdRequestError('etcdserver: authentication failed, invalid user ID or password', 3))).toBe('etcdserver: authentication failed, invalid user ID or password');
  });
});

function capture(color = false): { io: Io; out: () => string } {
  let out = '';
  const stdout = new PassThrough().on('data', (d) => (out += d));
  const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color, stderrColor: color };
  return { io, out: () => out };
}

const mixed = (): ClusterStatus => summarize([A, B], [member(ID.a, ID.a), { error: 'no answer within the deadline' }], { alarms: [{ member_id: ID.a, alarm: 'NOSPACE' }] });

describe('the status printer', () => {
  it('prints a table row per endpoint, sizes readable and unknowns as -', () => {
    const c = capture();
    printStatus(c.io, 'table', mixed());
    expect(c.out()).toBe(
      [
        'ENDPOINT                ID  REACHABLE  VERSION  LEADER  DB SIZE  REVISION  RAFT TERM  ALARMS   RTT    ERROR',
        'http://127.0.0.1:2379   b   yes        3.4.23   yes     32 KiB   42        2          NOSPACE  1.2ms',
        'http://127.0.0.1:22379  -   no         -        -       -        -         -          -        -      no answer within the deadline',
        '',
      ].join('\n'),
    );
  });

  it('-o wide adds the size in use and the raft index', () => {
    const c = capture();
    printStatus(c.io, 'wide', healthy());
    const [head, row] = c.out().split('\n').map((l) => l.split(/\s{2,}/));
    expect(head).toEqual(['ENDPOINT', 'ID', 'REACHABLE', 'VERSION', 'LEADER', 'DB SIZE', 'DB IN USE', 'REVISION', 'RAFT TERM', 'RAFT INDEX', 'ALARMS', 'RTT', 'ERROR']);
    expect(row).toEqual([A, HEX.a, 'yes', '3.4.23', 'no', '32 KiB', '16 KiB', '42', '2', '9', '-', '1.2ms']);
  });

  it('shows alarms that could not be read as ?', () => {
    const c = capture();
    printStatus(c.io, 'table', summarize([A], [member(ID.a, ID.a)], { error: 'permission denied' }));
    const [head, row] = c.out().split('\n').map((l) => l.split(/\s{2,}/));
    expect(row[head.indexOf('ALARMS')]).toBe('?');
  });

  it('escapes control characters etcd sent before they reach the terminal', () => {
    const c = capture();
    printStatus(c.io, 'table', summarize([A], [member(ID.a, ID.a, { version: '3.4\u001b[2J\u009b' })], { alarms: [] }));
    expect(c.out()).toContain('3.4\\x1b[2J\\x9b');
    expect(c.out()).not.toMatch(/[\u001b\u009b]/);
  });

  it('prints the rows as one JSON array for -o json and one object per line for -o ndjson', () => {
    const json = capture();
    printStatus(json.io, 'json', mixed());
    expect(JSON.parse(json.out())).toEqual(mixed().endpoints);
    const lines = capture();
    printStatus(lines.io, 'ndjson', mixed());
    expect(lines.out().trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(mixed().endpoints);
  });

  it('uses no colour without a terminal, and colour when it has one', () => {
    const plain = capture(false);
    printStatus(plain.io, 'table', mixed());
    expect(plain.out()).not.toContain('\u001b[');
    const coloured = capture(true);
    printStatus(coloured.io, 'table', mixed());
    expect(coloured.out()).toContain('\u001b[31mno\u001b[39m');
  });
});

describe('why the cluster is not healthy, in one line', () => {
  it('counts the endpoints that did not answer and names each alarm with its member and endpoint', () => {
    expect(statusProblems(mixed())).toBe(`1 of 2 endpoints unreachable; alarm NOSPACE raised on member ${HEX.a} (${A})`);
  });

  it('says when there is no leader, and when the alarms are unknown and why', () => {
    expect(statusProblems(summarize([A], [member(ID.a, '0')], { error: 'no answer within the deadline' }))).toBe('no leader; alarms unknown (no answer within the deadline)');
  });

  it('names an alarm on a member not among the endpoints by its id, and one for the whole cluster as such', () => {
    expect(statusProblems(healthy([{ member_id: '99', alarm: 'NOSPACE' }]))).toBe('alarm NOSPACE raised on member 63');
    expect(statusProblems(healthy([{ member_id: '0', alarm: 'CORRUPT' }]))).toBe('alarm CORRUPT raised for the whole cluster');
  });

  it('with no endpoint answering, says only that', () => {
    expect(statusProblems(summarize([A, B], [{ error: 'connection refused' }, { error: 'connection refused' }], { error: 'connection refused' }))).toBe('2 of 2 endpoints unreachable');
  });
});

describe('sizes', () => {
  it('are bytes below 1 KiB, then binary units, with one decimal below 10', () => {
    expect([0, 512, 1024, 32768, 1536, 1048576, 25 * 1048576, 8 * 1024 ** 3].map(humanBytes)).toEqual(['0 B', '512 B', '1.0 KiB', '32 KiB', '1.5 KiB', '1.0 MiB', '25 MiB', '8.0 GiB']);
  });
});
