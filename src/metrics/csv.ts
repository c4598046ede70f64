import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { decodeProblem } from '../csv/body.ts';
import { CsvDecodeError, StrictCsvDecoder } from '../csv/decode.ts';
import { fieldCountProblem, sniffDelimiter } from '../csv/delimiter.ts';
import { problems } from '../http/problem.ts';
import { type Header, headerMap, type MetricsRecord } from './header.ts';
import type { MetricField } from './validate.ts';
import { readMetricsXlsx } from './xlsx.ts';

const MAX_RECORD_BYTES = 64 * 1024;
const zipMagic = Buffer.from('PK\x03\x04', 'latin1');
const oleMagic = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

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
async function* limited(
  first: Buffer,
  rest: AsyncIterator<Buffer>,
  maxBytes: number,
  what = 'Metrics uploads',
) {
  let total = first.length;
  const tooLarge = () =>
    problems.payloadTooLarge(`${what} may be at most ${maxBytes} bytes; split the file.`);
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

/**
 * Streams a metrics CSV (header row first) as records, never holding more than the parser's
 * buffer. Decoded strictly (csv/decode.ts: UTF-8 with or without BOM, UTF-16 with BOM, or the
 * declared charset); `,`, `;` or tab, chosen from the header line. Syntax errors
 * are 400 with the row; a bad header is 422; more than maxBytes is 413. An .xlsx (by its
 * bytes) is read by xlsx.ts instead, with the same records.
 */
export async function* readMetricsCsv(
  input: AsyncIterable<Buffer | string>,
  limits: { maxBytes: number; maxXlsxBytes: number },
  charset?: string,
): AsyncGenerator<MetricsRecord> {
  const { maxBytes } = limits;
  const source = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await source.next();
  const first = head.done ? Buffer.alloc(0) : Buffer.from(head.value);
  // The bytes decide, whatever the content type said: spreadsheets are uploaded as they are.
  if (first.subarray(0, 4).equals(zipMagic)) {
    yield* readMetricsXlsx(limited(first, source, limits.maxXlsxBytes, 'XLSX metrics uploads'));
    return;
  }
  if (first.subarray(0, 8).equals(oleMagic)) {
    throw problems.unsupportedMediaType(
      'This is a legacy .xls or a password-protected workbook; save it as an unprotected .xlsx or as CSV.',
    );
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
