import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { decodeProblem } from '../csv/body.ts';
import { CsvDecodeError, StrictCsvDecoder } from '../csv/decode.ts';
import { fieldCountProblem, sniffDelimiter } from '../csv/delimiter.ts';
import { type FieldError, problems } from '../http/problem.ts';
import { ID_FIELDS, METRIC_FIELDS, type MetricField, REQUIRED_FIELDS } from './validate.ts';

/** One data row: raw cell text by field, and where it sits in the file. */
interface CsvRecord {
  values: Record<string, string>;
  /** 1-based line as a spreadsheet shows it; the header is row 1. */
  row: number;
  /** The header text of each field's column, for error locations. */
  columns: ReadonlyMap<MetricField, string>;
  /** Set when the row's field count differs from the header's: its values are not checked. */
  shapeProblem: string | undefined;
  /** Header names of the columns that are not metric fields, ignored (the same array each row). */
  ignoredColumns: readonly string[];
}

const MAX_RECORD_BYTES = 64 * 1024;
const zipMagic = Buffer.from('PK\x03\x04', 'latin1');

/** The bytes as text, decoded strictly in a streaming way: memory stays bounded by a chunk. */
async function* decoded(bytes: AsyncIterable<Buffer>, decoder: StrictCsvDecoder) {
  for await (const chunk of bytes) {
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

async function nextText(text: AsyncGenerator<string>): Promise<string> {
  try {
    const next = await text.next();
    return next.done ? '' : next.value;
  } catch (err) {
    if (err instanceof CsvDecodeError) throw decodeProblem(err);
    throw err;
  }
}

async function* prepend(first: string, rest: AsyncGenerator<string>) {
  if (first) yield first;
  yield* rest;
}

/** Passes the bytes on, failing with 413 as soon as there are more than maxBytes of them. */
async function* limited(first: Buffer, rest: AsyncIterator<Buffer>, maxBytes: number) {
  let total = first.length;
  const tooLarge = () =>
    problems.payloadTooLarge(`Metrics uploads may be at most ${maxBytes} bytes; split the file.`);
  if (total > maxBytes) throw tooLarge();
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    total += chunk.length;
    if (total > maxBytes) throw tooLarge();
    yield chunk;
  }
}

interface Header {
  fields: Map<MetricField, { index: number; name: string }>;
  ignored: string[];
}

/**
 * Platform exports carry dozens of columns besides the ones we read (ad name, reach, CPM...):
 * those are ignored and named back in the answer, so a misspelt optional column is visible.
 */
function headerMap(cells: string[], row: number): Header {
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

/**
 * Streams a metrics CSV (header row first) as records, never holding more than the parser's
 * buffer. Decoded strictly (csv/decode.ts: UTF-8 with or without BOM, UTF-16 with BOM, or the
 * declared charset); `,`, `;` or tab, chosen from the header line. Syntax errors
 * are 400 with the row; a bad header is 422; more than maxBytes is 413.
 */
export async function* readMetricsCsv(
  input: AsyncIterable<Buffer | string>,
  maxBytes: number,
  charset?: string,
): AsyncGenerator<CsvRecord> {
  const source = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await source.next();
  const first = head.done ? Buffer.alloc(0) : Buffer.from(head.value);
  if (first.subarray(0, 4).equals(zipMagic)) {
    throw problems.unsupportedMediaType('This looks like an .xlsx file; upload metrics as CSV.');
  }
  const decoder = new StrictCsvDecoder(charset);
  const text = decoded(limited(first, source, maxBytes), decoder);
  // The first decoded chunk is read here, for the delimiter, and put back in front.
  const start = await nextText(text);
  const delimiter = sniffDelimiter(start.slice(0, 64 * 1024));
  const parser = parse({
    delimiter,
    info: true,
    trim: true,
    skip_empty_lines: true,
    // Excel exports rows of empty cells (";;;") below the data; they are not rows to check.
    skip_records_with_empty_values: true,
    relax_column_count: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  const chars = Readable.from(prepend(start, text));
  // pipe() does not forward errors: a 413 or a decoding error must reach the loop below.
  chars.once('error', (err) => parser.destroy(err));
  chars.pipe(parser);
  let header: Header | null = null;
  let columns: Map<MetricField, string> = new Map();
  let width = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      if (!header) {
        header = headerMap(record, info.lines);
        width = record.length;
        columns = new Map([...header.fields].map(([field, { name }]) => [field, name]));
        continue;
      }
      const values: Record<string, string> = {};
      for (const [field, { index }] of header.fields) values[field] = record[index] ?? '';
      yield {
        values,
        row: info.lines,
        columns,
        shapeProblem: fieldCountProblem(record.length, width, record, delimiter),
        ignoredColumns: header.ignored,
      };
    }
  } catch (err) {
    if (err instanceof CsvDecodeError) throw decodeProblem(err);
    if (err instanceof CsvError) {
      const row = (err as CsvError & { lines?: number }).lines;
      throw problems.badRequest('The CSV cannot be read.', [
        { ...(row ? { row } : {}), message: err.message },
      ]);
    }
    throw err;
  } finally {
    chars.destroy();
    parser.destroy();
  }
  if (!header) throw problems.badRequest('The CSV is empty.', [{ message: 'no header row' }]);
}
