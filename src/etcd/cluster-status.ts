/**
 * What `svcreg status` shows: each endpoint asked for its member's status on its own (no
 * failover: a dead endpoint is a row that says so), all at once and each within the
 * request deadline, and the cluster's alarms asked once beside them. etcdctl's `endpoint
 * status` and `alarm list` in one answer.
 */
import type { Connection } from './connection.js';
import { failureReason } from './status-table.js';
import { monotonicMs } from './timers.js';
import type { MemberStatus, RaisedAlarm } from './transport.js';

/** One endpoint's row. What etcd did not say (the endpoint did not answer) is null. */
export interface EndpointStatus {
  endpoint: string;
  /** Whether it answered the status request. */
  reachable: boolean;
  /** Why it did not: "connection refused", "no answer within the deadline", a TLS or auth problem. */
  error: string | null;
  /** The member that answered, in hex as etcdctl shows member ids. */
  member_id: string | null;
  /** Its etcd version. */
  version: string | null;
  is_leader: boolean | null;
  /** The leader the member follows (hex); null when it knows none, as during an election. */
  leader_id: string | null;
  /** Bytes the member's database takes on disk. */
  db_size: number | null;
  /** Bytes of it in use (the rest a defrag would free). */
  db_size_in_use: number | null;
  revision: number | null;
  raft_term: number | null;
  raft_index: number | null;
  /** Alarms raised on this member (NOSPACE, CORRUPT); null when they could not be read. */
  alarms: string[] | null;
  /** Milliseconds a status request took on an open connection (monotonic clock). */
  round_trip_ms: number | null;
}

/** An alarm raised in the cluster. */
export interface ClusterAlarm {
  /** The member it is raised on, in hex; "0" when raised for the whole cluster. */
  member_id: string;
  alarm: string;
}

export interface ClusterStatus {
  /** One row per endpoint, in the order given. */
  endpoints: EndpointStatus[];
  /** Every alarm raised in the cluster, on any member; null when etcd did not say. */
  alarms: ClusterAlarm[] | null;
  /** Why the alarms could not be read. */
  alarms_error: string | null;
  /** Some endpoint that answered follows a leader. */
  has_leader: boolean;
  /** Every endpoint answered, the cluster has a leader and no alarm is known to be raised (nor could be). */
  healthy: boolean;
}

/** What one endpoint answered: its member's status, or why there is none. */
export type EndpointAnswer = { status: MemberStatus; round_trip_ms: number } | { error: string };

/** The alarm list, or why it could not be read. */
export type AlarmAnswer = { alarms: RaisedAlarm[] } | { error: string };

/** Asks every endpoint for its status, and the cluster for its alarms, all at once. */
export async function clusterStatus(conn: Connection): Promise<ClusterStatus> {
  const answers = conn.endpoints.map((_, i) =>
    conn
      .callOn(i, '', async (transport, deadline) => {
        // The first request pays for connecting (TLS, auth) and for Node warming up: timed
        // alone, a loopback etcd took 20 ms. The second's round trip is the network's and etcd's.
        await transport.status(deadline);
        const sent = monotonicMs();
        const status = await transport.status(deadline);
        return { status, round_trip_ms: monotonicMs() - sent };
      })
      .catch((err: unknown): EndpointAnswer => ({ error: failureReason(err) })),
  );
  // One request, with failover: etcd answers it through raft, so every member would write it to its log.
  const alarms = conn.call('alarm list', (transport, deadline) => transport.alarms(deadline)).then(
    (list): AlarmAnswer => ({ alarms: list }),
    (err: unknown): AlarmAnswer => ({ error: failureReason(err) }),
  );
  return summarize(conn.endpoints, await Promise.all(answers), await alarms);
}

/** The answers as one status: rows with their member's alarms, whether there is a leader, whether all is well. */
export function summarize(endpoints: string[], answers: EndpointAnswer[], alarmAnswer: AlarmAnswer): ClusterStatus {
  const alarms = 'alarms' in alarmAnswer ? alarmAnswer.alarms.map((a) => ({ member_id: hexId(a.member_id), alarm: a.alarm })) : null;
  const rows = endpoints.map((endpoint, i): EndpointStatus => {
    const answer = answers[i];
    if ('error' in answer) return unreachable(endpoint, answer.error);
    const s = answer.status;
    const member = hexId(s.member_id);
    const raised = alarms && [...new Set(alarms.filter((a) => a.member_id === member || a.member_id === '0').map((a) => a.alarm))].sort();
    return {
      endpoint,
      reachable: true,
      error: null,
      member_id: member,
      version: s.version,
      is_leader: s.leader !== '0' && s.leader === s.member_id,
      leader_id: s.leader === '0' ? null : hexId(s.leader),
      db_size: count(s.db_size),
      // Not reported before etcd 3.4.
      db_size_in_use: s.db_size_in_use === '0' ? null : count(s.db_size_in_use),
      revision: count(s.revision),
      raft_term: count(s.raft_term),
      raft_index: count(s.raft_index),
      alarms: raised,
      round_trip_ms: Math.round(answer.round_trip_ms * 10) / 10,
    };
  });
  const hasLeader = rows.some((r) => r.leader_id !== null);
  return {
    endpoints: rows,
    alarms,
    alarms_error: 'error' in alarmAnswer ? alarmAnswer.error : null,
    has_leader: hasLeader,
    healthy: rows.every((r) => r.reachable) && hasLeader && alarms !== null && alarms.length === 0,
  };
}

function unreachable(endpoint: string, error: string): EndpointStatus {
  return {
    endpoint,
    reachable: false,
    error,
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
  };
}

/** A uint64 member id in hex, as etcdctl prints ids; anything not a decimal number is kept as it came. */
function hexId(id: string): string {
  return /^\d+$/.test(id) ? BigInt(id).toString(16) : id;
}

/** An int64 field as a number, or null when it is not one. */
function count(value: string): number | null {
  const n = Number(value);
  return /^-?\d+$/.test(value) && Number.isSafeInteger(n) ? n : null;
}
