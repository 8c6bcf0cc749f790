import { execFileSync } from 'node:child_process';

/**
 * Python's csv module in strict mode: an RFC 4180 reader written apart from csv-stringify (whose
 * author also wrote csv-parse, so the two share their ideas of what a line break is). Like a
 * spreadsheet, it ends a record at any unquoted CR or LF. Each file is decoded as UTF-8 with its
 * BOM dropped; the answer is every file's rows.
 */
export function readCsvFiles(files: readonly Buffer[]): string[][][] {
  const script = [
    'import base64, csv, io, json, sys',
    'files = json.load(sys.stdin)',
    "out = [list(csv.reader(io.StringIO(base64.b64decode(f).decode('utf-8-sig'), newline=''), strict=True)) for f in files]",
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const input = JSON.stringify(files.map((f) => f.toString('base64')));
  const out = execFileSync('python3', ['-c', script], { input, timeout: 20_000, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'inherit'] });
  return JSON.parse(out.toString('utf8')) as string[][][];
}

/** One file's rows, read as readCsvFiles reads them. */
export const readCsv = (file: Buffer): string[][] => readCsvFiles([file])[0]!;
