/**
 * Application-level health checks run by the registering process itself (the
 * seed's advice: combine the lease with health checks). The result is stored in
 * the instance's value as `health`, so every reader sees it.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

/** The `health` field of an instance value. */
export interface Health {
  status: 'passing' | 'critical';
  /** What the check said: "HTTP 200", "connected", the command's output... */
  output: string;
  /** When the status last changed, in seconds since the epoch. */
  checked_at: number;
}

/** What to check. All given checks must pass. */
export interface HealthCheckOptions {
  /** GET this URL; any 2xx passes. */
  http?: string;
  /** Connect to this host:port; a connection passes. */
  tcp?: string;
  /** Run this with `sh -c`; exit 0 passes. */
  cmd?: string;
  /** Time between checks, ms (default 10 s). */
  intervalMs?: number;
  /** Deadline of each check, ms (default 2 s). */
  timeoutMs?: number;
  /** Consecutive failures before a passing instance turns critical (default 3). */
  failures?: number;
}

export const DEFAULT_CHECK_INTERVAL_MS = 10_000;
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;
export const DEFAULT_CHECK_FAILURES = 3;

const MAX_OUTPUT = 500;

export interface CheckResult {
  ok: boolean;
  output: string;
}

/**
 * A passing instance: one with no health at all (the seed's), or whose health status
 * is "passing". Foreign values are read leniently: `health: "critical"` counts as a
 * status too, and a health field with no status says nothing against the instance.
 */
export function isPassing(instance: object): boolean {
  const health = (instance as { health?: unknown }).health;
  const status = typeof health === 'string' ? health : (health as { status?: unknown } | null | undefined)?.status;
  return status === undefined || status === 'passing';
}

async function checkHttp(url: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return { ok: res.status >= 200 && res.status < 300, output: `HTTP ${res.status} from ${url}` };
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message);
    return { ok: false, output: `GET ${url}: ${reason}` };
  }
}

function checkTcp(target: string, timeoutMs: number): Promise<CheckResult> {
  const i = target.lastIndexOf(':');
  const host = target.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(i + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (result: CheckResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done({ ok: true, output: `connected to ${target}` }));
    socket.once('timeout', () => done({ ok: false, output: `connect ${target}: no answer within ${timeoutMs} ms` }));
    socket.once('error', (err) => done({ ok: false, output: `connect ${target}: ${err.message}` }));
  });
}

function checkCmd(command: string, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: Buffer) => (output = (output + d).slice(-MAX_OUTPUT));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, output: `${command}: ${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const text = output.trim();
      if (signal) resolve({ ok: false, output: `${command}: killed after ${timeoutMs} ms${text ? `: ${text}` : ''}` });
      else resolve({ ok: code === 0, output: text || `${command}: exit ${code}` });
    });
  });
}

/** Runs every configured check once; passes only if all pass. */
export async function runChecks(options: HealthCheckOptions): Promise<CheckResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const results = await Promise.all([
    ...(options.http ? [checkHttp(options.http, timeoutMs)] : []),
    ...(options.tcp ? [checkTcp(options.tcp, timeoutMs)] : []),
    ...(options.cmd ? [checkCmd(options.cmd, timeoutMs)] : []),
  ]);
  return { ok: results.every((r) => r.ok), output: results.map((r) => r.output).join('; ').slice(0, MAX_OUTPUT) };
}

/** Whether any check is configured. */
export function hasChecks(options: HealthCheckOptions | undefined): options is HealthCheckOptions {
  return Boolean(options && (options.http || options.tcp || options.cmd));
}
