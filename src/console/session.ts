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
 */
export function createSessionStore(deps: { db: Db; ttlHours: number }) {
  const { db } = deps;
  const ttlMs = deps.ttlHours * 3_600_000;

  return {
    async create(auth: AuthContext) {
      const id = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + ttlMs);
      // Expired rows of anyone go with each sign-in: sign-ins are rare, the index makes it cheap.
      await db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, new Date()));
      await db.insert(consoleSessions).values({
        idHash: hashId(id),
        tenantId: auth.tenantId,
        apiKeyId: auth.keyId,
        csrfToken,
        expiresAt,
      });
      return { id, csrfToken, expiresAt };
    },

    async find(id: string): Promise<ConsoleSession | null> {
      const [row] = await db
        .select({
          tenantId: consoleSessions.tenantId,
          keyId: consoleSessions.apiKeyId,
          csrfToken: consoleSessions.csrfToken,
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
        expiresAt: row.expiresAt,
      };
    },

    async destroy(id: string) {
      await db.delete(consoleSessions).where(eq(consoleSessions.idHash, hashId(id)));
    },
  };
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
