/**
 * Runs the CLI on a real pseudo-terminal through util-linux `script`, so prompts
 * and TTY-only behaviour can be tested. Output is what the terminal shows.
 */
import { spawn } from 'node:child_process';
import { BIN, CliProcess, cliEnv } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Starts `svcreg args...` on a pty; write answers with `p.child.stdin.write(...)`.
 * With `stdoutFile`, stdout goes to that file instead, as in `svcreg ... > file` typed at a terminal.
 */
export function startCliOnTty(args: string[], env: Record<string, string | undefined> = {}, options: { stdoutFile?: string } = {}): CliProcess {
  const redirect = options.stdoutFile ? ` > ${quote(options.stdoutFile)}` : '';
  // A pty made by `script` without a terminal around it is 0 columns wide: give it a size.
  const command = `stty cols 100 rows 40; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}${redirect}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: cliEnv({ TERM: 'dumb', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
  return new CliProcess(child, true);
}
