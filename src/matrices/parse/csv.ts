import { CsvError, parse } from 'csv-parse/sync';
import { CsvDecodeError, decodeCsv } from '../../csv/decode.ts';
import { sniffDelimiter } from '../../csv/delimiter.ts';
import type { ConstraintInput } from './schema.ts';
import { columnLetter, type TableRow, tableToMatrix } from './table.ts';
import type { MatrixError, MatrixLimits, MatrixResult } from './types.ts';

/**
 * Parses a matrix from CSV (long or wide layout, see tableToMatrix). Bytes are decoded strictly
 * (see csv/decode.ts: UTF-8 with or without BOM, UTF-16 with BOM, a declared charset);
 * CRLF/LF/CR, quoted fields; `,`, `;` or tab as the delimiter, chosen from the header line.
 * Never throws.
 */
export function parseMatrixCsv(
  input: string | Buffer,
  limits: MatrixLimits,
  constraints?: ConstraintInput[],
  /** A declared charset (e.g. from Content-Type); a BOM overrides it, UTF-8 is the default. */
  charset?: string,
): MatrixResult {
  try {
    const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
    if (bytes > limits.maxFileBytes) {
      return failure('too_large', {
        message: `the file is ${bytes} bytes; the limit is ${limits.maxFileBytes} bytes`,
      });
    }
    const text = typeof input === 'string' ? input : decode(input, charset);
    if (typeof text !== 'string') return failure('malformed', text);
    if (text.includes('\u0000')) {
      return failure('malformed', { message: 'the file is binary, not CSV text' });
    }
    if (text.replace(/^\uFEFF/, '').trim() === '') {
      return failure('malformed', { message: 'the file is empty' });
    }
    const delimiter = sniffDelimiter(text.replace(/^\uFEFF/, ''));
    const rows = readRecords(text, delimiter);
    if (!Array.isArray(rows)) return failure('malformed', rows);
    return tableToMatrix({
      rows,
      limits,
      constraints,
      delimiter,
      emptyMessage: 'the file is empty',
    });
  } catch {
    // Defensive: the result type is the contract, so a bug here must still become a 4xx.
    return failure('malformed', { message: 'the CSV file could not be read' });
  }
}

function failure(kind: 'malformed' | 'too_large', error: MatrixError): MatrixResult {
  return { ok: false, kind, errors: [error] };
}

function decode(buf: Buffer, charset: string | undefined): string | MatrixError {
  if (buf.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return { message: 'this is a ZIP/.xlsx file, not CSV; upload it as .xlsx' };
  }
  try {
    return decodeCsv(buf, charset);
  } catch (err) {
    if (!(err instanceof CsvDecodeError)) throw err;
    return err.row === undefined
      ? { message: err.message }
      : { row: err.row, message: err.message };
  }
}

function readRecords(text: string, delimiter: string): TableRow[] | MatrixError {
  const rows: TableRow[] = [];
  try {
    parse(text, {
      bom: true,
      delimiter,
      // Column counts are checked by the layout code, which can name the row and column.
      relax_column_count: true,
      // Blank lines are kept as records so that record numbers equal spreadsheet row numbers.
      skip_empty_lines: false,
      on_record: (record: string[], context) => {
        rows.push({
          row: context.records,
          cells: record.map((cell) => cell.trim()),
          fields: record.length,
        });
        return null;
      },
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // The failing record is the one after the last record emitted.
    const row = rows.length + 1;
    const index = err.index;
    if (typeof index !== 'number') return { row, message: csvMessage(err) };
    const column = rows[0]?.cells[index] || columnLetter(index);
    return { row, column, message: csvMessage(err) };
  }
  return rows;
}

function csvMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field starting in this row is never closed (missing ")';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote (") inside an unquoted field: quote the whole field and double the inner quotes';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'unexpected characters after a closing quote (")';
    case 'CSV_MAX_RECORD_SIZE':
      return 'the row is too long';
    default:
      return 'the CSV is malformed in this row';
  }
}
