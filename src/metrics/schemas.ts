import { z } from 'zod';
import { XLSX_TYPE } from '../reports/schemas.ts';
import { UNMATCHED_REASONS } from './match.ts';
import { DATE_FORMATS } from './validate.ts';

export const metricsQuery = z.object({
  decimal: z
    .enum(['.', ','])
    .default('.')
    .describe(
      'Decimal mark of numbers in text cells ("," for exports from European locales, usually with ";" between columns); thousands separators are refused, never guessed',
    ),
  date_format: z
    .enum(DATE_FORMATS)
    .default('YYYY-MM-DD')
    .describe('How text cells spell dates; day and month may have one digit'),
  unmatched: z
    .enum(['fail', 'skip'])
    .default('fail')
    .describe(
      'A row whose variant_id or external_id names no variant of yours (or whose external_id names several): fail the upload (default), or skip it, listed under refused',
    ),
});

const count = z.number().int().min(0);

/** For the documentation: the service checks rows itself (see routes.ts). */
const metricRowSchema = z
  .strictObject({
    variant_id: z
      .string()
      .optional()
      .describe('var_… of one of your variants; this or external_id is required'),
    external_id: z
      .string()
      .max(300)
      .optional()
      .describe(
        "The platform's ad id, as recorded with a delivery of the variant (POST /variants/{id}/deliveries)",
      ),
    date: z.iso
      .date()
      .describe('YYYY-MM-DD (or as date_format says), from 2000-01-01 to tomorrow (UTC)'),
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
            'A header row naming the columns (variant_id and/or external_id, date, platform, impressions, clicks, conversions, spend_usd, video_views, revenue_usd; any order, any case; platform and the last four optional; other columns ignored and listed, except a near miss of a field the header lacks such as Spend (USD), a 422), then one row per variant, date and platform. Comma, semicolon or tab separated, UTF-8.',
        }),
    },
    [XLSX_TYPE]: {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'string',
          format: 'binary',
          description:
            'An .xlsx workbook: its first worksheet, laid out as the CSV (header row first). Date cells and number cells are read as such; text cells follow decimal and date_format. Held whole to be unzipped, so bounded by METRICS_MAX_XLSX_BYTES.',
        }),
    },
    'multipart/form-data': {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'object',
          properties: {
            file: { type: 'string', format: 'binary', description: 'a .csv or .xlsx file' },
          },
          required: ['file'],
        }),
    },
  },
};

export const ingestResultSchema = z
  .object({
    rows: z.number().int().describe('Data rows read'),
    upserted: z.number().int().describe('Rows written'),
    inserted: z.number().int().describe('New (variant, date, platform) keys'),
    updated: z.number().int().describe('Existing keys whose numbers changed'),
    unchanged: z.number().int().describe('Existing keys sent again with the same numbers'),
    matched: z
      .object({
        variant_id: z.number().int(),
        external_id: z.number().int(),
      })
      .describe('Rows written, by how their variant was found (both ids given: variant_id)'),
    refused: z
      .object({
        count: z.number().int(),
        by_reason: z.object(
          Object.fromEntries(UNMATCHED_REASONS.map((r) => [r, z.number().int()])) as Record<
            (typeof UNMATCHED_REASONS)[number],
            z.ZodNumber
          >,
        ),
        rows: z
          .array(
            z.object({
              path: z.string().optional(),
              row: z.number().int().optional(),
              column: z.string().optional(),
              message: z.string(),
            }),
          )
          .describe('The first 100, with row and column'),
      })
      .describe('Rows naming no variant of yours, not written (only with unmatched=skip)'),
    ignored_columns: z.array(z.string()).describe('CSV header names that are not metric fields'),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'MetricsUpload' });
