import {
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

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

export type Brief = {
  product: string;
  key_message: string;
  audience?: string;
  call_to_action?: string;
  brand_guidelines?: string;
  avoid?: string[];
  style?: string;
};

export type VideoSettings = { provider: string; model: string; seconds: number; size: string };

export type OverlaySettings = {
  logo_position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  text_template?: string;
};

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    brief: jsonb('brief').$type<Brief>().notNull(),
    promptTemplate: text('prompt_template').notNull(),
    video: jsonb('video').$type<VideoSettings>().notNull(),
    budgetUsd: numeric('budget_usd', { precision: 12, scale: 4, mode: 'number' }),
    requireApproval: boolean('require_approval').notNull().default(false),
    overlay: jsonb('overlay').$type<OverlaySettings>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('campaigns_tenant_id_idx').on(t.tenantId, t.id)],
);

export const assets = pgTable(
  'assets',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    kind: text('kind', { enum: ['logo'] }).notNull(),
    contentType: text('content_type').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    filename: text('filename'),
    createdAt: createdAt(),
  },
  (t) => [
    index('assets_tenant_id_idx').on(t.tenantId, t.id),
    // The same bytes uploaded twice by a tenant are the same asset: uploads are idempotent by content.
    uniqueIndex('assets_tenant_sha256_idx').on(t.tenantId, t.sha256),
  ],
);

export type MatrixDocument = import('../matrices/parse/index.ts').NormalizedMatrix;

export const matrices = pgTable(
  'matrices',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    name: text('name'),
    source: text('source', { enum: ['json', 'csv', 'xlsx'] }).notNull(),
    document: jsonb('document').$type<MatrixDocument>().notNull(),
    // Counts can exceed 2^63 (20 dimensions of 10 levels), so they are stored as exact decimals.
    fullFactorialCount: numeric('full_factorial_count', { precision: 40, scale: 0 }).notNull(),
    allowedCount: numeric('allowed_count', { precision: 40, scale: 0 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('matrices_campaign_idx').on(t.tenantId, t.campaignId, t.id)],
);
