/**
 * The printer of each output format, loaded when asked for: a command pays only for the
 * format it prints (the table printer and its width tables, say, never load for JSON).
 */
import type { OutputFormat } from './format.js';
import type { Io } from './io.js';
import type { Printer } from './printer.js';

export async function printerFor(format: OutputFormat, io: Io): Promise<Printer> {
  switch (format) {
    case 'json':
    case 'ndjson':
    case 'yaml':
    case 'template':
      return new (await import('./json.js')).JsonPrinter(io, format);
    case 'addr':
      return new (await import('./addr.js')).AddrPrinter(io);
    case 'table':
    case 'wide':
      return (await import('./table.js')).TablePrinter.create(io, format === 'wide');
  }
}
