import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { problems } from './problem.ts';

/**
 * The path of the first string holding U+0000 in parsed JSON (or a query), or null. Iterative,
 * depth-first in key order: a deep body must not overflow the stack (the parser caps depth too).
 */
export function findNul(value: unknown): string[] | null {
  // Paths are kept as parent links and spelled out only for the hit: copying a path per node
  // would cost depth² on a deep body.
  type At = { key: string; parent: At | null } | null;
  const pathOf = (at: At, last?: string) => {
    const path = last === undefined ? [] : [last];
    for (let a = at; a; a = a.parent) path.push(a.key);
    return path.reverse();
  };
  const stack: [unknown, At][] = [[value, null]];
  while (stack.length > 0) {
    const [v, at] = stack.pop() as [unknown, At];
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return pathOf(at);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const entries = Object.entries(v);
    for (const [key] of entries) if (key.includes('\u0000')) return pathOf(at, key);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      stack.push([child, { key, parent: at }]);
    }
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
