import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyText(value: string): string {
  return specials.test(value) ? value.replace(specialsAll, (c) => escapes[c]!) : value;
}

const specials = /[\\\t\n\r]/;
const specialsAll = /[\\\t\n\r]/g;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Lines are sent in batches of about this many characters: one CopyData message each. */
const batchChars = 64 * 1024;

/**
 * `COPY table (columns) FROM STDIN` on a checked-out client (inside the caller's transaction),
 * rows produced lazily: Postgres's fastest way in, and nothing but one batch held in memory.
 */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly (string | number)[]>,
): Promise<void> {
  function* batches() {
    let batch = '';
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        const v = row[i]!;
        batch += (i ? '\t' : '') + (typeof v === 'number' ? String(v) : copyText(v));
      }
      batch += '\n';
      if (batch.length >= batchChars) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  }
  await pipeline(
    Readable.from(batches(), { objectMode: false }),
    client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)),
  );
}
