import type ExcelJS from 'exceljs';
import type { ConstraintInput } from './schema.ts';
import {
  type CellProblem,
  headerParses,
  isBlankRow,
  type TableRow,
  tableToMatrix,
} from './table.ts';
import type { MatrixLimits, MatrixResult } from './types.ts';
import { checkZip } from './zip-guard.ts';

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
// Legacy .xls and password-protected .xlsx are both OLE compound files.
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

type CellText = { text: string } | { problem: string };

/**
 * Parses a matrix from an .xlsx (long or wide layout, see tableToMatrix): the sheet named
 * "matrix" (any case), else the first sheet whose header parses, else the first sheet. Row
 * numbers are the sheet's own and every error names the sheet. Never rejects.
 */
export async function parseMatrixXlsx(
  input: Buffer,
  limits: MatrixLimits,
  constraints?: ConstraintInput[],
): Promise<MatrixResult> {
  const malformed = (message: string): MatrixResult => ({
    ok: false,
    kind: 'malformed',
    errors: [{ message }],
  });
  try {
    if (input.byteLength > limits.maxFileBytes) {
      return {
        ok: false,
        kind: 'too_large',
        errors: [
          {
            message: `the file is ${input.byteLength} bytes; the limit is ${limits.maxFileBytes} bytes`,
          },
        ],
      };
    }
    if (input.byteLength === 0) return malformed('the file is empty');
    if (input.subarray(0, 8).equals(OLE_MAGIC)) {
      return malformed(
        'this is a legacy .xls file or a password-protected workbook; save it as an unprotected .xlsx',
      );
    }
    if (!input.subarray(0, 4).equals(ZIP_MAGIC))
      return malformed('the file is not an .xlsx workbook');
    const zip = await checkZip(input, limits.maxUnzippedBytes ?? limits.maxFileBytes * 16);
    if (!zip.ok) return { ok: false, kind: zip.kind, errors: [{ message: zip.message }] };

    // Loaded on first use: most processes never see a workbook, and exceljs costs ~20 MB resident.
    const { default: ExcelJS } = await import('exceljs');
    const workbook = new ExcelJS.Workbook();
    try {
      // exceljs types its parameter as its own ArrayBuffer-based `Buffer`; a Node Buffer works.
      await workbook.xlsx.load(input as unknown as Parameters<typeof workbook.xlsx.load>[0]);
    } catch {
      return malformed('the .xlsx file is corrupt or is not a workbook');
    }
    const sheets = workbook.worksheets.map((sheet) => ({ sheet, ...readSheet(sheet) }));
    // A sheet named "matrix" wins; else the first whose header reads as a matrix (workbooks
    // often open with a "Read me" sheet); else the first, whose errors then explain why.
    const chosen =
      sheets.find((s) => s.sheet.name.trim().toLowerCase() === 'matrix') ??
      sheets.find((s) => {
        const header = s.rows.find((r) => !isBlankRow(r.cells));
        return header !== undefined && headerParses(header.cells);
      }) ??
      sheets[0];
    if (!chosen) return malformed('the workbook has no worksheet');
    const name = chosen.sheet.name;
    const result = tableToMatrix({
      rows: chosen.rows,
      limits,
      constraints,
      cellProblems: chosen.cellProblems,
      emptyMessage: `the worksheet "${name}" is empty`,
    });
    if (result.ok) return result;
    // Every error names the sheet it is about, so a row number is never read on the wrong one.
    return { ...result, errors: result.errors.map((error) => ({ sheet: name, ...error })) };
  } catch {
    // Defensive: the result type is the contract, so a bug here must still become a 4xx.
    return malformed('the .xlsx file could not be read');
  }
}

/** The sheet's rows as cell texts, with the cells that could not be read. */
function readSheet(sheet: ExcelJS.Worksheet): { rows: TableRow[]; cellProblems: CellProblem[] } {
  const rows: TableRow[] = [];
  const cellProblems: CellProblem[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: false }, (cell, colNumber) => {
      // A merged range shows one value; its other cells repeat it in exceljs.
      if (cell.isMerged && cell.master.address !== cell.address) return;
      const value = cellText(cell.value);
      while (cells.length < colNumber - 1) cells.push('');
      if ('problem' in value) {
        cellProblems.push({ row: rowNumber, col: colNumber - 1, message: value.problem });
        cells.push('');
      } else {
        cells.push(value.text.trim());
      }
    });
    rows.push({ row: rowNumber, cells });
  });
  return { rows, cellProblems };
}

/** What a spreadsheet user would read in the cell, as a string. */
function cellText(value: ExcelJS.CellValue): CellText {
  if (value === null || value === undefined) return { text: '' };
  if (typeof value === 'string') return { text: value };
  if (typeof value === 'number') return { text: formatNumber(value) };
  if (typeof value === 'boolean') return { text: value ? 'TRUE' : 'FALSE' };
  if (value instanceof Date) return { text: formatDate(value) };
  if ('richText' in value) return { text: value.richText.map((part) => part.text).join('') };
  if ('hyperlink' in value) {
    // The link text may itself be rich text.
    return cellText(value.text as ExcelJS.CellValue);
  }
  if ('formula' in value || 'sharedFormula' in value) {
    if (value.result === undefined) {
      return {
        problem: 'formula has no saved result; open and save the file in a spreadsheet app',
      };
    }
    return cellText(value.result);
  }
  if ('error' in value) return { problem: `cell shows the error ${value.error}` };
  return { problem: 'unsupported cell value' };
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // Excel shows 15 significant digits, so 0.1+0.2 reads as 0.3 in the sheet.
  return String(Number(n.toPrecision(15)));
}

function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  // exceljs maps the sheet's serial date to UTC, so the UTC fields are what the sheet shows.
  const iso = d.toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  const time = iso.endsWith(':00.000Z') ? iso.slice(11, 16) : iso.slice(11, 19);
  return `${iso.slice(0, 10)} ${time}`;
}
