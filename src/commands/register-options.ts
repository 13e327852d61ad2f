/**
 * The flags of `svcreg register`, checked and turned into what the registry and the
 * supervisor take. Everything here throws a UsageError (exit 2) before any request.
 */
import { hostname, networkInterfaces } from 'node:os';
import { parseDuration, parseInteger, parseMeta, parsePort, parseTags } from './options.js';
import { UsageError, segmentCaveat, segmentProblem, validateSegment, DEFAULT_TTL_SECONDS, type RegisterOptions } from '../index.js';
import type { HealthCheckOptions } from '../index.js';
import { isRunning } from '../supervise/follow.js';
import { DEFAULT_KILL_TIMEOUT_MS } from '../supervise/supervisor.js';

export interface RegisterCommandOptions {
  id?: string;
  address?: string;
  port?: string;
  tag?: string[];
  meta?: string[];
  ttl?: string;
  replace?: boolean;
  onLost?: string;
  checkHttp?: string;
  checkTcp?: string;
  checkCmd?: string;
  checkInterval?: string;
  checkTimeout?: string;
  checkFailures?: string;
  drain?: string;
  killTimeout?: string;
  pid?: string;
}

/** What `register` does, from its flags. */
export interface RegisterPlan {
  registration: RegisterOptions;
  drainMs: number | undefined;
  killTimeoutMs: number;
  followPid: number | undefined;
  /** Accepted, but worth saying: written on stderr before registering. */
  warnings: string[];
}

export function parseRegisterOptions(service: string, options: RegisterCommandOptions): RegisterPlan {
  validateSegment('service name', service);
  if (options.port === undefined) throw new UsageError('--port is required', 'e.g. svcreg register web --port 8080');
  const port = parsePort(options.port);
  const id = options.id ?? defaultId(service);
  validateSegment('instance id', id);
  const address = options.address ?? defaultAddress();
  if (address.trim() === '' || /\s/.test(address)) throw new UsageError(`invalid --address ${JSON.stringify(address)}`);
  const ttl = options.ttl === undefined ? DEFAULT_TTL_SECONDS : parseInteger(options.ttl, '--ttl', 1, 86_400);
  const tags = parseTags(options.tag ?? []);
  const metadata = parseMeta(options.meta ?? []);
  if (options.onLost !== undefined && options.onLost !== 'reregister' && options.onLost !== 'exit') {
    throw new UsageError(`invalid --on-lost ${JSON.stringify(options.onLost)}`, 'use --on-lost reregister or --on-lost exit');
  }
  const onLost = options.onLost === 'exit' ? 'fail' : 'reregister';
  const followPid = options.pid === undefined ? undefined : parseInteger(options.pid, '--pid', 1);
  if (followPid !== undefined && !isRunning(followPid)) throw new UsageError(`--pid ${followPid}: no such process`, 'pass the PID of a running process, such as $$ in a shell script');
  const warnings: string[] = [];
  for (const [what, value] of [['service name', service], ['instance id', id]]) {
    const caveat = segmentCaveat(value);
    if (caveat) warnings.push(`${what} ${JSON.stringify(value)} ${caveat}`);
  }
  return {
    registration: { service, id, address, port, tags, metadata, ttl, replace: options.replace, onLost, health: parseChecks(options) },
    drainMs: options.drain === undefined ? undefined : parseDuration(options.drain, '--drain'),
    killTimeoutMs: options.killTimeout === undefined ? DEFAULT_KILL_TIMEOUT_MS : parseDuration(options.killTimeout, '--kill-timeout'),
    followPid,
    warnings,
  };
}

/** The health check flags, checked; undefined when none is given. */
export function parseChecks(options: RegisterCommandOptions): HealthCheckOptions | undefined {
  const { checkHttp: http, checkTcp: tcp, checkCmd: cmd } = options;
  if (!http && !tcp && !cmd) {
    if (options.checkInterval || options.checkTimeout || options.checkFailures) {
      throw new UsageError('--check-interval, --check-timeout and --check-failures need a check', 'add --check-http, --check-tcp or --check-cmd');
    }
    return undefined;
  }
  if (http !== undefined && !/^https?:\/\/[^/\s]+/.test(http)) throw new UsageError(`invalid --check-http ${JSON.stringify(http)}`, 'use a URL such as http://127.0.0.1:8080/health');
  if (tcp !== undefined && !/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(tcp)) throw new UsageError(`invalid --check-tcp ${JSON.stringify(tcp)}`, 'use host:port');
  if (cmd !== undefined && cmd.trim() === '') throw new UsageError('--check-cmd may not be empty');
  return {
    http,
    tcp,
    cmd,
    intervalMs: options.checkInterval === undefined ? undefined : parseDuration(options.checkInterval, '--check-interval'),
    timeoutMs: options.checkTimeout === undefined ? undefined : parseDuration(options.checkTimeout, '--check-timeout'),
    failures: options.checkFailures === undefined ? undefined : parseInteger(options.checkFailures, '--check-failures', 1),
  };
}

/** This host's first non-internal IPv4 address, else 127.0.0.1. */
export function defaultAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** `<service>-<hostname>-<pid>`: unique per process on a host. */
export function defaultId(service: string): string {
  const id = `${service}-${hostname()}-${process.pid}`;
  return segmentProblem(id) ? `${service}-${process.pid}` : id;
}
