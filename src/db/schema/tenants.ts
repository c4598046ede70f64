// Tenants, their API keys and console sessions, idempotent requests, the signing chain.
import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    // sha256 of the whole key: keys carry 256 bits of entropy, so a slow hash buys nothing.
    keyHash: text('key_hash').notNull(),
    prefix: text('prefix').notNull(),
    name: text('name'),
    scopes: text('scopes').array().notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_key_hash_idx').on(t.keyHash),
    index('api_keys_tenant_idx').on(t.tenantId),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    // covers method, route and body: the same key on another endpoint is a mismatch, as at Stripe
    requestHash: text('request_hash').notNull(),
    state: text('state', { enum: ['in_flight', 'completed'] }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }).notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);

/**
 * Console sign-ins: the browser holds only a random session id; its sha256 is stored here, so a
 * read of this table cannot be replayed as a cookie. Joined to its API key on every request, so
 * revoking the key (or signing out, which deletes the row) ends the session at once.
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    apiKeyId: text('api_key_id')
      .notNull()
      .references(() => apiKeys.id),
    // Sent back in every form and htmx request: a cross-site request cannot read it.
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('console_sessions_expires_idx').on(t.expiresAt)],
);

/**
 * The development C2PA signing chain, made once when no C2PA_SIGN_CERT/KEY is configured so
 * every process signs with the same one; the key sealed with SECRETS_KEY.
 */
export const signingCredentials = pgTable('signing_credentials', {
  id: text('id').primaryKey(),
  certPem: text('cert_pem').notNull(),
  keySealed: text('key_sealed').notNull(),
  createdAt: createdAt(),
});
