import { z } from 'zod';
import { variantSchema } from '../variants/schemas.ts';

const decision = z.enum(['approved', 'rejected']);
const reason = z.string().trim().min(1).max(1000).optional().describe('Kept on the variant');

export const reviewBody = z
  .object({ decision, reason })
  .meta({ examples: [{ decision: 'approved', reason: 'On brand' }] });

const reviewSchema = z.object({
  decision,
  reason: z.string().nullable(),
  reviewed_by: z.string().describe('The id of the API key that decided'),
  reviewed_at: z.iso.datetime(),
});

export const reviewedVariantSchema = variantSchema
  .extend({ review: reviewSchema })
  .meta({ id: 'ReviewedVariant' });

export const bulkReviewBody = z.object({
  decision,
  reason,
  filter: z
    .object({
      run_id: z.string().max(64).optional(),
      campaign_id: z.string().max(64).optional(),
      status: z.literal('ready').default('ready').describe('Only ready variants can be reviewed'),
      levels: z
        .record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), z.string().min(1).max(200))
        .optional()
        .describe('Every listed dimension must have this level, e.g. {"tone": "playful"}'),
    })
    .refine((f) => f.run_id !== undefined || f.campaign_id !== undefined, {
      message: 'name a run_id or a campaign_id',
    }),
});

export const bulkReviewResponse = z.object({
  updated: z.number().int().describe('Variants that moved from ready to the decision'),
});
