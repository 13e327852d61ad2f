/**
 * Runs the CLI on a real pseudo-terminal through util-linux `script`, so prompts
 * and TTY-only behaviour can be tested. Output is what the terminal shows.
 */
import { spawn } from 'node:child_process';
import { BIN, CliProcess, cliEnv } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `svcreg args...` on a pty; write answers with `p.child.stdin.write(...)`. */
export function startCliOnTty(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: cliEnv({ TERM: 'dumb', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
  return new CliProcess(child);
}
