/**
 * `svcreg status` for people and for scripts: one table row per endpoint (`-o wide` adds
 * the database's size in use and the raft index, and cuts no cell), or the rows as data;
 * and, when not all is well, why, in one line.
 */
import { Chalk } from 'chalk';
import type { ClusterAlarm, ClusterStatus, EndpointStatus } from '../index.js';
import { StreamingTable, type Column } from './columns.js';
import { writeItems, type DataFormat } from './data.js';
import type { OutputFormat } from './format.js';
import type { Io } from './io.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 512 -> "512 B", 32768 -> "32 KiB", 1048576 -> "1.0 MiB": one decimal below 10 of a unit. */
export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** 0.42 -> "0.4ms", 15.3 -> "15ms". */
function rttText(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
}

/** A value, or `-` where etcd did not say. */
function known<T>(value: T | null, show: (v: T) => string = String): string {
  return value === null ? '-' : show(value);
}

/** LEADER: `yes`, `no`, or `none` when the member follows no leader. */
function leaderText(row: EndpointStatus): string {
  if (!row.reachable) return '-';
  return row.is_leader ? 'yes' : row.leader_id === null ? 'none' : 'no';
}

/** ALARMS: the member's alarms, `-` for none, `?` when they could not be read. */
function alarmsText(row: EndpointStatus): string {
  if (!row.reachable) return '-';
  return row.alarms === null ? '?' : row.alarms.join(',') || '-';
}

function rowCells(row: EndpointStatus, wide: boolean): string[] {
  return [
    row.endpoint,
    known(row.member_id),
    row.reachable ? 'yes' : 'no',
    known(row.version),
    leaderText(row),
    known(row.db_size, humanBytes),
    ...(wide ? [known(row.db_size_in_use, humanBytes)] : []),
    known(row.revision),
    known(row.raft_term),
    ...(wide ? [known(row.raft_index)] : []),
    alarmsText(row),
    known(row.round_trip_ms, rttText),
    row.error ?? '',
  ];
}

/** Prints the rows: a table, or (json, ndjson and any data format) the array of rows. */
export function printStatus(io: Io, format: OutputFormat, status: ClusterStatus): void {
  if (format !== 'table' && format !== 'wide') {
    // `status` takes no addr: every other format is data.
    writeItems(io, format as DataFormat, status.endpoints);
    return;
  }
  const wide = format === 'wide';
  const chalk = new Chalk({ level: io.color ? 1 : 0 });
  const paint = (pick: (text: string) => ((text: string) => string) | undefined) => (io.color ? (text: string) => pick(text)?.(text) ?? text : undefined);
  const bad = paint((t) => (t === '-' ? undefined : chalk.red));
  const columns: Column[] = [
    { head: 'ENDPOINT' },
    { head: 'ID' },
    { head: 'REACHABLE', paint: paint((t) => (t === 'yes' ? chalk.green : chalk.red)) },
    { head: 'VERSION' },
    { head: 'LEADER', paint: paint((t) => (t === 'yes' ? chalk.bold : t === 'none' ? chalk.red : undefined)) },
    { head: 'DB SIZE' },
    ...(wide ? [{ head: 'DB IN USE' }] : []),
    { head: 'REVISION' },
    { head: 'RAFT TERM' },
    ...(wide ? [{ head: 'RAFT INDEX' }] : []),
    { head: 'ALARMS', paint: bad },
    { head: 'RTT' },
    { head: 'ERROR', paint: paint(() => chalk.red) },
  ];
  new StreamingTable(io.stdout, columns, { wide, paintHead: chalk.bold }).write(status.endpoints.map((row) => rowCells(row, wide)));
}

/** Where an alarm is raised: its member, and that member's endpoint when one of the rows is it. */
function alarmPlace(alarm: ClusterAlarm, rows: EndpointStatus[]): string {
  if (alarm.member_id === '0') return 'for the whole cluster';
  const row = rows.find((r) => r.member_id === alarm.member_id);
  return `on member ${alarm.member_id}${row ? ` (${row.endpoint})` : ''}`;
}

/** Why the cluster is not all well, in one line: "1 of 3 endpoints unreachable; alarm NOSPACE raised on member ...". */
export function statusProblems(status: ClusterStatus): string {
  const rows = status.endpoints;
  const down = rows.filter((r) => !r.reachable).length;
  const problems: string[] = [];
  if (down > 0) problems.push(`${down} of ${rows.length} endpoint${rows.length === 1 ? '' : 's'} unreachable`);
  // With no endpoint answering, nothing else is known: saying so again would be noise.
  const answered = down < rows.length;
  if (answered && !status.has_leader) problems.push('no leader');
  for (const alarm of status.alarms ?? []) problems.push(`alarm ${alarm.alarm} raised ${alarmPlace(alarm, rows)}`);
  if (answered && status.alarms === null) problems.push(`alarms unknown (${status.alarms_error})`);
  return problems.join('; ');
}
