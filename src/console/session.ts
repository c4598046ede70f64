import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.ts';
import { apiKeys, consoleSessions } from '../db/schema.ts';
import type { AuthContext } from '../tenants/service.ts';

export const cookieName = 'amx_console';

export interface ConsoleSession {
  auth: AuthContext;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** One cookie by name out of a Cookie header; nothing else of the header is needed. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}

export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Server-side sessions in Postgres: the cookie holds 256 random bits, the table their sha256.
 * Every lookup joins the API key, so a revoked key ends its sessions on the next request.
 *
 * Sliding: a session unused for `idleMinutes` ends; each use pushes its end that far out again,
 * never past `maxHours` after sign-in. The push is written at most once a minute, so pages and
 * htmx fragments are not each a write.
 */
export function createSessionStore(deps: { db: Db; maxHours: number; idleMinutes: number }) {
  const { db } = deps;
  const maxMs = deps.maxHours * 3_600_000;
  const idleMs = Math.min(deps.idleMinutes * 60_000, maxMs);
  const slackMs = Math.min(60_000, idleMs / 10);

  return {
    async create(auth: AuthContext) {
      const id = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const now = Date.now();
      const expiresAt = new Date(now + idleMs);
      // The cookie lives as long as the session can at most; the row says when it really ends.
      const cookieExpiresAt = new Date(now + maxMs);
      // Expired rows of anyone go with each sign-in: sign-ins are rare, the index makes it cheap.
      await db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, new Date()));
      await db.insert(consoleSessions).values({
        idHash: hashId(id),
        tenantId: auth.tenantId,
        apiKeyId: auth.keyId,
        csrfToken,
        createdAt: new Date(now),
        expiresAt,
      });
      return { id, csrfToken, expiresAt, cookieExpiresAt };
    },

    /** The session behind a cookie, or null; `touch` (a use by the manager) slides its end. */
    async find(
      id: string,
      opts: { touch: boolean } = { touch: true },
    ): Promise<ConsoleSession | null> {
      const session = await lookup(id);
      if (!session || !opts.touch) return session;
      const slid = Math.min(Date.now() + idleMs, session.createdAt.getTime() + maxMs);
      if (slid - session.expiresAt.getTime() < slackMs) return session;
      // Still unexpired at the moment of writing: a sign-out in between is not undone.
      await db
        .update(consoleSessions)
        .set({ expiresAt: new Date(slid) })
        .where(
          and(eq(consoleSessions.idHash, hashId(id)), gt(consoleSessions.expiresAt, sql`now()`)),
        );
      return { ...session, expiresAt: new Date(slid) };
    },

    async destroy(id: string) {
      await db.delete(consoleSessions).where(eq(consoleSessions.idHash, hashId(id)));
    },
  };

  async function lookup(id: string): Promise<ConsoleSession | null> {
    const [row] = await db
      .select({
        tenantId: consoleSessions.tenantId,
        keyId: consoleSessions.apiKeyId,
        csrfToken: consoleSessions.csrfToken,
        createdAt: consoleSessions.createdAt,
        expiresAt: consoleSessions.expiresAt,
        prefix: apiKeys.prefix,
        scopes: apiKeys.scopes,
      })
      .from(consoleSessions)
      .innerJoin(apiKeys, eq(apiKeys.id, consoleSessions.apiKeyId))
      .where(
        and(
          eq(consoleSessions.idHash, hashId(id)),
          gt(consoleSessions.expiresAt, sql`now()`),
          isNull(apiKeys.revokedAt),
        ),
      );
    if (!row) return null;
    return {
      auth: {
        tenantId: row.tenantId,
        keyId: row.keyId,
        keyPrefix: row.prefix,
        scopes: new Set(row.scopes),
      },
      csrfToken: row.csrfToken,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    };
  }
}

export type SessionStore = ReturnType<typeof createSessionStore>;

/** Secure whenever the browser reached us over HTTPS (directly or through a trusted proxy). */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  expiresAt: Date | null,
) {
  const parts = [
    `${cookieName}=${value}`,
    'Path=/console',
    'HttpOnly',
    'SameSite=Strict',
    expiresAt ? `Expires=${expiresAt.toUTCString()}` : 'Max-Age=0',
  ];
  if (request.protocol === 'https') parts.push('Secure');
  reply.header('set-cookie', parts.join('; '));
}
