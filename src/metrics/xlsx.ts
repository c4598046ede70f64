import { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { ProblemError, problems } from '../http/problem.ts';
import { checkZip } from '../matrices/parse/zip-guard.ts';
import { headerMap, type MetricsRecord } from './header.ts';
import type { MetricField } from './validate.ts';

// The unzipped parts may be this many times the file: far above what real workbooks need
// (about 10×), far below what a zip bomb would inflate to.
const UNZIP_RATIO = 16;

type CellRead = { value: unknown } | { problem: string };

/**
 * What the cell holds for the row checks: text, a number, or a Date for a date cell (exceljs
 * reads a date-formatted serial number as the UTC midnight of the day the sheet shows).
 */
function cellValue(value: ExcelJS.CellValue | undefined): CellRead {
  if (value === null || value === undefined) return { value: '' };
  if (typeof value === 'string' || typeof value === 'number' || value instanceof Date) {
    return { value };
  }
  if (typeof value === 'boolean') return { problem: `is TRUE or FALSE, not a value to store` };
  if ('richText' in value) return { value: value.richText.map((part) => part.text).join('') };
  if ('hyperlink' in value) return cellValue(value.text as ExcelJS.CellValue);
  if ('formula' in value || 'sharedFormula' in value) {
    if (value.result === undefined) {
      return { problem: 'is a formula with no saved result; open and save the file in Excel' };
    }
    return cellValue(value.result as ExcelJS.CellValue);
  }
  if ('error' in value) return { problem: `shows the error ${value.error}` };
  return { problem: 'holds a value that cannot be read' };
}

function headerText(value: ExcelJS.CellValue | undefined): string {
  const read = cellValue(value);
  if ('problem' in read) return '';
  const v = read.value;
  return typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : String(v);
}

/** Header problems name the sheet too, as every other problem with a workbook does. */
function inSheet<T>(sheet: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ProblemError) {
      throw new ProblemError({
        ...err,
        errors: err.errors?.map((e) => ({ sheet, ...e })),
      });
    }
    throw err;
  }
}

const blank = (v: unknown) => v === '' || (typeof v === 'string' && v.trim() === '');

/**
 * The first worksheet of an .xlsx as metric records, row numbers as the sheet shows them. The
 * file is held whole (it is bounded by `bytes`' own limit) and its ZIP checked before exceljs
 * sees it, which would otherwise inflate any part it is given; the rows are then read by
 * exceljs' streaming reader, one at a time.
 */
export async function* readMetricsXlsx(
  bytes: AsyncIterable<Buffer>,
): AsyncGenerator<MetricsRecord> {
  const chunks: Buffer[] = [];
  for await (const chunk of bytes) chunks.push(chunk);
  const file = Buffer.concat(chunks);
  const zip = await checkZip(file, file.length * UNZIP_RATIO);
  if (!zip.ok) {
    const problem = zip.kind === 'too_large' ? problems.payloadTooLarge : problems.badRequest;
    throw problem(zip.message);
  }
  // Loaded on first use: exceljs costs ~20 MB resident in every process that imports it.
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([file]), {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const sheets = (reader as unknown as AsyncIterable<AsyncIterable<ExcelJS.Row>>)[
    Symbol.asyncIterator
  ]();
  let sheetName: string | undefined;
  try {
    const first = await sheets.next();
    if (first.done) {
      throw problems.badRequest('The workbook has no worksheet.', [{ message: 'no worksheet' }]);
    }
    // Only the first worksheet holds metrics.
    const sheet = first.value;
    sheetName = (sheet as unknown as { name?: string }).name ?? 'Sheet1';
    let header: ReturnType<typeof headerMap> | null = null;
    let columns = new Map<MetricField, string>();
    for await (const row of sheet) {
      const cells = row.values as (ExcelJS.CellValue | undefined)[];
      if (!header) {
        const texts = Array.from({ length: Math.max(0, cells.length - 1) }, (_, i) =>
          headerText(cells[i + 1]),
        );
        if (texts.every((t) => t.trim() === '')) continue;
        header = inSheet(sheetName, () => headerMap(texts, row.number));
        columns = new Map([...header.fields].map(([field, { name }]) => [field, name]));
        continue;
      }
      const values: Record<string, unknown> = {};
      const cellProblems: { field: MetricField; message: string }[] = [];
      for (const [field, { index }] of header.fields) {
        const read = cellValue(cells[index + 1]);
        if ('problem' in read) {
          cellProblems.push({ field, message: `${field} ${read.problem}` });
          values[field] = '';
        } else values[field] = read.value;
      }
      // Rows of empty cells below the data are not rows to check, as in a CSV.
      if (!cellProblems.length && Object.values(values).every(blank)) continue;
      yield {
        values,
        row: row.number,
        columns,
        sheet: sheetName,
        shapeProblem: undefined,
        ignoredColumns: header.ignored,
        cellProblems,
      };
    }
    if (!header) {
      throw problems.badRequest('The worksheet is empty.', [
        { sheet: sheetName, message: 'no header row' },
      ]);
    }
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw problems.badRequest('The .xlsx file cannot be read.', [
      { ...(sheetName ? { sheet: sheetName } : {}), message: 'the workbook is corrupt' },
    ]);
  } finally {
    // exceljs parks worksheets that come before the shared strings in temp files, and removes
    // each only once it has been read: the rest of the workbook is read to its end, in the
    // background, so no file is left behind when we stop early or skip the other sheets.
    void readToEnd(sheets);
  }
}

async function readToEnd(sheets: AsyncIterator<AsyncIterable<ExcelJS.Row>>): Promise<void> {
  try {
    for (;;) {
      const next = await sheets.next();
      if (next.done) return;
      for await (const _row of next.value) {
        // Read only so that exceljs reaches its clean-up.
      }
    }
  } catch {
    // A corrupt part was already reported, or the answer already sent: nothing to tell.
  }
}
