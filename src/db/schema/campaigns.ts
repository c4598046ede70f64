// Campaigns with their brief, video, spot and overlay settings; their assets and matrices.
import {
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.ts';
import { tenants } from './tenants.ts';

export type Brief = {
  product: string;
  key_message: string;
  audience?: string;
  call_to_action?: string;
  brand_guidelines?: string;
  avoid?: string[];
  style?: string;
};

export type VideoSettings = {
  provider: string;
  model: string;
  seconds: number;
  size: string;
  /** An asset of the tenant used as the first frame by models that take one (image to video). */
  reference_asset_id?: string;
};

/** One shot of a spot: its own prompt (naming the dimensions it depends on) and generator. */
export type SpotShot = {
  key: string;
  prompt_template: string;
  seconds: number;
  video: { provider: string; model: string };
  /** An image asset, or the last frame of the shot before (`previous_last_frame`). */
  first_frame?: { asset_id: string } | 'previous_last_frame';
};

/** A variant made of several shots, each rendered once per campaign and reused (issue 12). */
export type SpotSettings = {
  shots: SpotShot[];
  transition: { type: 'cut' | 'fade'; seconds: number };
  /** A card rendered locally after the last shot (src/media/end-card.ts). */
  end_card?: SpotEndCard;
  /** One audio bed across the assembled spot (src/media/audio-bed.ts). */
  audio?: { asset_id: string; gain_db: number };
  /** Extra renditions of each variant, beside the campaign's own size. */
  formats?: RenditionFormat[];
};

export type AssetKind = 'logo' | 'audio';

export type SpotEndCard = {
  seconds: number;
  text_template: string;
  logo: boolean;
  /** `#rrggbb`. */
  background: string;
};

export const renditionFormats = ['9:16', '1:1', '16:9'] as const;
export type RenditionFormat = (typeof renditionFormats)[number];

export type DisclosureSettings = {
  visible: boolean;
  text: string;
  position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  /** Seconds from the start; null: the whole video. */
  seconds: number | null;
};

export type OverlaySettings = {
  logo_position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  text_template?: string;
  /** The visible AI label (src/provenance/disclosure.ts); absent: the default, on. */
  disclosure?: DisclosureSettings;
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
    /** Null: a variant is one clip. */
    spot: jsonb('spot').$type<SpotSettings>(),
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
    kind: text('kind', { enum: ['logo', 'audio'] }).notNull(),
    contentType: text('content_type').notNull(),
    /** Images only; null for audio. */
    width: integer('width'),
    height: integer('height'),
    /** Audio only: what ffprobe measured. */
    durationS: doublePrecision('duration_s'),
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

export type MatrixDocument = import('../../matrices/parse/index.ts').NormalizedMatrix;

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
