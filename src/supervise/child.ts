/**
 * The command of `register -- command` (and render's --check and --exec): one child process with inherited stdio, its
 * exit code as a shell would report it, and a SIGKILL for a child that outlives its
 * kill timeout.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';

/** SIGINT, SIGTERM and SIGHUP: the signals that stop svcreg and are passed on to the child. */
export type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** 128+n for signal n, as a shell reports a process killed by it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** A started command; `stop` signals it and arms its SIGKILL. */
export class Child {
  /** The child's exit code; 128+n when killed by signal n; 127 when it could not be started. */
  readonly exited: Promise<number>;
  private readonly process: ChildProcess;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  /**
   * Starts `command` with `env`; `onStartError` hears why it could not be started.
   * `stdio` is inherited unless told (render's commands write to stderr: stdout is data).
   */
  constructor(command: string[], env: NodeJS.ProcessEnv, onStartError: (err: Error) => void, stdio: StdioOptions = 'inherit') {
    this.process = spawn(command[0], command.slice(1), { stdio, env });
    this.exited = new Promise<number>((resolve) => {
      this.process.on('error', (err) => {
        // Only a failed start has no PID; other errors (a failed kill) are followed by 'exit' or nothing to wait for.
        if (this.process.pid !== undefined) return;
        onStartError(err);
        resolve(127);
      });
      this.process.once('exit', (code, signal) => resolve(code ?? signalExitCode(signal!)));
    }).finally(() => {
      this.done = true;
      clearTimeout(this.killTimer);
    });
  }

  /** Passes `signal` on, unless the child has exited. */
  signal(signal: Signal): void {
    if (!this.done) this.process.kill(signal);
  }

  /** Sends `signal`, and SIGKILL if the child is still running `killTimeoutMs` later. */
  stop(signal: Signal, killTimeoutMs: number): void {
    this.signal(signal);
    if (!this.done) this.killTimer ??= setTimeout(() => this.process.kill('SIGKILL'), killTimeoutMs);
  }
}
