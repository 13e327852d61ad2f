/**
 * `render`'s loop: keeps one file rendered from the registry, as consul-template and
 * confd do. Each listing comes from one consistent read kept current by the gap-free
 * watch (registry.follow), so nothing is ever rendered from a failed or partial read:
 * through an outage the last good file stays, and the next listing after it is rendered.
 * A file is staged beside its target, checked (--check), renamed into place, and then
 * --exec runs; only when the text changed.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { stageFile } from '../output/atomic-write.js';
import { connectionStatusMessage, message, throttledMessages, warn, type Io } from '../output/io.js';
import { backoffMs, renderModel, UnreachableError, type FollowOptions, type InstanceListing, type RenderModel } from '../index.js';
import { Child } from './child.js';

export interface RenderWait {
  /** Render once no change came for this long... */
  minMs: number;
  /** ...or this long after the first change not rendered yet. */
  maxMs: number;
}

export interface RendererOptions {
  io: Io;
  /** The registry's prefix, for the model. */
  prefix: string;
  /** The registry's listings: registry.follow() of everything under the prefix. */
  follow(options: FollowOptions): AsyncIterable<InstanceListing>;
  /** The file's text for a model; throws (a UsageError) when the template fails. */
  text(model: RenderModel): string;
  out: string;
  check?: string;
  exec?: string;
  wait?: RenderWait;
  once: boolean;
  /** Aborted by SIGINT/SIGTERM: the loop stops after the check or exec that is running. */
  signal: AbortSignal;
}

export class Renderer {
  /** The text the file holds (as far as this process knows), so an unchanged render installs nothing. */
  private installed: string | undefined;
  private rendered = false;
  private readonly warnedMalformed = new Set<string>();
  private readonly say: (text: string) => void;

  constructor(private readonly options: RendererOptions) {
    this.say = throttledMessages(options.io, 5000);
    try {
      this.installed = readFileSync(options.out, 'utf8');
    } catch {
      // No file yet (or unreadable: the first render will say why when it writes).
    }
  }

  /** Runs until the signal (exit 0), or once with --once: 0 when the file is current, 1 when --check or --exec failed. */
  async run(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.follow(() => (attempt = 0));
      } catch (err) {
        // Only an outage is waited out, and only by a process that keeps running.
        if (!(err instanceof UnreachableError) || this.options.once || this.options.signal.aborted) throw err;
        const ms = backoffMs(attempt);
        this.say(`cannot read the registry: ${err.message}; ${this.keeping()}; retrying in ${ms} ms`);
        await delay(ms, undefined, { signal: this.options.signal }).catch(() => undefined);
        if (this.options.signal.aborted) return 0;
      }
    }
  }

  private keeping(): string {
    return this.installed === undefined ? `nothing written to ${this.options.out} yet` : `keeping the last good ${this.options.out}`;
  }

  /** One follow of the registry, rendering as it goes; `onListing` hears that etcd answered. */
  private async follow(onListing: () => void): Promise<number> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    this.options.signal.addEventListener('abort', onAbort, { once: true });
    const onStatus: FollowOptions['onStatus'] = (status) => {
      const text = connectionStatusMessage(status);
      if (text) this.say(status.state === 'disconnected' ? `${text}; ${this.keeping()}` : text);
    };
    const listings = this.options.follow({ signal: stop.signal, onStatus })[Symbol.asyncIterator]();
    try {
      let pending = listings.next();
      for (;;) {
        const item = await pending;
        if (item.done) return 0;
        onListing();
        pending = listings.next();
        let listing = item.value;
        const wait = this.options.wait;
        if (wait && this.rendered) {
          // Coalesce a burst: the latest listing once the registry is quiet (or at the cap).
          const cap = performance.now() + wait.maxMs;
          for (;;) {
            const quiet = Math.min(wait.minMs, cap - performance.now());
            const more = quiet > 0 ? await within(pending, quiet) : undefined;
            if (!more) break;
            if (more.done) return 0;
            listing = more.value;
            pending = listings.next();
          }
        }
        const ok = await this.apply(listing);
        if (this.options.once) return ok ? 0 : 1;
      }
    } finally {
      this.options.signal.removeEventListener('abort', onAbort);
      stop.abort();
      await listings.return?.(undefined);
    }
  }

  /** Renders `listing` and installs it if it changed and passes --check; false when something failed. */
  private async apply(listing: InstanceListing): Promise<boolean> {
    const { io, out } = this.options;
    for (const m of listing.malformed) {
      if (this.warnedMalformed.has(m.key)) continue;
      this.warnedMalformed.add(m.key);
      warn(io, `malformed entry ${m.key} left out of ${out}: ${m.problem}`);
    }
    const first = !this.rendered;
    this.rendered = true;
    let text: string;
    try {
      text = this.options.text(renderModel(this.options.prefix, listing));
    } catch (err) {
      // At start nothing is written and the error is the exit code (2 for the template's); later the file stays.
      if (first) throw err;
      warn(io, `${(err as Error).message}; ${this.keeping()}`);
      return false;
    }
    if (text === this.installed) {
      // Said once, at start: an operator sees the renderer is up even when it had nothing to write.
      if (first) message(io, `${out} is current at revision ${listing.revision}`);
      return true;
    }
    const staged = stageFile(out, text, true);
    try {
      if (this.options.check !== undefined) {
        const code = await this.shell(this.options.check, staged.path);
        if (code !== 0) {
          // Gone before it is reported: whoever reads the report finds nothing staged.
          staged.discard();
          warn(io, `--check exited with ${code}: ${out} not changed (revision ${listing.revision} not installed)`);
          return false;
        }
      }
      staged.install();
    } finally {
      staged.discard();
    }
    this.installed = text;
    message(io, `rendered ${out} at revision ${listing.revision}`);
    if (this.options.exec === undefined) return true;
    const code = await this.shell(this.options.exec, out);
    if (code !== 0) warn(io, `--exec exited with ${code}`);
    return code === 0;
  }

  /** Runs an operator's shell line with SVCREG_RENDERED set; its output goes to stderr (stdout is data). */
  private shell(command: string, rendered: string): Promise<number> {
    const env = { ...process.env, SVCREG_RENDERED: rendered };
    return new Child(['sh', '-c', command], env, (err) => warn(this.options.io, `cannot run sh: ${err.message}`), { stdio: ['ignore', 2, 2] }).exited;
  }
}

/** `promise`'s value if it settles within `ms`, else undefined. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise, delay(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  } finally {
    timer.abort();
  }
}
