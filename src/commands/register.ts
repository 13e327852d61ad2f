/**
 * `svcreg register <service> [-- command args...]`: register, keep alive, and
 * deregister on SIGINT/SIGTERM/SIGHUP; with a command, for as long as it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, hostname, networkInterfaces } from 'node:os';
import { parseDuration, parseInteger, parseMeta, parseOutput, parsePort, parseTags } from '../parse.js';
import { message, throttledMessages, warn } from '../output/io.js';
import { printerFor, type RegistrationEvent } from '../output/printer.js';
import { RegistrationLostError, UsageError } from '../registry/errors.js';
import { segmentProblem, validateSegment } from '../registry/keys.js';
import type { RegisteredInfo } from '../registry/registration.js';
import { DEFAULT_TTL_SECONDS } from '../registry/registration.js';
import type { Health, HealthCheckOptions } from '../registry/health.js';
import { sleep } from '../registry/timers.js';
import type { CommandContext, Signal } from './context.js';

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

export async function register(ctx: CommandContext, service: string, options: RegisterCommandOptions, command: string[]): Promise<number> {
  validateSegment('service name', service);
  const format = parseOutput(ctx.output, ['table', 'json', 'ndjson']);
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
  const health = parseChecks(options);
  const drainMs = options.drain === undefined ? undefined : parseDuration(options.drain, '--drain');
  const printer = await printerFor(format, ctx.io);
  // `svcreg register ... | head -1` waits for the first line: the registration lives on.
  ctx.onStdoutClosed(() => undefined);
  const report = (event: RegistrationEvent) => printer.registration(event);

  // Signals that arrive while registering are remembered, not lost.
  let pending: Signal | undefined;
  let onSignal: (signal: Signal) => void = (s) => (pending ??= s);
  const removeSignal = ctx.onSignal((s) => onSignal(s));
  try {
    const registration = await ctx.registry.register({ service, id, address, port, tags, metadata, ttl, replace: options.replace, onLost, health });
    const registered = (event: 'registered' | 'reregistered', info: RegisteredInfo) => report({ event, ...info });
    registered('registered', registration.info());
    registration.on('reregistered', (info: RegisteredInfo) => registered('reregistered', info));
    registration.on('lost', (e: { key: string; lease: string; reason: string }) => report({ event: 'lost', ...e }));
    const say = throttledMessages(ctx.io, 10_000);
    registration.on('retrying', (e: { error: Error }) => say(`keepalive failed (${e.error.message}); retrying`));
    registration.on('health', (h: Health) => report({ event: 'health', key: registration.key, ...h }));
    const failed = new Promise<RegistrationLostError>((resolve) => registration.on('failed', resolve));

    /** --drain: mark critical at once, then wait (a further signal skips the wait). */
    const drain = async () => {
      if (drainMs === undefined) return;
      await registration.markCritical('draining').catch((err: Error) => warn(ctx.io, `could not mark ${registration.key} critical: ${err.message}`));
      message(ctx.io, `draining ${registration.key}: marked critical; stopping in ${drainMs} ms (signal again to stop now)`);
      const skipped = new Promise<void>((resolve) => (onSignal = () => resolve()));
      await Promise.race([sleep(drainMs), skipped]);
    };

    let outcome: number | RegistrationLostError;
    if (command.length === 0 || pending) {
      // Without a command, or when told to stop while registering: nothing to start.
      const stopped = new Promise<number>((resolve) => {
        onSignal = () => resolve(0);
        if (pending) resolve(0);
      });
      outcome = await Promise.race([stopped, failed]);
      if (outcome === 0) await drain();
    } else {
      const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
      child.on('error', (err) => message(ctx.io, `cannot run ${command[0]}: ${err.message}`));
      const exited = childExit(child);
      let signalled: (signal: Signal) => void = () => undefined;
      const firstSignal = new Promise<Signal>((resolve) => (signalled = resolve));
      onSignal = drainMs === undefined ? (s) => child.kill(s) : (s) => signalled(s);
      const first = await Promise.race([exited, failed, firstSignal]);
      if (typeof first === 'string') {
        await drain();
        onSignal = (s) => child.kill(s);
        child.kill(first);
        outcome = await Promise.race([exited, failed]);
      } else {
        outcome = first;
      }
      if (outcome instanceof RegistrationLostError) await stopChild(child);
    }

    // A second signal while deregistering stops the wait; the lease then expires by itself.
    const gaveUp = new Promise<number>((resolve) => (onSignal = (s) => resolve(128 + constants.signals[s])));
    const forced = await Promise.race([deregister(ctx, registration, report).then(() => undefined), gaveUp]);
    if (forced !== undefined) {
      warn(ctx.io, `stopped waiting to deregister ${registration.key}; the key expires within its TTL`);
      return forced;
    }
    if (outcome instanceof RegistrationLostError) throw outcome;
    return outcome;
  } finally {
    removeSignal();
  }
}

async function deregister(ctx: CommandContext, registration: { key: string; deregister(): Promise<void> }, report: (e: RegistrationEvent) => void): Promise<void> {
  try {
    await registration.deregister();
    report({ event: 'deregistered', key: registration.key });
  } catch (err) {
    warn(ctx.io, `could not revoke the lease of ${registration.key} (${(err as Error).message}); the key expires within its TTL`);
  }
}

/** SIGTERM, then SIGKILL if the child is still running 10 s later. */
async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await childExit(child);
  clearTimeout(timer);
}

/** The child's exit code, 128+n when killed by signal n, 127 when it could not be started. */
function childExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    if (child.signalCode !== null) return resolve(128 + (constants.signals[child.signalCode] ?? 0));
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0)));
  });
}
