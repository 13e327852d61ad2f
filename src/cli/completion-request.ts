/**
 * What the word being completed can be, read from the words typed before it against the
 * commander program itself (its commands, their options and arguments), so whatever is
 * added to the program is completed with no list kept here. Parsed as commander parses:
 * a subcommand's own options first, then its parents' (the global options), anywhere
 * before `--`.
 */
import type { Argument, Command, Option } from 'commander';
import type { CompletionRequest, Completing } from '../commands/complete.js';
import { OUTPUT_FORMATS } from '../output/format.js';

export interface TypedLine {
  request: CompletionRequest;
  /** The global options typed with their values (`--endpoints`, `--user`, ...), for the registry's connection. */
  globals: string[];
}

const nothing: Completing = { kind: 'fixed', values: [] };

/** `words`: what follows `svcreg` up to the cursor; the last is the word being completed ('' for a new one). */
export function readTypedLine(program: Command, words: readonly string[]): TypedLine {
  const word = words.at(-1) ?? '';
  const globals: string[] = [];
  let cmd = program;
  let operands: string[] = [];
  let ended = false;
  // An option whose value is the next word, and the flag as typed.
  let pending: { option: Option; flag: string } | undefined;
  for (const w of words.slice(0, -1)) {
    if (pending) {
      if (program.options.includes(pending.option)) globals.push(pending.flag, w);
      pending = undefined;
    } else if (!ended && w === '--') {
      ended = true;
    } else if (!ended && w.length > 1 && w.startsWith('-')) {
      const { option, inline } = flagOf(cmd, w);
      if (option && takesValue(option) && inline === undefined) pending = { option, flag: w };
      else if (option && takesValue(option) && program.options.includes(option)) globals.push(w);
    } else {
      const sub = !ended && operands.length === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
      if (sub) [cmd, operands] = [sub, []];
      else operands.push(w);
    }
  }
  const request = (completing: Completing, lead = ''): TypedLine => ({ request: { word, lead, completing }, globals });

  if (pending) return request(valuesOf(pending.option, cmd, operands));
  if (!ended && word.startsWith('-')) {
    const lead = /^--[^=]+=/.exec(word)?.[0];
    const option = lead === undefined ? undefined : flagOf(cmd, word).option;
    if (option && takesValue(option)) return request(valuesOf(option, cmd, operands), lead);
    return request({ kind: 'fixed', values: flagsOf(cmd) });
  }
  if (!ended && operands.length === 0 && cmd.commands.length > 0) {
    return request({ kind: 'fixed', values: cmd.createHelp().visibleCommands(cmd).map((c) => c.name()) });
  }
  const argument = argumentAt(cmd, operands.length);
  if (!argument) return request(nothing);
  if (argument.argChoices) return request({ kind: 'fixed', values: argument.argChoices });
  return request(argument.name() === 'service' ? { kind: 'services' } : { kind: 'shell' });
}

/** The option `word` names in `cmd`'s scope (its own options, then its parents'), and a value given in the same word. */
function flagOf(cmd: Command, word: string): { option?: Option; inline?: string } {
  const long = /^(--[^=]+)=(.*)$/s.exec(word);
  const [flag, inline] = long ? [long[1], long[2]] : /^-[^-]./.test(word) ? [word.slice(0, 2), word.slice(2)] : [word, undefined];
  for (let c: Command | null = cmd; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return { option, inline };
  }
  return {};
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** Every flag `cmd` takes, its own and its parents', as its help lists them. */
function flagsOf(cmd: Command): string[] {
  const flags: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.createHelp().visibleOptions(c)) flags.push(...[o.long, o.short].filter((f) => f !== undefined));
  }
  return flags;
}

/** What an option's value can be: fixed choices, the ids of the service typed (after --id), or anything. */
function valuesOf(option: Option, cmd: Command, operands: string[]): Completing {
  const fixed = fixedValues(option);
  if (fixed.length > 0) return { kind: 'fixed', values: fixed };
  if (option.attributeName() !== 'id') return { kind: 'shell' };
  const service = operands[cmd.registeredArguments.findIndex((a) => a.name() === 'service')];
  return service === undefined ? nothing : { kind: 'instances', service };
}

/**
 * The values an option declares: commander's choices, or a placeholder that lists them
 * (`--pick <first|random>`, checked by the command with its own message). -o's formats
 * are checked by each command for itself, so they come from their one list.
 */
function fixedValues(option: Option): readonly string[] {
  if (option.argChoices) return option.argChoices;
  const listed = /<([^<>|\s]+(?:\|[^<>|\s]+)+)>$/.exec(option.flags);
  if (listed) return listed[1].split('|');
  return option.attributeName() === 'output' ? OUTPUT_FORMATS : [];
}

/** The argument at `index` among `cmd`'s operands; a variadic last one takes the rest. */
function argumentAt(cmd: Command, index: number): Argument | undefined {
  const args = cmd.registeredArguments;
  const last = args.at(-1);
  return args[index] ?? (last?.variadic ? last : undefined);
}
