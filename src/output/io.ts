/**
 * Where output goes. stdout carries data only; messages, warnings and spinners go
 * to stderr. Colour only on a TTY, never with NO_COLOR or --no-color.
 */
import { fstatSync, writeSync } from 'node:fs';
import type { MalformedEntry, WatchStatus } from '../index.js';
import { cellText } from './columns.js';
import { escapeControls } from './escape.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Colour allowed on stdout (a TTY, and neither NO_COLOR nor --no-color). */
  color: boolean;
  /** Colour allowed on stderr. */
  stderrColor: boolean;
}

export function processIo(colorFlag: boolean): Io {
  // no-color.org: only a NO_COLOR that is set and not empty turns colour off.
  const allowed = colorFlag && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    color: allowed && Boolean(process.stdout.isTTY),
    stderrColor: allowed && Boolean(process.stderr.isTTY),
  };
}

/**
 * Writes `text` to stdout now, through the file descriptor: for --help and --version,
 * which then never open process.stdout (on a pipe that loads net and streams, 4-5 ms of
 * a 100 ms start). A reader that has gone away is not an error, as for every command.
 */
export function writeStdoutNow(text: string): void {
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EBADF') return;
      if (code !== 'EAGAIN') throw err;
      // A stdout another process left non-blocking, and full: wait for its reader.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** Whether file descriptor `fd` is a character device: a terminal, or /dev/null. Asks without opening the stream. */
export function mayBeTerminal(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}

/** 15000 -> "15,000". Not toLocaleString: its first call loads ICU data, 20-30 ms. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 entry", "15,000 entries". */
export function entryCount(n: number): string {
  return `${thousands(n)} entr${n === 1 ? 'y' : 'ies'}`;
}

/** One line on stderr, prefixed so it is never mistaken for data; what it quotes from etcd is escaped. */
export function message(io: Io, text: string): void {
  io.stderr.write(`svcreg: ${escapeControls(text)}\n`);
}

export function warn(io: Io, text: string): void {
  message(io, `warning: ${text}`);
}

/** One stderr line per malformed entry (a few), then a count and what to do. */
export function warnMalformed(io: Io, malformed: MalformedEntry[], prefix: string): void {
  if (malformed.length === 0) return;
  for (const m of malformed.slice(0, 5)) warn(io, `malformed entry ${cellText(m.key, false)}: ${m.problem}`);
  const more = malformed.length > 5 ? ` (${thousands(malformed.length - 5)} more not shown)` : '';
  warn(io, `${thousands(malformed.length)} malformed entr${malformed.length === 1 ? 'y' : 'ies'} under ${prefix}${more}; \`svcreg purge --all --malformed\` removes them`);
}

/** One stderr line per `intervalMs` at most, saying how many it held back: for outages. */
export function throttledMessages(io: Io, intervalMs: number): (text: string) => void {
  return throttle(intervalMs, (text: string, suppressed: number) => {
    message(io, `${text}${suppressed > 0 ? ` (${suppressed} similar messages suppressed)` : ''}`);
  });
}

/** A watch's change of connection state, said plainly; undefined for the first connection. */
export function connectionStatusMessage(status: WatchStatus): string | undefined {
  if (status.state === 'established') return undefined;
  return status.state === 'disconnected' ? `lost the connection to etcd: ${status.error}; retrying in ${status.retryInMs} ms` : 'reconnected to etcd; no events were missed';
}

/** Calls `fn` at most once per `intervalMs`, counting what it swallowed. */
export function throttle<T>(intervalMs: number, fn: (value: T, suppressed: number) => void): (value: T) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (value) => {
    const now = performance.now(); // monotonic: a clock step must not unthrottle or mute
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    fn(value, suppressed);
    suppressed = 0;
  };
}
