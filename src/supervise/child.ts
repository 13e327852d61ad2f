/**
 * A command svcreg runs (`register -- command`, the handler of `watch -- command`, render's
 * --check and --exec): one child process with inherited stdout and stderr (unless told),
 * its exit code as a shell would report it, and a SIGKILL for a child that outlives its
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

export interface ChildOptions {
  /** Written to the child's stdin, which is then closed; without it, stdin is inherited. */
  input?: string;
  /**
   * A session and process group of its own, signalled as a whole: a Ctrl-C typed at the
   * terminal then reaches svcreg alone, which decides whether and when to pass it on.
   */
  ownGroup?: boolean;
  /** The child's stdio, when not the default (render's commands write to stderr: stdout is data). */
  stdio?: StdioOptions;
}

/** A started command; `stop` signals it and arms its SIGKILL. */
export class Child {
  /** The child's exit code; 128+n when killed by signal n; 127 when it could not be started. */
  readonly exited: Promise<number>;
  /** The signal that killed the child, once it has exited by one. */
  killedBy: NodeJS.Signals | undefined;
  private readonly process: ChildProcess;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  /** Starts `command` with `env`; `onStartError` hears why it could not be started. */
  constructor(
    command: string[],
    env: NodeJS.ProcessEnv,
    onStartError: (err: Error) => void,
    private readonly options: ChildOptions = {},
  ) {
    const stdio: StdioOptions = options.stdio ?? (options.input === undefined ? 'inherit' : ['pipe', 'inherit', 'inherit']);
    this.process = spawn(command[0], command.slice(1), { stdio, env, detached: options.ownGroup });
    if (options.input !== undefined) {
      // A command that exits without reading its stdin has not failed for that (EPIPE).
      this.process.stdin!.on('error', () => undefined);
      this.process.stdin!.end(options.input);
    }
    this.exited = new Promise<number>((resolve) => {
      this.process.on('error', (err) => {
        // Only a failed start has no PID; other errors (a failed kill) are followed by 'exit' or nothing to wait for.
        if (this.process.pid !== undefined) return;
        onStartError(err);
        resolve(127);
      });
      this.process.once('exit', (code, signal) => {
        this.killedBy = signal ?? undefined;
        resolve(code ?? signalExitCode(signal!));
      });
    }).finally(() => {
      this.done = true;
      clearTimeout(this.killTimer);
    });
  }

  /** Passes `signal` on, unless the child has exited. */
  signal(signal: Signal): void {
    if (!this.done) this.send(signal);
  }

  /** Sends `signal`, and SIGKILL if the child is still running `killTimeoutMs` later. */
  stop(signal: Signal, killTimeoutMs: number): void {
    this.signal(signal);
    if (!this.done) this.killTimer ??= setTimeout(() => this.send('SIGKILL'), killTimeoutMs);
  }

  private send(signal: NodeJS.Signals): void {
    if (!this.options.ownGroup) {
      this.process.kill(signal);
      return;
    }
    try {
      // The whole group, as a terminal signals its foreground job: a shell script's commands too.
      process.kill(-this.process.pid!, signal);
    } catch {
      // the group is gone
    }
  }
}
