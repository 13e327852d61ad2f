/**
 * A table written a batch of rows at a time, so a listing of any size streams page by
 * page in bounded memory. Column widths come from the first batch and only ever grow
 * (a later, wider page shifts the columns from there on); every width is capped, so
 * one huge cell never pads every other line. Cells are escaped (escape.ts) and, unless
 * `wide`, cut at the cap.
 */
import { escapeControls } from './escape.js';
import { cut, displayWidth } from './width.js';

export interface Column {
  head: string;
  /** Colour for a cell, chosen by its text (e.g. health), applied after the width is measured. */
  paint?: (text: string) => string;
}

export interface TableOptions {
  /** Cells shown whole (-o wide): widths stay capped, so a longer cell pushes the rest of its row. */
  wide: boolean;
  /** Colour of the header (bold on a terminal). */
  paintHead: (text: string) => string;
}

/** The widest a column grows, and where a cell is cut without `wide`. */
export const MAX_CELL_WIDTH = 60;
const GAP = 2;
// Only this much of a huge cell is escaped and measured before it is cut: escapes at most quadruple it.
const SCAN = MAX_CELL_WIDTH * 4;

/** `text` as a cell shows it: escaped, and cut at MAX_CELL_WIDTH columns unless `wide`. */
export function cellText(text: string, wide: boolean): string {
  if (wide) return escapeControls(text);
  const long = text.length > SCAN;
  return cut(escapeControls(long ? text.slice(0, SCAN) : text), MAX_CELL_WIDTH, long);
}

export class StreamingTable {
  private widths: number[] | undefined;
  /** Rows written so far. */
  rows = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly columns: Column[],
    private readonly options: TableOptions,
  ) {}

  /** Writes `rows` (one string per column) in one write; the first non-empty call writes the header too. */
  write(rows: string[][]): void {
    if (rows.length === 0) return;
    const cells = rows.map((row) => row.map((text) => cellText(text, this.options.wide)));
    const sizes = cells.map((row) => row.map(displayWidth));
    const first = !this.widths;
    const widths = (this.widths ??= this.columns.map((c) => displayWidth(c.head)));
    for (const row of sizes) for (let c = 0; c < row.length - 1; c++) if (row[c] > widths[c]) widths[c] = Math.min(row[c], MAX_CELL_WIDTH);
    let text = '';
    if (first) {
      const head = this.columns.map((c) => c.head);
      text += this.line(head, head.map(displayWidth), () => this.options.paintHead);
    }
    for (let r = 0; r < cells.length; r++) text += this.line(cells[r], sizes[r], (c) => this.columns[c].paint);
    this.rows += rows.length;
    this.out.write(text);
  }

  /** One line: each cell padded to its column, but trailing empty cells and the last one's padding left off. */
  private line(cells: string[], sizes: number[], paint: (column: number) => ((text: string) => string) | undefined): string {
    let last = cells.length - 1;
    while (last > 0 && cells[last] === '') last--;
    let text = '';
    for (let c = 0; c <= last; c++) {
      const p = paint(c);
      text += p ? p(cells[c]) : cells[c];
      if (c < last) text += ' '.repeat(Math.max(0, this.widths![c] - sizes[c]) + GAP);
    }
    return `${text}\n`;
  }
}
