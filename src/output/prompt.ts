/** Questions asked on the terminal: on stderr, answered on stdin. Only ever called on a TTY. */
import { createInterface } from 'node:readline';
import type { Io } from './io.js';

/**
 * readline on the terminal. It puts the terminal in raw mode, where Ctrl-C is a key
 * and no signal: it is turned back into the SIGINT it would have been, once readline
 * has restored the terminal.
 */
function ask(io: Io) {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  rl.on('SIGINT', () => {
    rl.close();
    process.kill(process.pid, 'SIGINT');
  });
  return rl;
}

/** Asks a yes/no question; only "y" or "yes" is yes. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = ask(io);
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Reads a password without echoing it. */
export async function askPassword(io: Io, prompt: string): Promise<string> {
  const rl = ask(io);
  const out = io.stderr as NodeJS.WriteStream;
  // readline echoes what is typed through _writeToOutput; hide everything after the prompt.
  const r = rl as unknown as { _writeToOutput: (s: string) => void };
  let prompted = false;
  r._writeToOutput = (s: string) => {
    if (!prompted) out.write(s);
  };
  try {
    return await new Promise<string>((resolve) => {
      rl.question(prompt, (answer) => resolve(answer));
      prompted = true;
      rl.once('close', () => resolve(''));
    });
  } finally {
    out.write('\n');
    rl.close();
  }
}
