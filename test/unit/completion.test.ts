// Shell completion's own logic, without a shell: what the typed words ask for, read from the
// real program tree, and which candidates are safe to hand to a shell.
import { Writable } from 'node:stream';
import { Argument, Option, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { readTypedLine } from '../../src/cli/completion-request.js';
import { buildProgram, type Process } from '../../src/cli/program.js';
import { complete } from '../../src/commands/complete.js';
import { isSafeWord, printCandidates } from '../../src/output/candidates.js';
import type { Io } from '../../src/output/io.js';

const proc: Process = { argv: [], onSignal: () => () => undefined, onStdoutClosed: () => undefined, opened: () => undefined };
const program = () => buildProgram(proc, () => undefined);
const typed = (...words: string[]) => readTypedLine(program(), words);

/** The fixed candidates `words` ask for; throws when they ask for something else. */
function fixedFor(p: Command, words: string[]): readonly string[] {
  const { completing } = readTypedLine(p, words).request;
  if (completing.kind !== 'fixed') throw new Error(`${JSON.stringify(words)} asks for ${completing.kind}`);
  return completing.values;
}

function collectingIo(): { io: Io; out: () => string } {
  let text = '';
  const stdout = new Writable({ write: (chunk, _enc, done) => ((text += chunk), done()) });
  const io = { stdout, stderr: stdout, stdin: process.stdin, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, stderrColor: false };
  return { io, out: () => text };
}

describe('what the typed words ask for', () => {
  it('the first word: the visible commands, not the hidden __complete', () => {
    const values = fixedFor(program(), ['']);
    expect(values).toEqual(expect.arrayContaining(['register', 'list', 'discover', 'watch', 'purge', 'completion']));
    expect(values).not.toContain('__complete');
  });

  it("a global option's value is not taken for the command", () => {
    expect(fixedFor(program(), ['--prefix', 'discover', ''])).toContain('discover');
  });

  it('a command argument named service asks for service names', () => {
    expect(typed('discover', '--tag', 'v1', 'we').request).toEqual({ word: 'we', lead: '', completing: { kind: 'services' } });
  });

  it('global options typed before and after the command are handed on, with their values; its own options are not', () => {
    const { globals } = typed('--endpoints', 'http://127.0.0.1:1', 'discover', '--tag', 'v1', '--prefix=/p/', '-ojson', '--user', 'u', '');
    expect(globals).toEqual(['--endpoints', 'http://127.0.0.1:1', '--prefix=/p/', '-ojson', '--user', 'u']);
  });

  it('--id after a service asks for the instance ids of that service, also as --id=', () => {
    expect(typed('purge', 'web', '--id', '').request.completing).toEqual({ kind: 'instances', service: 'web' });
    expect(typed('purge', 'web', '--id=w').request).toEqual({ word: '--id=w', lead: '--id=', completing: { kind: 'instances', service: 'web' } });
  });

  it('values listed in a placeholder (--pick <first|random>) are its choices', () => {
    expect(typed('discover', 'web', '--pick', '').request.completing).toEqual({ kind: 'fixed', values: ['first', 'random'] });
  });

  it('-o offers the output formats', () => {
    expect(typed('-o', '').request.completing).toEqual({ kind: 'fixed', values: ['table', 'wide', 'json', 'ndjson', 'yaml', 'template', 'addr'] });
  });

  it('an option that takes a file leaves the word to the shell', () => {
    expect(typed('--cacert', '').request.completing).toEqual({ kind: 'shell' });
  });

  it('after --, nothing is an option: register -- command is the shell', () => {
    expect(typed('register', 'web', '--', '-').request.completing).toEqual({ kind: 'shell' });
  });

  it('commands, options and choices added to the program are completed with no list to update', () => {
    const p = program();
    p.addOption(new Option('--flavour <name>').choices(['dev', 'prod']));
    p.command('frobnicate').option('--twice').addArgument(new Argument('[mode]').choices(['short', 'long']));
    expect(fixedFor(p, ['fro'])).toContain('frobnicate');
    expect(fixedFor(p, ['frobnicate', '--'])).toEqual(expect.arrayContaining(['--twice', '--flavour']));
    expect(readTypedLine(p, ['--flavour', '']).request.completing).toEqual({ kind: 'fixed', values: ['dev', 'prod'] });
    expect(readTypedLine(p, ['frobnicate', '']).request.completing).toEqual({ kind: 'fixed', values: ['short', 'long'] });
  });
});

describe('candidates', () => {
  it.each(['web', 'user-service', 'a:80', 'v1.2_3+x', '--output=json', 'café', '服务'])('%j is a safe word', (w) => {
    expect(isSafeWord(w)).toBe(true);
  });

  it.each(['two words', "it's", 'a"b', '$HOME', '$(rm -rf ~)', '`id`', 'a\nb', 'esc\u001b[31m', 'a;b', 'a|b', 'a&b', '*', 'a?', '~root', '!1', 'a\\b', '{a,b}', 'x#y', '=ls', 'bidi\u202eevil', 'zero\u200bwidth', ''])(
    '%j is not',
    (w) => {
      expect(isSafeWord(w)).toBe(false);
    },
  );

  it('prints those that extend the typed word, once each, one per line', () => {
    const { io, out } = collectingIo();
    printCandidates(io, ['web', 'web2', 'api', 'web', 'we b'], 'we');
    expect(out()).toBe('web\nweb2\n');
  });

  it('fixed candidates are printed without opening the registry', async () => {
    const { io, out } = collectingIo();
    let opened = 0;
    const open = () => (opened++, Promise.reject(new Error('the registry was opened')));
    const code = await complete(io, { word: '--p', lead: '', completing: { kind: 'fixed', values: ['--pick', '--prefix', '--all'] } }, open, 800);
    expect([code, out(), opened]).toEqual([0, '--pick\n--prefix\n', 0]);
  });
});
