// Where variants were delivered and how they performed there.
import {
  bigint,
  date,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns.ts';
import { createdAt, updatedAt } from './columns.ts';
import { tenants } from './tenants.ts';
import { variants } from './variants.ts';

/** What reached which ad platform or tool; idempotent on (variant, destination, external id). */
export const deliveries = pgTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    variantId: text('variant_id')
      .notNull()
      .references(() => variants.id),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    destination: text('destination').notNull(),
    /** '' when the destination gave no id, so the uniqueness rule still holds. */
    externalId: text('external_id').notNull().default(''),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }).notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('deliveries_unique_idx').on(t.variantId, t.destination, t.externalId),
    index('deliveries_tenant_idx').on(t.tenantId, t.id),
    index('deliveries_campaign_idx').on(t.tenantId, t.campaignId, t.id),
    // Metrics uploads find variants by the platform's ad id.
    index('deliveries_external_idx').on(t.tenantId, t.externalId),
  ],
);

/** Daily performance per variant and platform; '' is "no platform given". */
export const metrics = pgTable(
  'metrics',
  {
    // No foreign keys: an upload checks every variant id against the tenant's variants before
    // writing, and tenants, campaigns and variants are never deleted.
    tenantId: text('tenant_id').notNull(),
    variantId: text('variant_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    platform: text('platform').notNull().default(''),
    impressions: bigint('impressions', { mode: 'number' }).notNull(),
    clicks: bigint('clicks', { mode: 'number' }).notNull(),
    conversions: bigint('conversions', { mode: 'number' }).notNull().default(0),
    spendUsd: numeric('spend_usd', { precision: 14, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    videoViews: bigint('video_views', { mode: 'number' }).notNull().default(0),
    // Attributed conversion value, for ROAS; same range and scale as spend.
    revenueUsd: numeric('revenue_usd', { precision: 14, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.date, t.platform] }),
    index('metrics_campaign_idx').on(t.tenantId, t.campaignId),
  ],
);
