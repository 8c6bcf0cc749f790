import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failedRowsCsv } from '../../src/domain/failed-rows-csv.js';
import type { TaskItem } from '../../src/domain/task.js';
import { readCsv, readCsvFiles } from '../helpers/rfc4180.js';

const COLUMNS = { name: '姓名', id: 'ID', code: '错误码', message: '原因', email: '邮箱', mobile: '手机' };
const read = (b: Buffer): string[][] => parse(b.toString('utf8'), { bom: true, relax_column_count: false });
/** A cell as the file must hold it: a would-be formula made text. */
const textOf = (v: string) => (/^[=+\-@\t\r＝＋－＠]/.test(v) ? `'${v}` : v);
/** Each row as it must read back: its six cells, formulas made text, contacts empty. */
const expected = (rows: readonly TaskItem[]) => rows.map((r) => [r.name, r.id ?? '', r.code ?? '', r.message ?? ''].map(textOf).concat(['', '']));

describe('failed rows as CSV', () => {
  it('starts with a UTF-8 BOM, ends lines with CRLF, names the columns in the given language', () => {
    const b = failedRowsCsv([{ name: '张三', id: 'u1', ok: false, code: '10013', message: 'invalid user_id' }], COLUMNS);
    expect([...b.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(b.toString('utf8')).toBe('\uFEFF姓名,ID,错误码,原因,邮箱,手机\r\n张三,u1,10013,invalid user_id,,\r\n');
  });

  it('quotes commas, quotes and line breaks (RFC 4180) and reads back the same', () => {
    const rows: TaskItem[] = [{ name: 'a, "b"\r\nc', ok: false, message: 'line1\nline2' }];
    expect(read(failedRowsCsv(rows, COLUMNS))[1]).toEqual(['a, "b"\r\nc', '', '', 'line1\nline2', '', '']);
  });

  it('a cell holding LF, CR or CRLF (with commas, quotes, formula starts, Chinese) is one cell: an independent reader (Python csv) reads each row back whole', () => {
    const rows: TaskItem[] = [
      { name: 'line one\nline two', ok: false, id: 'u1', code: '10013', message: 'a\rb' },
      { name: '张三\r\n李四', ok: false, id: 'u\n2', code: 'x,y', message: '"quoted"\nnext, and more' },
      { name: '=1+1\n=2', ok: false, message: "\r=cmd|' /C calc'!A0" },
      { name: '-1\r', ok: false, code: '\n', message: '＝1\r\n"＋1"' },
      { name: '', ok: false, message: '\r\n' },
      { name: '王五\n', ok: false, id: '@x\r\n', message: '\n\n,\r\r"' },
    ];
    const back = readCsv(failedRowsCsv(rows, COLUMNS));
    expect(back[0]).toEqual(['姓名', 'ID', '错误码', '原因', '邮箱', '手机']);
    expect(back).toHaveLength(rows.length + 1);
    expect(back.slice(1)).toEqual(expected(rows));
  });

  it('random tables of line breaks, commas, quotes and formula starts read back whole, row for row (Python csv)', () => {
    const tricky = fc.string({ unit: fc.constantFrom('\r', '\n', '\r\n', ',', '"', "'", '=', '+', '-', '@', '\t', ' ', 'a', '张', '＝'), maxLength: 12 });
    const tables = fc
      .sample(fc.array(fc.record({ name: tricky, id: tricky, message: tricky }), { maxLength: 8 }), 200)
      .map((rs) => rs.map((r): TaskItem => ({ ...r, ok: false })));
    const back = readCsvFiles(tables.map((rows) => failedRowsCsv(rows, COLUMNS)));
    for (const [i, rows] of tables.entries()) expect(back[i]!.slice(1), JSON.stringify(rows)).toEqual(expected(rows));
  });

  it('turns every would-be formula into text (=, +, -, @, tab, CR, full-width forms)', () => {
    const hostile = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '＝1+1', '＋1', '－1', '＠x', "=cmd|' /C calc'!A0"];
    const rows = hostile.map((h): TaskItem => ({ name: h, ok: false, message: h, code: h }));
    const table = read(failedRowsCsv(rows, COLUMNS)).slice(1);
    for (const [i, h] of hostile.entries()) expect(table[i]!.slice(0, 4)).toEqual([`'${h}`, '', `'${h}`, `'${h}`]);
  });

  it('masks emails and mobiles as the card does, unless the chat may see them', () => {
    const row: TaskItem = { name: 'x', ok: false, email: 'zhangsan@example.com', mobile: '13012345678' };
    expect(read(failedRowsCsv([row], COLUMNS))[1]!.slice(4)).toEqual(['z***@example.com', '130****5678']);
    expect(read(failedRowsCsv([row], COLUMNS, { showContacts: true }))[1]!.slice(4)).toEqual(['zhangsan@example.com', '13012345678']);
  });

  it('any row survives the round trip (random text, hostile starts made text)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.string({ unit: 'grapheme', maxLength: 40 }), message: fc.string({ maxLength: 40 }) }), { maxLength: 20 }),
        (rs) => {
          const rows = rs.map((r): TaskItem => ({ ...r, ok: false }));
          const back = read(failedRowsCsv(rows, COLUMNS)).slice(1);
          expect(back.map((r) => [r[0], r[3]])).toEqual(rows.map((r) => [textOf(r.name), textOf(r.message!)]));
        },
      ),
    );
  });
});
