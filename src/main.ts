/**
 * The one place that runs a command, maps errors to exit codes and exits.
 */
import { CommanderError } from 'commander';
import { escapeControls } from './output/escape.js';
import { buildProgram, type Process } from './cli/program.js';
import { restoreExtraCaCerts } from './cli/extra-ca.js';
import type { Signal } from './commands/context.js';
// The errors' own module, not index.ts: `--help` must not load the registry.
import {
  AlreadyRegisteredError,
  AuthError,
  NotFoundError,
  RegistrationLostError,
  SvcregError,
  UnreachableError,
  UsageError,
  WritesRefusedError,
} from './registry/errors.js';
import type { Registry } from './index.js';
import { CommandNotFoundError } from './supervise/resolve.js';

/** The documented exit code of an error. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) return 2;
  if (err instanceof UnreachableError) return 3;
  if (err instanceof NotFoundError) return 4;
  if (err instanceof AlreadyRegisteredError) return 5;
  if (err instanceof RegistrationLostError) return 6;
  if (err instanceof AuthError) return 7;
  if (err instanceof WritesRefusedError) return 8;
  if (err instanceof CommandNotFoundError) return 127;
  return 1;
}

// Deprecation warnings speak to our dependencies' authors (gRPC sets a TLS server name
// to an IP address), not to whoever runs svcreg: keep them off stderr.
process.noDeprecation = true;

const SIGNALS: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** A stop signal reached a command: at exit, output a reader has not taken is not waited for long. */
let stopSignalled = false;
/** How long an interrupted command's exit waits for a reader to take what is queued for it. */
const FLUSH_AFTER_SIGNAL_MS = 200;
const registries: Registry[] = [];
// `svcreg watch | head -1`: a reader that goes away is a normal end, not a crash.
let onStdoutClosed: () => void = () => process.exit(0);
const proc: Process = {
  argv: process.argv.slice(2),
  // First, before any command can start a child process: it gets the variable as it was given.
  unloadedExtraCaCerts: restoreExtraCaCerts(process.env),
  onStdoutClosed: (handler) => (onStdoutClosed = handler),
  onSignal(handler) {
    const caught = (s: Signal) => {
      stopSignalled = true;
      handler(s);
    };
    for (const s of SIGNALS) process.on(s, caught);
    return () => {
      for (const s of SIGNALS) process.off(s, caught);
    };
  },
  opened: (registry) => registries.push(registry),
};

/**
 * Whether stdout and stderr may hold output still to flush at exit. Not after --help or
 * --version alone: they write at once (writeStdoutNow) and never open either stream.
 */
let streamsOpened = true;

async function main(): Promise<number> {
  let result: Promise<number> | undefined;
  const program = buildProgram(proc, (r) => {
    result = r;
    // Errors of a write are emitted a tick later, so a command's first write is covered.
    process.stdout.on('error', onStdoutError);
  });
  try {
    await program.parseAsync([...proc.argv], { from: 'user' });
    if (!result) {
      program.outputHelp({ error: true });
      return 2;
    }
    return await result;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0 && !result) {
      streamsOpened = false; // help or the version, already written
      return 0;
    }
    const code = exitCodeOf(err);
    // commander has already printed its own message.
    if (!(err instanceof CommanderError)) {
      const e = err as Error;
      const hint = e instanceof SvcregError && e.hint ? `; ${e.hint}` : '';
      // Messages can quote what etcd or another writer sent: never raw to a terminal.
      process.stderr.write(`svcreg: error: ${escapeControls(`${e?.message ?? String(err)}${hint}`)}\n`);
      // As parsed: a --debug after `--` belongs to the command of `register --`.
      if (program.opts().debug) process.stderr.write(`${e?.stack ?? ''}\n`);
      else if (code === 1) process.stderr.write('svcreg: (run with --debug for details)\n');
    }
    return code;
  } finally {
    for (const r of registries) r.close();
  }
}

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') onStdoutClosed();
  else process.stderr.write(`svcreg: error: cannot write to stdout: ${err.message}\n`);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/** Runs, flushes and exits. Not a top-level await: the CLI ships as a CommonJS bundle. */
async function run(): Promise<void> {
  const code = await main();
  // Writes to a pipe are queued when the reader is slower: exiting at once would cut the
  // end off a large listing on its way to `jq`.
  if (streamsOpened) {
    const all = Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    // Ctrl-C stops at once: a reader that is not reading (`| less` at rest) does not hold the exit.
    await (stopSignalled ? Promise.race([all, new Promise((r) => setTimeout(r, FLUSH_AFTER_SIGNAL_MS))]) : all);
  }
  process.exit(code);
}

void run();
