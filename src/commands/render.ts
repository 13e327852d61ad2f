/** `svcreg render`: a file kept rendered from the registry (see supervise/renderer.ts). */
import { readFileSync } from 'node:fs';
import { fileSdText } from '../output/prometheus.js';
import { compileTemplate } from '../output/template.js';
import { UsageError, type RenderModel } from '../index.js';
import { Renderer, type RenderWait } from '../supervise/renderer.js';
import type { CommandContext } from './context.js';
import { parseDuration } from './options.js';

export interface RenderCommandOptions {
  out: string;
  format?: string;
  check?: string;
  exec?: string;
  wait?: string;
  once?: boolean;
}

/** `MIN[:MAX]`; MAX defaults to 4 x MIN, as consul-template's. */
export function parseWait(text: string): RenderWait {
  const [min, max, ...rest] = text.split(':');
  if (rest.length > 0) throw new UsageError(`invalid --wait: ${JSON.stringify(text)}`, 'use MIN or MIN:MAX, e.g. 2s or 2s:10s');
  const minMs = parseDuration(min, '--wait');
  const maxMs = max === undefined ? 4 * minMs : parseDuration(max, '--wait (its max)');
  if (maxMs < minMs) throw new UsageError(`--wait: the max (${max}) is less than the min (${min})`);
  return { minMs, maxMs };
}

/** The file's text for a model, from the template file or the format; read and compiled before etcd is asked anything. */
function textOf(template: string | undefined, format: string): (model: RenderModel) => string {
  if (format === 'prometheus') {
    if (template !== undefined) throw new UsageError('--format prometheus takes no template', `drop ${template}, or leave out --format`);
    return fileSdText;
  }
  if (template === undefined) throw new UsageError('render needs a template file (or --format prometheus)', 'svcreg render upstreams.liquid --out upstreams.conf');
  let source: string;
  try {
    source = readFileSync(template, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the template ${template}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const compiled = compileTemplate(source, template);
  // Written to a file, not a terminal: the text is what the template says, unescaped.
  return (model) => compiled.render(model, false);
}

export async function render(ctx: CommandContext, template: string | undefined, options: RenderCommandOptions): Promise<number> {
  const text = textOf(template, options.format ?? 'template');
  const wait = options.wait === undefined ? undefined : parseWait(options.wait);
  const stop = new AbortController();
  const removeSignal = ctx.onSignal(() => stop.abort());
  try {
    const renderer = new Renderer({
      io: ctx.io,
      prefix: ctx.registry.prefix,
      follow: (followOptions) => ctx.registry.follow(undefined, followOptions),
      text,
      out: options.out,
      check: options.check,
      exec: options.exec,
      wait,
      once: options.once === true,
      signal: stop.signal,
    });
    return await renderer.run();
  } finally {
    removeSignal();
  }
}
