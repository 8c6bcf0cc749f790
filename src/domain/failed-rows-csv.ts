import { stringify } from 'csv-stringify/sync';
import { maskEmail, maskMobile } from './mask.js';
import type { TaskItem } from './task.js';

export interface CsvColumns {
  name: string;
  id: string;
  code: string;
  message: string;
  email: string;
  mobile: string;
}

/**
 * The cells quoted. csv-stringify quotes a line break only when it is the whole record delimiter
 * (CRLF), but a spreadsheet ends the row at a bare LF or CR as well. Only these cells, not all:
 * ordinary rows stay as plain as they were.
 */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Failed rows as a file that opens correctly in Excel and WPS: UTF-8 with a BOM (else Excel reads
 * Chinese as mojibake), CRLF, RFC 4180 quoting (of every cell with a comma, a quote, CR or LF), and
 * every cell that a spreadsheet would take as a formula (starting with = + - @, a tab or a carriage
 * return, full-width forms included) made text with a leading apostrophe: the rows are upstream
 * input. Contacts are masked as on the card unless `showContacts`.
 */
export function failedRowsCsv(rows: readonly TaskItem[], columns: CsvColumns, o: { showContacts?: boolean } = {}): Buffer {
  const contact = (v: string | undefined, mask: (s: string) => string) => (v ? (o.showContacts ? v : mask(v)) : '');
  const records = rows.map((r) => [r.name, r.id ?? '', r.code ?? '', r.message ?? '', contact(r.email, maskEmail), contact(r.mobile, maskMobile)]);
  const text = stringify(records, {
    bom: true,
    header: true,
    columns: [columns.name, columns.id, columns.code, columns.message, columns.email, columns.mobile],
    record_delimiter: 'windows',
    escape_formulas: true,
    quoted_match: NEEDS_QUOTES,
  });
  return Buffer.from(text, 'utf8');
}
