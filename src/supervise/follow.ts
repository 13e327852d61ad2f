/**
 * `register --pid PID`: a registrant started in the background follows the process
 * that started it, and deregisters when it exits, however it exits (kill -9 included,
 * which runs no shell trap).
 */
import { readFileSync } from 'node:fs';

/** How often the followed process is checked. */
const FOLLOW_INTERVAL_MS = 500;

/** Whether `pid` is a running process (one of another user's counts; a zombie has exited). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // The state follows the name, which is in parentheses and may hold anything, ")" too.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc: kill(0) has to do
  }
}

/** Calls `onExit` once, when `pid` is no longer running; returns a function that stops following. */
export function followProcess(pid: number, onExit: () => void): () => void {
  const timer = setInterval(() => {
    if (isRunning(pid)) return;
    clearInterval(timer);
    onExit();
  }, FOLLOW_INTERVAL_MS);
  return () => clearInterval(timer);
}
