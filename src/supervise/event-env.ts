/**
 * The environment of the handler of `watch -- command`: svcreg's own, plus the event as
 * SVCREG_EVENT_* (as svcreg shows it) and as etcdctl's `watch -- cmd` sets it (ETCD_WATCH_*,
 * Go-quoted, byte for byte), so handlers written for etcdctl run unchanged.
 */
import type { ChangeEvent } from '../index.js';
import { goQuote } from './go-quote.js';

/** The longest `NAME=value` Linux passes to a program (MAX_ARG_STRLEN, less its NUL): execve refuses a longer one. */
const MAX_VARIABLE_BYTES = 128 * 1024 - 1;

export interface HandlerEnv {
  env: NodeJS.ProcessEnv;
  /** Variables the event could not be given in, each with why: the handler still has the event on stdin. */
  dropped: string[];
}

/** What the handler of `event` runs with, beside `base` (svcreg's environment). */
export function handlerEnv(event: ChangeEvent, base: NodeJS.ProcessEnv = process.env): HandlerEnv {
  const sent = event.sent ?? { key: Buffer.from(event.key), value: Buffer.alloc(0), revision: event.revision };
  const variables: [string, string | Uint8Array | null][] = [
    ['SVCREG_EVENT_TYPE', event.type],
    ['SVCREG_EVENT_KEY', event.key],
    ['SVCREG_EVENT_SERVICE', event.service],
    ['SVCREG_EVENT_ID', event.id],
    ['SVCREG_EVENT_REVISION', String(event.revision)],
    ['SVCREG_EVENT_RESYNC', event.resync ? '1' : null],
    ['ETCD_WATCH_REVISION', String(sent.revision)],
    ['ETCD_WATCH_EVENT_TYPE', Buffer.from(event.type)],
    ['ETCD_WATCH_KEY', sent.key],
    ['ETCD_WATCH_VALUE', sent.value],
  ];
  const env = { ...base };
  const dropped: string[] = [];
  for (const [name, raw] of variables) {
    // One the event does not set must not come from svcreg's own environment (a handler's nested watch).
    delete env[name];
    if (raw === null) continue;
    const variable = variableText(name, raw);
    if ('problem' in variable) dropped.push(`${name} (${variable.problem})`);
    else env[name] = variable.text;
  }
  return { env, dropped };
}

/** The variable's text (bytes Go-quoted), or why the environment cannot hold it. */
function variableText(name: string, raw: string | Uint8Array): { text: string } | { problem: string } {
  // Quoting only adds bytes: a value already too long is not worth quoting.
  const text = typeof raw === 'string' ? raw : raw.length <= MAX_VARIABLE_BYTES ? goQuote(raw) : undefined;
  if (text === undefined || name.length + 1 + Buffer.byteLength(text) > MAX_VARIABLE_BYTES) return { problem: 'over 128 KiB' };
  if (text.includes('\0')) return { problem: 'it holds a NUL byte' };
  return { text };
}
