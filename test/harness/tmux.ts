/**
 * The CLI on a real terminal, as a person runs it: a tmux pane on a private tmux
 * server (its own socket), keys typed with send-keys, the screen read with
 * capture-pane. The pane runs the CLI under a shell that records the terminal's
 * settings (`stty -g`) before and after, and prints the CLI's exit code.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, cliEnv } from './cli.js';

const run = promisify(execFile);

// The shell outlives the Ctrl-C typed for the CLI (a trap runs only once the CLI has
// exited), so it can say what the CLI left behind.
const REPORTER = `before=$(stty -g)
trap : INT
"$@"
code=$?
if [ "$(stty -g)" = "$before" ]; then echo "[terminal unchanged]"; else echo "[terminal changed: $(stty)]"; fi
echo "[exit $code]"`;

let sessions = 0;

export class TmuxPane {
  private constructor(
    private readonly socket: string,
    private readonly serverPid: number,
  ) {}

  /** Starts `svcreg args...` in a 100x40 pane; `env` is added to the CLI's environment. */
  static start(args: string[], env: Record<string, string | undefined> = {}): Promise<TmuxPane> {
    return TmuxPane.run(['sh', '-c', REPORTER, 'sh', process.execPath, BIN, ...args], env);
  }

  /** Starts `command` (an interactive shell, say) in a 100x40 pane; `env` is added to its environment. */
  static async run(command: string[], env: Record<string, string | undefined> = {}): Promise<TmuxPane> {
    const socket = join(tmpdir(), `svcreg-tmux-${process.pid}-${++sessions}`);
    // One client invocation: the pane stays on screen after the shell exits, to be read.
    await run('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '40', ...command, ';', 'set-option', 'remain-on-exit', 'on'], {
      env: cliEnv(env),
    });
    const { stdout } = await run('tmux', ['-S', socket, 'display-message', '-p', '#{pid}']);
    return new TmuxPane(socket, Number(stdout.trim()));
  }

  /** Types keys as tmux names them: `C-c`, `Enter`, or literal text. */
  async keys(...keys: string[]): Promise<void> {
    await run('tmux', ['-S', this.socket, 'send-keys', ...keys]);
  }

  /** What the terminal shows now, with what scrolled off it (tmux scrolls a line when the pane dies). */
  async screen(): Promise<string> {
    return (await run('tmux', ['-S', this.socket, 'capture-pane', '-p', '-J', '-S', '-'])).stdout;
  }

  /** Resolves with the screen once it matches `pattern`; rejects with the screen after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > until) throw new Error(`timed out waiting for the terminal to show ${pattern}; it shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the tmux server by its PID (it hangs up on what still runs in the pane) and removes its socket. */
  async stop(): Promise<void> {
    try {
      process.kill(this.serverPid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && alive(this.serverPid); i++) await new Promise((r) => setTimeout(r, 100));
    rmSync(this.socket, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
