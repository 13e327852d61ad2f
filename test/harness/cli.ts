/**
 * Runs the built CLI (bin/svcreg.js -> the bundle in dist/cli/) as a real child process. Every child
 * is killed by its PID when a test leaves it behind, with whatever it started (the
 * CLI under `script` on a pty, the command of `register --`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/svcreg.js', import.meta.url));

const live = new Set<ChildProcess>();
// Every CLI child gets a home (and XDG config directory) that does not exist, so no test
// reads the real user's config file (~/.config/svcreg/config.json) unless it passes its own.
// Never created, so nothing is left behind when vitest stops a worker with a signal.
const noHome = join(tmpdir(), `svcreg-test-home-${process.pid}-${Date.now().toString(36)}`);
process.on('exit', () => {
  for (const child of live) killTree(child.pid!, 'SIGKILL');
});

/** The PIDs `pid` started, from /proc (none once it has exited). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sends `signal` to `pid` and everything it started, the descendants first. */
function killTree(pid: number, signal: NodeJS.Signals): void {
  for (const child of childrenOf(pid)) killTree(child, signal);
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Environment for a CLI child: no inherited SVCREG_/ETCDCTL_ settings, no home and no config file, no colour unless asked. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(SVCREG_|ETCDCTL_)/.test(k)) env[k] = v;
  return { ...env, HOME: noHome, XDG_CONFIG_HOME: join(noHome, '.config'), ...extra };
}

/** A long-running CLI child with its output collected as it comes. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private readonly started = Date.now();

  /** With `wrapped`, the CLI runs under another process (`script`), and signals go to both. */
  constructor(
    readonly child: ChildProcess,
    private readonly wrapped = false,
  ) {
    live.add(child);
    child.stdout!.on('data', (d) => (this.stdout += d));
    child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        live.delete(child);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: Date.now() - this.started });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout (or stderr) matches; rejects after `timeoutMs` or if the process exits first. */
  async waitFor(pattern: RegExp, options: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const stream = options.stream ?? 'stdout';
    const until = Date.now() + (options.timeoutMs ?? 15_000);
    let done = false;
    void this.exited.then(() => (done = true));
    for (;;) {
      const m = this[stream].match(pattern);
      if (m) return m;
      if (done) throw new Error(`exited before ${stream} matched ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${stream} to match ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.wrapped) killTree(this.pid, signal);
    else this.child.kill(signal);
  }

  /** Stops the child if it is still running (SIGKILL after a grace period). */
  async stop(): Promise<CliResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => killTree(this.pid, 'SIGKILL'), 5000);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

/** Starts the CLI (`bin`: another copy of it, such as an installed one) and returns at once. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, bin = BIN): CliProcess {
  // As a shell runs `svcreg`: through the launcher line of bin/svcreg.js.
  return new CliProcess(spawn(bin, args, { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Runs the CLI to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000, bin = BIN): Promise<CliResult> {
  const p = startCli(args, env, bin);
  const timer = setTimeout(() => killTree(p.pid, 'SIGKILL'), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}
