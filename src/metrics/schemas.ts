import { z } from 'zod';

const count = z.number().int().min(0);

/** For the documentation: the service checks rows itself (see routes.ts). */
const metricRowSchema = z
  .strictObject({
    variant_id: z.string().describe('var_… of one of your variants'),
    date: z.iso.date().describe('YYYY-MM-DD, from 2000-01-01 to tomorrow (UTC)'),
    platform: z
      .string()
      .max(64)
      .optional()
      .describe('e.g. "meta"; omitted or "" means no platform. Part of the key.'),
    impressions: count,
    clicks: count.describe('At most impressions'),
    conversions: count.optional().describe('Default 0; may exceed clicks (view-through)'),
    spend_usd: z
      .number()
      .min(0)
      .lt(1e10)
      .optional()
      .describe('Media cost of the row, for CPA and ROAS. Default 0; stored to 4 decimals'),
    video_views: count.optional().describe('Default 0'),
    revenue_usd: z
      .number()
      .min(0)
      .lt(1e10)
      .optional()
      .describe(
        'Conversion value attributed to the row, for ROAS. Default 0; stored to 4 decimals',
      ),
  })
  .meta({ id: 'MetricRow' });

export const metricsBody = {
  content: {
    'application/json': {
      schema: z.object({ rows: z.array(metricRowSchema) }).meta({
        examples: [
          {
            rows: [
              {
                variant_id: 'var_01jbz7h1n3q4v5w6x7y8z9a0b1',
                date: '2026-03-03',
                platform: 'meta',
                impressions: 12000,
                clicks: 240,
                conversions: 12,
                spend_usd: 36.5,
                video_views: 5400,
                revenue_usd: 480,
              },
            ],
          },
        ],
      }),
    },
    'text/csv': {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'string',
          description:
            'A header row naming the columns (variant_id,date,platform,impressions,clicks,conversions,spend_usd,video_views,revenue_usd; any order; the last five optional), then one row per variant, date and platform. Comma, semicolon or tab separated, UTF-8.',
        }),
    },
    'multipart/form-data': {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'object',
          properties: { file: { type: 'string', format: 'binary', description: 'a .csv file' } },
          required: ['file'],
        }),
    },
  },
};

export const ingestResultSchema = z
  .object({
    upserted: z.number().int().describe('Rows in the upload'),
    inserted: z.number().int().describe('New (variant, date, platform) keys'),
    updated: z.number().int().describe('Existing keys whose numbers changed'),
    unchanged: z.number().int().describe('Existing keys sent again with the same numbers'),
  })
  .meta({ id: 'MetricsUpload' });
