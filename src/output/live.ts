/**
 * Live views (`list --watch`, `discover --watch`): each listing replaces the one before.
 * On a terminal the table is redrawn in place, as `watch -n` does (the screen cleared,
 * a header with the revision and the time, the table, written at once so it never
 * flickers half-drawn); through a pipe, one table after another with a blank line
 * between; data formats print one document per listing (one line each with ndjson).
 */
import { Writable } from 'node:stream';
import type { InstanceListing, InstanceRecord, MalformedEntry, ServiceListing } from '../index.js';
import { writeDocument, writeLine } from './data.js';
import { isDataFormat, type OutputFormat } from './format.js';
import { withMalformedByKey } from './json.js';
import type { Io } from './io.js';
import { printerFor } from './printers.js';

/** Cursor home, then clear the screen: before the first frame. */
const CLEAR = '\x1b[H\x1b[2J';
/** Cursor home: later frames overwrite the last in place, so the scrollback does not fill with frames. */
const HOME = '\x1b[H';
/** Clear to the end of the line, and to the end of the screen: what the last frame left beyond this one. */
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** What a live view shows: every service's counts, or instances (with what is malformed, for the whole registry). */
export type LiveFrame = { services: ServiceListing } | { instances: InstanceListing; withMalformed: boolean };

export class LiveScreen {
  private frames = 0;

  constructor(
    private readonly io: Io,
    private readonly format: OutputFormat,
    /** What the header names: `list --watch`. */
    private readonly title: string,
  ) {}

  async show(frame: LiveFrame): Promise<void> {
    if (isDataFormat(this.format)) {
      const value = 'services' in frame ? frame.services.services : frame.withMalformed ? withMalformedByKey(frame.instances) : frame.instances.instances;
      // json: one indented document per change (a JSON reader takes the stream); the others are streams already.
      if (this.format === 'json') writeDocument(this.io, this.format, value);
      else writeLine(this.io, value, this.format);
    } else if (this.io.stdoutIsTTY) {
      const revision = 'services' in frame ? frame.services.revision : frame.instances.revision;
      const time = new Date().toTimeString().slice(0, 8);
      // A frame taller than the terminal would scroll, and the next one would not overwrite it;
      // and only what fits is drawn: a 100,000-instance table is not built to show 30 rows of it.
      const rows = (this.io.stdout as { rows?: number }).rows ?? Infinity;
      const { shown, hidden } = fitted(frame, Math.max(1, rows - 5));
      const lines = [`svcreg ${this.title}: revision ${revision} at ${time} (Ctrl-C to stop)`, '', ...(await this.render(shown)).split('\n').slice(0, -1)];
      if (hidden > 0) lines.push(`(${hidden} more rows: a taller terminal, or -o json, shows them)`);
      this.io.stdout.write(`${this.frames === 0 ? CLEAR : HOME}${lines.join(`${CLEAR_LINE}\n`)}${CLEAR_LINE}\n${CLEAR_BELOW}`);
    } else {
      if (this.frames > 0) this.io.stdout.write('\n');
      await this.draw(this.io, frame);
    }
    this.frames++;
  }

  /** The frame as text, "no instances" included: on a terminal it belongs on the screen, not above it. */
  private async render(frame: LiveFrame): Promise<string> {
    let text = '';
    const collect = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    await this.draw({ ...this.io, stdout: collect, stderr: collect }, frame);
    return text;
  }

  private async draw(io: Io, frame: LiveFrame): Promise<void> {
    const printer = await printerFor(this.format, io);
    if ('services' in frame) printer.services(frame.services);
    else printer.instances(frame.instances, frame.withMalformed);
  }
}

/** The first `room` rows of a frame, in the order the table shows them, and how many are left out. */
function fitted(frame: LiveFrame, room: number): { shown: LiveFrame; hidden: number } {
  if ('services' in frame) {
    const { services } = frame.services;
    return { shown: { services: { ...frame.services, services: services.slice(0, room) } }, hidden: Math.max(0, services.length - room) };
  }
  const rows = frame.withMalformed ? withMalformedByKey(frame.instances) : frame.instances.instances;
  const first = rows.slice(0, room);
  const instances = first.filter((e): e is InstanceRecord => e.malformed !== true);
  const malformed = first.filter((e): e is MalformedEntry => e.malformed === true);
  return { shown: { ...frame, instances: { ...frame.instances, instances, malformed } }, hidden: Math.max(0, rows.length - room) };
}
