// -o yaml and -o template: the encoders (held against the yaml library's own parser),
// the template engine's setup, and how data.ts writes documents, lists and streams in them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { itemsWriter, jsonText, writeDocument, writeItems, writeLine } from '../../src/output/data.js';
import { parseOutput } from '../../src/output/format.js';
import type { Io } from '../../src/output/io.js';
import { printerFor } from '../../src/output/printers.js';
import { compileTemplate } from '../../src/output/template.js';
import { yamlText } from '../../src/output/yaml.js';
import { UsageError } from '../../src/registry/errors.js';

function capture(stdoutIsTTY = false): { io: Io; out: () => string } {
  let out = '';
  const stdout = new PassThrough().on('data', (d) => (out += d));
  const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY, stderrIsTTY: false, color: false, stderrColor: false };
  return { io, out: () => out };
}

/** Characters that act on a terminal or reorder what it shows (escape.ts's list), newline aside. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

// What other writers could put in a key, a tag or metadata, to forge output or act on a terminal.
const HOSTILE = [
  'line\nforged: true',
  'v1\n---\nservice: forged',
  '\n- forged item',
  '\u001b[2J\u001b[HALL GOOD',
  '\u001b]0;title\u0007',
  '\u009b2J',
  'nel\u0085line',
  'ls\u2028ps\u2029',
  '\u202eevil',
  'zero\u200bwidth',
  '\ufeffbom',
  'tab\there',
  'cr\rreturn',
  'del\u007f',
  'nul\u0000',
  '---',
  '...',
  '- item',
  'key: value',
  '# comment',
  '&anchor',
  '*alias',
  '!tag',
  '%YAML 1.2',
  '"quoted"',
  "'single'",
  'back\\slash \\n \\x1b',
  ' leading and trailing ',
  'true',
  '123',
  '',
  'café 服务 🚀',
];

const hostileValue = () => ({
  tags: HOSTILE,
  metadata: Object.fromEntries(HOSTILE.map((text, i) => [text, i])),
  nested: [{ note: HOSTILE }],
});

describe('yaml', () => {
  it('hostile strings, as values and as keys, parse back to the same value', () => {
    const value = hostileValue();
    expect(parse(yamlText(value))).toEqual(value);
  });

  it('hostile strings put no raw control, bidi or separator character in the text', () => {
    const text = yamlText(hostileValue());
    expect(text).not.toMatch(RAW_CONTROL);
  });

  it('a hostile string forges no key, list item or document', () => {
    const value = { a: 'x\n---\nb: 1', list: ['y\n- z'], 'k\nforged': 1 };
    const docs = parseAllDocuments(yamlText(value));
    expect(docs).toHaveLength(1);
    const parsed = (docs as { toJS(): unknown }[])[0].toJS() as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['a', 'list', 'k\nforged']);
    expect(parsed.list).toEqual(['y\n- z']);
  });

  it('a value with a newline is one line of text, not a block scalar', () => {
    expect(yamlText({ a: 'one\ntwo' })).toBe('a: "one\\ntwo"\n');
  });

  it('a long value stays on its line, unfolded', () => {
    const long = { plain: 'word '.repeat(40).trim(), quoted: `${'word '.repeat(40)}\u001b` };
    expect(yamlText(long).split('\n')).toHaveLength(3);
  });

  it('plain strings are written plain', () => {
    expect(yamlText({ service_name: 'web', address: '10.0.0.1', tags: ['v1'] })).toBe('service_name: web\naddress: 10.0.0.1\ntags:\n  - v1\n');
  });

  it('an object met twice is written twice, not as an alias', () => {
    const shared = { zone: 'a' };
    const text = yamlText({ instance: { metadata: shared }, prev: { metadata: shared } });
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text)).toEqual({ instance: { metadata: { zone: 'a' } }, prev: { metadata: { zone: 'a' } } });
  });

  it('gives the values -o json gives', () => {
    const value = [{ key: '/services/web/a', lease: null, registered_at: 1764000000.123, port: 8080, tags: [], metadata: {}, health: { status: 'passing' }, malformed: true }];
    expect(parse(yamlText(value))).toEqual(JSON.parse(jsonText(value)));
  });
});

describe('templates', () => {
  it('an object is rendered with its fields as the variables', () => {
    expect(compileTemplate('{{ type }} {{ key }} {{ instance.port }}').render({ type: 'PUT', key: '/k', instance: { port: 80 } }, false)).toBe('PUT /k 80');
  });

  it('a value from etcd is inserted as text, never read as template code', () => {
    const template = compileTemplate('[{{ note }}]');
    expect(template.render({ note: '{{ 7 | plus: 1 }}{% raw %}' }, false)).toBe('[{{ 7 | plus: 1 }}{% raw %}]');
  });

  it('off a terminal, a value is inserted as it is, control characters too', () => {
    expect(compileTemplate('{{ v }}').render({ v: 'a\nb\u001b[2J' }, false)).toBe('a\nb\u001b[2J');
  });

  it('on a terminal, every value from the data has its control characters escaped, through raw and inside lists', () => {
    const shown = compileTemplate('{{ v }}|{{ v | raw }}|{{ list }}').render({ v: 'a\nb\u001b[2J\u202e', list: ['x\u0085', 'y\n'] }, true);
    expect(shown).toBe('a\\nb\\x1b[2J\\u202e|a\\nb\\x1b[2J\\u202e|x\\x85y\\n');
  });

  it('on a terminal, keys from the data are escaped too', () => {
    const shown = compileTemplate('{% for kv in metadata %}{{ kv[0] }}={{ kv[1] }};{% endfor %}').render({ metadata: { 'k\nforged\u001b]0;x\u0007': 'v' } }, true);
    expect(shown).toBe('k\\nforged\\x1b]0;x\\x07=v;');
  });

  it('on a terminal, an escape sequence a filter decodes from a value is escaped', () => {
    const shown = compileTemplate('{{ v | url_decode }}|{{ b | base64_decode }}').render({ v: '%1b[2J', b: Buffer.from('\u009b2J').toString('base64') }, true);
    expect(shown).toBe('\\x1b[2J|\\x9b2J');
  });

  it("on a terminal, the template's own text and the line breaks it writes are kept", () => {
    expect(compileTemplate('{{ a }}\n{{ b }}{{ "\\n" }}').render({ a: 1, b: 2 }, true)).toBe('1\n2\n');
  });

  it('on a terminal, values without control characters print as they do off one', () => {
    const template = compileTemplate('{{ s }}|{{ n }}|{{ f }}|{{ list }}|{{ nested }}|{{ nil }}|{{ yes }}|{{ obj }}|{{ obj | json }}');
    const data = { s: 'café', n: 3, f: 1764000000.123, list: ['a', 1, null], nested: [['b'], ['c']], nil: null, yes: true, obj: { k: 'v' } };
    expect(template.render(data, true)).toBe(template.render(data, false));
  });

  it('an unknown variable renders as nothing', () => {
    expect(compileTemplate('[{{ nope }}][{{ a.b.c }}]').render({ a: {} }, false)).toBe('[][]');
  });

  it("a template reaches only the data's own fields, not their prototypes", () => {
    expect(compileTemplate('[{{ a.constructor }}][{{ a.toString }}]').render({ a: {} }, false)).toBe('[][]');
  });

  it('an unknown filter is a usage error when the template is compiled, naming the line and column', () => {
    expect(() => compileTemplate('ok\n  {{ key | nope }}')).toThrow(UsageError);
    expect(() => compileTemplate('ok\n  {{ key | nope }}')).toThrow(/undefined filter: nope, line:2, col:3/);
  });

  it('a template that does not parse is a usage error naming the line and column', () => {
    expect(() => compileTemplate('first\n{% for i in items %}{{ i }}')).toThrow(/^invalid template: tag \{% for i in items %\} not closed, line:2, col:1$/);
  });

  it('a template from a file names the file in its errors', () => {
    expect(() => compileTemplate('{{ a', 'upstreams.liquid')).toThrow(/file:upstreams\.liquid, line:1, col:1/);
  });

  it('a template that fails while rendering is a usage error', () => {
    const template = compileTemplate('{% include "no-such-partial.liquid" %}');
    expect(() => template.render({}, false)).toThrow(UsageError);
  });
});

describe('-o yaml and -o template through data.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svcreg-formats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parseOutput takes yaml where a command allows it', () => {
    expect(parseOutput('yaml', ['table', 'json', 'yaml'])).toBe('yaml');
  });

  it('parseOutput takes template=TEMPLATE as the format template', () => {
    expect(parseOutput('template={{ a }}', ['table', 'template'])).toBe('template');
  });

  it('parseOutput refuses a template for a command that does not take one, naming the format and not the template', () => {
    expect(() => parseOutput('template={{ a }}', ['table', 'json'])).toThrow(/^invalid output format "template" for this command$/);
  });

  it('-o template without a template is a usage error', () => {
    expect(() => parseOutput('template', ['template'])).toThrow(UsageError);
    expect(() => parseOutput('template=', ['template'])).toThrow(UsageError);
  });

  it('-o template-file=PATH reads the template from the file', () => {
    const file = join(dir, 'ok.liquid');
    writeFileSync(file, '{{ service }}:{{ instances }}\n');
    parseOutput(`template-file=${file}`, ['template']);
    const c = capture();
    writeDocument(c.io, 'template', { service: 'web', instances: 2 });
    expect(c.out()).toBe('web:2\n');
  });

  it('-o template-file that cannot be read is a usage error naming the file', () => {
    expect(() => parseOutput(`template-file=${join(dir, 'missing.liquid')}`, ['template'])).toThrow(/cannot read -o template-file .*missing\.liquid: ENOENT/);
  });

  it('a list is the template\'s "items"', () => {
    parseOutput('template={% for i in items %}{{ i.address }}:{{ i.port }},{% endfor %}{{ items.size }}', ['template']);
    const c = capture();
    writeItems(c.io, 'template', [{ address: 'a', port: 1 }, { address: 'b', port: 2 }]);
    expect(c.out()).toBe('a:1,b:2,2');
  });

  it('a stream renders the template once per value and adds nothing', () => {
    parseOutput('template={{ type }} {{ revision }};', ['template']);
    const c = capture();
    writeLine(c.io, { type: 'PUT', revision: 5 });
    writeLine(c.io, { type: 'DELETE', revision: 6 });
    expect(c.out()).toBe('PUT 5;DELETE 6;');
  });

  it('on a terminal, the template escapes the values it inserts', () => {
    parseOutput('template={{ key }}', ['template']);
    const c = capture(true);
    writeDocument(c.io, 'template', { key: 'a\u001b[2J' });
    expect(c.out()).toBe('a\\x1b[2J');
  });

  it('a yaml list is one document: a sequence', () => {
    const c = capture();
    writeItems(c.io, 'yaml', [{ a: 1 }, { a: 2 }]);
    expect(c.out()).toBe('- a: 1\n- a: 2\n');
  });

  it('a yaml stream is one document per value, each after ---', () => {
    parseOutput('yaml', ['yaml']);
    const c = capture();
    for (const revision of [1, 2, 3]) writeLine(c.io, { type: 'PUT', key: 'x\n---\ny', revision });
    const docs = (parseAllDocuments(c.out()) as { toJS(): unknown }[]).map((d) => d.toJS());
    expect(docs).toEqual([1, 2, 3].map((revision) => ({ type: 'PUT', key: 'x\n---\ny', revision })));
    expect(c.out().startsWith('---\ntype: PUT\n')).toBe(true);
  });

  it('writeLine, told no format, writes JSON lines after -o json', () => {
    parseOutput('json', ['json']);
    const c = capture();
    writeLine(c.io, { a: 1 });
    expect(c.out()).toBe('{"a":1}\n');
  });

  it('a yaml list written page by page is the text of the whole list', () => {
    const whole = capture();
    const paged = capture();
    writeItems(whole.io, 'yaml', [{ a: 1 }, { a: 2 }, { a: 3 }]);
    const list = itemsWriter(paged.io, 'yaml');
    list.write([{ a: 1 }]);
    list.write([]);
    list.write([{ a: 2 }, { a: 3 }]);
    list.end();
    expect(paged.out()).toBe(whole.out());
  });

  it('an empty yaml list written page by page is []', () => {
    const c = capture();
    const list = itemsWriter(c.io, 'yaml');
    list.write([]);
    list.end();
    expect(parse(c.out())).toEqual([]);
  });

  it('a template over a list written page by page sees the whole list, once', () => {
    parseOutput('template={{ items | map: "a" | join: "," }}.', ['template']);
    const c = capture();
    const list = itemsWriter(c.io, 'template');
    list.write([{ a: 1 }]);
    list.write([{ a: 2 }]);
    expect(c.out()).toBe('');
    list.end();
    expect(c.out()).toBe('1,2.');
  });

  it('the yaml printer streams a listing page by page as one sequence, malformed entries by key', async () => {
    const c = capture();
    async function* pages() {
      yield { revision: 1, instances: [{ key: '/s/web/b' }], malformed: [{ key: '/s/web/a', malformed: true }] };
      yield { revision: 1, instances: [{ key: '/s/web/c' }], malformed: [] };
    }
    await (await printerFor('yaml', c.io)).streamInstances(pages() as never);
    expect(parse(c.out())).toEqual([{ key: '/s/web/a', malformed: true }, { key: '/s/web/b' }, { key: '/s/web/c' }]);
  });
});
