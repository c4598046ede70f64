import { type FieldError, problems } from '../http/problem.ts';
import { ID_FIELDS, METRIC_FIELDS, type MetricField, REQUIRED_FIELDS } from './validate.ts';

/** One data row: raw cell values by field, and where it sits in the file. */
export interface MetricsRecord {
  /** Cell text; an XLSX cell may also be a number or a Date. */
  values: Record<string, unknown>;
  /** 1-based line as a spreadsheet shows it; the header is row 1. */
  row: number;
  /** The header text of each field's column, for error locations. */
  columns: ReadonlyMap<MetricField, string>;
  /** Set when the row's field count differs from the header's: its values are not checked. */
  shapeProblem: string | undefined;
  /** Header names of the columns that are not metric fields, ignored (the same array each row). */
  ignoredColumns: readonly string[];
  /** XLSX: the worksheet, and cells that hold no readable value (an error, a bare formula). */
  sheet?: string;
  cellProblems?: { field: MetricField; message: string }[];
}

export interface Header {
  fields: Map<MetricField, { index: number; name: string }>;
  ignored: string[];
}

const squeeze = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Spellings of a field that differ only in case, spaces and punctuation ("Spend (USD)",
 * "Video views"), or lack the currency ("Spend"), by squeezed name.
 */
const NEAR_MISSES = new Map<string, MetricField>(
  METRIC_FIELDS.flatMap((f) => [
    [squeeze(f), f],
    ...(f.endsWith('_usd') ? [[squeeze(f.slice(0, -4)), f] as const] : []),
  ]),
);

/**
 * Platform exports carry dozens of columns besides the ones we read (ad name, reach, CPM...):
 * those are ignored and named back in the answer. A column that is a near miss of a field
 * the header lacks is refused instead: ignored, its numbers would be stored as 0 (spend,
 * revenue) and CPA and ROAS computed from them.
 */
export function headerMap(cells: string[], row: number): Header {
  const errors: FieldError[] = [];
  const fields = new Map<MetricField, { index: number; name: string }>();
  const ignored: string[] = [];
  cells.forEach((cell, index) => {
    const name = cell.trim();
    const field = name.toLowerCase() as MetricField;
    // Trailing delimiters leave blank header cells; their (blank) cells are ignored.
    if (name === '') return;
    if (!METRIC_FIELDS.includes(field)) ignored.push(name);
    else if (fields.has(field)) {
      errors.push({ row, column: name, message: `column ${field} appears twice` });
    } else fields.set(field, { index, name });
  });
  for (const name of ignored) {
    const field = NEAR_MISSES.get(squeeze(name));
    if (field && !fields.has(field))
      errors.push({
        row,
        column: name,
        message: `looks like ${field}${field.endsWith('_usd') ? ' (in US dollars)' : ''}: name the column ${field} to read it, or rename it to have it ignored`,
      });
  }
  if (!ID_FIELDS.some((f) => fields.has(f))) {
    errors.push({ row, message: 'a variant_id or an external_id column is required' });
  }
  for (const field of REQUIRED_FIELDS) {
    if (!fields.has(field))
      errors.push({ row, message: `the required column ${field} is missing` });
  }
  if (errors.length) {
    const also = ignored.length ? ` Columns ignored: ${ignored.join(', ')}.` : '';
    throw problems.unprocessable(`The header row is not acceptable.${also}`, errors);
  }
  return { fields, ignored };
}
