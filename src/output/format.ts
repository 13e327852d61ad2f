/** The output formats (`-o`), and which a command takes. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../registry/errors.js';
import { chooseDataFormat, type DataFormat } from './data.js';
import { compileTemplate } from './template.js';

/**
 * Every format some command prints, each command taking those that fit it (parseOutput);
 * shell completion offers them after -o. `wide`: a table with every cell whole, plus lease
 * and revisions. `template`: typed `-o template=TEMPLATE` or `-o template-file=PATH`, as
 * kubectl's `-o go-template=...`.
 */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'ndjson', 'yaml', 'template', 'addr'] as const satisfies readonly ('table' | 'wide' | 'addr' | DataFormat)[];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const DATA_FORMATS: readonly OutputFormat[] = ['json', 'ndjson', 'yaml', 'template'];
/** The formats for scripts (data.ts writes them); the rest are for people. */
export const isDataFormat = (format: OutputFormat): format is DataFormat => DATA_FORMATS.includes(format);

const TEMPLATE_EXAMPLE = "e.g. -o 'template={{ address }}:{{ port }}' or -o template-file=upstreams.liquid";

/** How a format is typed after -o. */
function spelled(format: OutputFormat): string {
  return format === 'template' ? 'template=TEMPLATE, template-file=PATH' : format;
}

/** The format -o names, and what follows `template=` or `template-file=`. */
function split(text: string): { format: string; spelling: string; argument?: string } {
  const eq = text.indexOf('=');
  const spelling = eq < 0 ? text : text.slice(0, eq);
  if (spelling !== 'template' && spelling !== 'template-file') return { format: text, spelling: text };
  return { format: 'template', spelling, argument: eq < 0 ? undefined : text.slice(eq + 1) };
}

function readTemplateFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read -o template-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

/**
 * Checks `-o` against the formats the command supports. A template is read and
 * compiled here, so one that does not parse fails before any request. The data format
 * chosen (and its template) is what data.ts writes with. `fromEnv`: the text came from
 * SVCREG_OUTPUT, and a format that does not fit is named as such (nothing typed is wrong).
 */
export function parseOutput(text: string | undefined, allowed: readonly OutputFormat[], fromEnv = false): OutputFormat {
  const { format, spelling, argument } = split(text ?? 'table');
  if (!allowed.includes(format as OutputFormat)) {
    const choices = allowed.map(spelled).join(', ');
    if (fromEnv) throw new UsageError(`invalid SVCREG_OUTPUT ${JSON.stringify(text)} for this command`, `unset it, or pass -o with one of: ${choices}`);
    throw new UsageError(`invalid output format ${JSON.stringify(spelling)} for this command`, `use one of: ${choices}`);
  }
  const chosen = format as OutputFormat;
  let template;
  if (chosen === 'template') {
    if (!argument) throw new UsageError(`-o ${spelling} needs ${spelling === 'template' ? 'a template' : 'a file'}`, TEMPLATE_EXAMPLE);
    template = spelling === 'template' ? compileTemplate(argument) : compileTemplate(readTemplateFile(argument), argument);
  }
  // writeLine, which is told no format, writes JSON lines unless -o chose another data format.
  chooseDataFormat(isDataFormat(chosen) ? chosen : 'ndjson', template);
  return chosen;
}
