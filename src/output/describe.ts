/**
 * One entry in full (`svcreg describe`): every field, the lease and its time left, the
 * health with the last check's output and time, the age and the revisions. For people, one
 * `Field: value` line each, every value escaped; for scripts, the record as one document.
 */
import { Chalk } from 'chalk';
import type { Health, InstanceRecord, MalformedEntry } from '../index.js';
import { hostPort } from './addr.js';
import { writeDocument } from './data.js';
import { escapeControls } from './escape.js';
import { isDataFormat, type OutputFormat } from './format.js';
import type { Io } from './io.js';
import { age, healthText } from './table.js';

/** The fields every instance has, shown by name; anything else is listed under "Other fields". */
const KNOWN = new Set(['service_id', 'service_name', 'address', 'port', 'tags', 'metadata', 'registered_at', 'health', 'key', 'lease', 'create_revision', 'mod_revision', 'ttl_left']);

export function printDescription(io: Io, format: OutputFormat, entry: InstanceRecord | MalformedEntry): void {
  if (isDataFormat(format)) {
    writeDocument(io, format, entry);
    return;
  }
  const fields = isMalformed(entry) ? malformedFields(entry) : instanceFields(entry, new Chalk({ level: io.color ? 1 : 0 }));
  const lease = entry.lease === null ? 'none (the key never expires)' : `${entry.lease} (${entry.ttl_left === undefined || entry.ttl_left === null || entry.ttl_left < 0 ? 'expired' : `${entry.ttl_left}s left`})`;
  fields.push(['Lease', [lease]], ['Revisions', [`created ${entry.create_revision}, modified ${entry.mod_revision}`]]);
  const width = Math.max(...fields.map(([name]) => name.length)) + 2;
  const lines = fields.flatMap(([name, values]) => values.map((v, i) => `${(i === 0 ? `${name}:` : '').padEnd(width)}${v}`));
  io.stdout.write(`${lines.join('\n')}\n`);
}

type Field = [name: string, values: string[]];

/** Escaped: what another writer stored must not reach the terminal raw. */
const shown = (value: unknown) => escapeControls(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));

const isMalformed = (entry: InstanceRecord | MalformedEntry): entry is MalformedEntry => entry.malformed === true;

function instanceFields(i: InstanceRecord, paint: InstanceType<typeof Chalk>): Field[] {
  const health = healthText(i);
  const painted = health === 'passing' ? paint.green(health) : health === 'critical' ? paint.red(health) : 'no checks';
  // Written by whoever registered it: any shape.
  const h = i.health as Partial<Health> | null | undefined;
  const checked = h && typeof h === 'object' ? [`${painted} (${shown(h.output ?? '')}), checked ${typeof h.checked_at === 'number' ? when(h.checked_at) : 'at an unknown time'}`] : [painted];
  const other = Object.keys(i).filter((k) => !KNOWN.has(k));
  return [
    ['Key', [shown(i.key)]],
    ['Service', [shown(i.service_name)]],
    ['ID', [shown(i.service_id)]],
    ['Address', [shown(hostPort(i.address, i.port))]],
    ['Tags', [i.tags.length ? i.tags.map(shown).join(', ') : '-']],
    ['Metadata', Object.keys(i.metadata).length ? Object.entries(i.metadata).map(([k, v]) => `${shown(k)}=${shown(v)}`) : ['-']],
    ['Health', checked],
    ['Registered', [when(i.registered_at)]],
    ...(other.length ? [['Other fields', other.map((k) => `${shown(k)}=${shown(i[k])}`)] as Field] : []),
  ];
}

function malformedFields(m: MalformedEntry): Field[] {
  return [
    ['Key', [shown(m.key)]],
    ['Service', [m.service === null ? '-' : shown(m.service)]],
    ['ID', [m.id === null ? '-' : shown(m.id)]],
    ['Problem', [`malformed: ${shown(m.problem)}`]],
    ['Value', [shown(m.raw)]],
  ];
}

/** An epoch time as UTC, and how long ago. */
function when(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? shown(seconds) : `${date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${age(seconds)} ago)`;
}
