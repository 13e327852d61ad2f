/**
 * Results as data for scripts, whatever the result: `-o json` (one indented document),
 * `-o ndjson` (one compact value per line), `-o yaml` (one YAML document; a stream is one
 * document per value) and `-o template` (the value through the template). Every printer
 * of data writes through these, so a data format is added here once.
 */
import { escapeJsonText } from './escape.js';
import type { Io } from './io.js';
import type { Template } from './template.js';
import { yamlText } from './yaml.js';

export type DataFormat = 'json' | 'ndjson' | 'yaml' | 'template';

/**
 * What -o chose, for what is not told: writeLine's format, and the template of
 * `template`. parseOutput sets it, once per process: a process prints with one -o.
 */
let chosen: { format: DataFormat; template?: Template } = { format: 'ndjson' };

export function chooseDataFormat(format: DataFormat, template?: Template): void {
  chosen = { format, template };
}

/** JSON text that is safe on a terminal: strings are the only place escaped characters can be. */
export function jsonText(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent));
}

/**
 * The chosen template's text for `value`. As kubectl's templates see a list: an array is
 * the `items` of one object; an object's fields are the template's variables.
 */
function templateText(io: Io, value: unknown): string {
  if (!chosen.template) throw new Error('-o template was not parsed: no template to render');
  const data = Array.isArray(value) ? { items: value } : typeof value === 'object' && value !== null ? value : { value };
  // Off a terminal, the output is what the template says, for the script that reads it.
  return chosen.template.render(data, io.stdoutIsTTY);
}

function documentText(io: Io, format: DataFormat, value: unknown): string {
  switch (format) {
    case 'json':
      return `${jsonText(value, 2)}\n`;
    case 'ndjson':
      return `${jsonText(value)}\n`;
    case 'yaml':
      return yamlText(value);
    case 'template':
      return templateText(io, value);
  }
}

/** One value, as one document: indented for json, one line for ndjson, one YAML document, the template once. */
export function writeDocument(io: Io, format: DataFormat, value: unknown): void {
  io.stdout.write(documentText(io, format, value));
}

/** A list: one line per item for ndjson; otherwise one document of the whole list (a template sees it as `items`). */
export function writeItems(io: Io, format: DataFormat, items: readonly unknown[]): void {
  if (format === 'ndjson') io.stdout.write(items.map((item) => `${jsonText(item)}\n`).join(''));
  else writeDocument(io, format, items);
}

/**
 * One value of a stream (an event, a snapshot of a live view): one JSON line for json
 * and ndjson, one YAML document after `---`, or the template once (its text decides
 * the newlines). `format` is -o's unless told.
 */
export function writeLine(io: Io, value: unknown, format: DataFormat = chosen.format): void {
  io.stdout.write(format === 'yaml' ? `---\n${yamlText(value)}` : format === 'template' ? templateText(io, value) : `${jsonText(value)}\n`);
}

export interface ItemsWriter {
  /** Writes a page of the list now (one write: a write per item costs a system call each). */
  write(items: readonly unknown[]): void;
  /** Ends the list; its only output for an empty json or yaml list. */
  end(): void;
}

/**
 * A list that arrives page by page, written as it comes in bounded memory, with the
 * text writeItems would give for the whole of it. Except a template: it sees the whole
 * list as `items`, so the pages are kept and it is rendered at the end.
 */
export function itemsWriter(io: Io, format: DataFormat): ItemsWriter {
  let started = false;
  switch (format) {
    case 'ndjson':
      return { write: (items) => writeItems(io, format, items), end() {} };
    case 'json':
      return {
        write(items) {
          if (items.length === 0) return;
          // The same text JSON.stringify(all, null, 2) would give: each page's array without its brackets.
          io.stdout.write(`${started ? ',\n' : '[\n'}${jsonText(items, 2).slice(2, -2)}`);
          started = true;
        },
        end: () => io.stdout.write(started ? '\n]\n' : '[]\n'),
      };
    case 'yaml':
      return {
        // Block sequences add up: the pages' sequences, one after another, are one sequence.
        write(items) {
          if (items.length === 0) return;
          io.stdout.write(yamlText(items));
          started = true;
        },
        end() {
          if (!started) io.stdout.write('[]\n');
        },
      };
    case 'template': {
      const all: unknown[] = [];
      return {
        write(items) {
          for (const item of items) all.push(item);
        },
        end: () => writeDocument(io, format, all),
      };
    }
  }
}
