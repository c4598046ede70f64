import { z } from 'zod';
import { problems } from './problem.ts';

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size, 1–200'),
  cursor: z.string().max(200).optional().describe('next_cursor of the previous page'),
});

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

/** Cursors are opaque to clients; inside, the last id seen (ids sort in creation order). */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{3}_[0-9a-z]{26}$/.test(id)) {
    throw problems.badRequest('The cursor is not one this API returned.', [
      { path: 'query.cursor', message: 'invalid' },
    ]);
  }
  return id;
}

/** Expects limit + 1 rows, so a further page is known without a count query. */
export function toPage<T extends { id: string }, U>(rows: T[], limit: number, map: (row: T) => U) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    data: page.map(map),
    next_cursor: more && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  };
}
