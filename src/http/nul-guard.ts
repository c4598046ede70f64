import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { problems } from './problem.ts';

/** The path of the first string holding U+0000 in parsed JSON (or a query), or null. */
export function findNul(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key];
    const found = findNul(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/**
 * Postgres cannot store U+0000 in text or jsonb, so a NUL anywhere in a request would end as a
 * 500 at the first write. Every route refuses it first, naming the field. Text bodies (CSV) are
 * left to their parsers, which report the row and column, and so are streamed ones: walking a
 * request stream would follow its socket into the whole server.
 */
export const nulGuardPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('preValidation', async (request) => {
    const located: [string, unknown][] = [
      ['params', request.params],
      ['query', request.query],
      // JSON bodies only: the others are text, a stream or multipart, each with its own parser.
      ['', /\bjson\b/i.test(request.headers['content-type'] ?? '') ? request.body : null],
    ];
    for (const [prefix, value] of located) {
      const found = findNul(value);
      if (!found) continue;
      const path = [prefix, ...found].filter(Boolean).join('.') || 'body';
      throw problems.badRequest('Text cannot contain the NUL character (U+0000).', [
        { path, message: 'contains the NUL character (U+0000)' },
      ]);
    }
  });
});
