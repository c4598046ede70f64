import { z } from 'zod';
import { jsonLength } from '../http/json-body.ts';
import { paginationQuery } from '../http/pagination.ts';
import { aiDisclosureFields } from '../provenance/schemas.ts';

export const createDeliveryBody = z
  .object({
    destination: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .describe('The ad platform or tool, e.g. meta_ads, google_ads, tiktok, a DAM'),
    external_id: z
      .string()
      .trim()
      .min(1)
      .max(300)
      .optional()
      .describe('Its id there (an ad or creative id); with destination, what makes a repeat'),
    delivered_at: z.iso.datetime({ offset: true }).optional().describe('Default: now'),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => jsonLength(m, 16_384) <= 16_384, 'at most 16 KB of JSON')
      .optional(),
  })
  .meta({
    examples: [
      {
        destination: 'meta_ads',
        external_id: '120210000000000001',
        metadata: { ad_set: 'spring-fr' },
      },
    ],
  });

export const deliverySchema = z
  .object({
    id: z.string(),
    variant_id: z.string(),
    campaign_id: z.string(),
    destination: z.string(),
    external_id: z.string().nullable(),
    delivered_at: z.iso.datetime(),
    metadata: z.record(z.string(), z.unknown()),
    ...aiDisclosureFields,
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Delivery' });

export const listDeliveriesQuery = paginationQuery.extend({
  campaign_id: z.string().max(64).optional(),
  run_id: z.string().max(64).optional(),
  variant_id: z.string().max(64).optional(),
  destination: z.string().max(100).optional(),
});

export const linkBody = z
  .object({
    expires_in: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .optional()
      .describe('Seconds the links work for; default SIGNED_URL_TTL_SECONDS'),
  })
  // A POST with no body at all arrives as null.
  .nullish();

export const linkSchema = z
  .object({
    video_url: z.string(),
    thumbnail_url: z.string(),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'DownloadLinks' });

export const mediaParams = z.object({
  id: z.string().min(1).max(64),
  what: z.enum(['video', 'thumbnail']),
});

export const mediaQuery = z.object({
  expires: z.coerce.number().int().positive(),
  signature: z.string().min(1).max(200),
});
