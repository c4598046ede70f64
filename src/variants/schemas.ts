import { z } from 'zod';
import { variantStatuses } from '../db/schema.ts';
import { withDeepObjects } from '../http/openapi.ts';
import { paginationQuery } from '../http/pagination.ts';
import { DIMENSION_KEY_PATTERN } from '../matrices/parse/schema.ts';

export const variantSchema = z
  .object({
    id: z.string(),
    run_id: z.string(),
    campaign_id: z.string(),
    levels: z.record(z.string(), z.string()),
    prompt: z.string(),
    provider_prompt: z
      .string()
      .nullable()
      .describe('What was sent when the prompt writer rewrote the prompt'),
    status: z.enum(variantStatuses),
    provider: z.string(),
    model: z.string(),
    seconds: z.number().int(),
    size: z.string(),
    provider_job_id: z.string().nullable(),
    attempts: z.number().int(),
    progress: z.number().int(),
    error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    cost_usd: z.number(),
    actual_cost_usd: z.number(),
    video: z
      .object({
        url: z.string(),
        content_type: z.literal('video/mp4'),
        bytes: z.number().int(),
        sha256: z.string(),
        duration_s: z.number(),
        width: z.number().int(),
        height: z.number().int(),
      })
      .nullable(),
    thumbnail_url: z.string().nullable(),
    deliveries: z.array(z.record(z.string(), z.unknown())),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Variant' });

export const listVariantsQuery = withDeepObjects(
  paginationQuery
    .extend({
      run_id: z.string().max(64).optional(),
      campaign_id: z.string().max(64).optional(),
      status: z.enum(variantStatuses).optional(),
    })
    // levels[<dimension>]=<level>; the handler checks the names.
    .catchall(z.string().max(200)),
  {
    levels: z.record(z.string().regex(DIMENSION_KEY_PATTERN), z.string().max(200)).meta({
      description:
        'Variants whose level for each given dimension is the one given: levels[tone]=playful&levels[city]=Paris',
      examples: [{ tone: 'playful' }],
    }),
  },
);

export const variantParams = z.object({ id: z.string().min(1).max(64) });
