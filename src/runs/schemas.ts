import { z } from 'zod';
import { designSchema } from '../matrices/schemas.ts';
import { workersSeenSchema } from '../ops/heartbeat.ts';

export const createRunBody = z.object({
  matrix_id: z.string().min(1).max(64),
  design: designSchema,
  max_cost_usd: z
    .number()
    .positive()
    .max(10_000_000)
    .optional()
    .describe('Refuse the run if it would cost more'),
});

export const runSchema = z
  .object({
    id: z.string(),
    campaign_id: z.string(),
    matrix_id: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'cancelled']),
    variant_count: z.number().int(),
    new_variant_count: z.number().int().describe('Variants not generated before for this campaign'),
    counts: z.record(z.string(), z.number().int()),
    cost: z.object({ estimated_usd: z.number(), actual_usd: z.number() }),
    eta_seconds: z.number().nullable(),
    created_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    workers: workersSeenSchema.optional().describe('On GET /v1/runs/{id} only'),
  })
  .meta({ id: 'Run' });

export const runAcceptedSchema = z.object({
  id: z.string(),
  status: z.literal('queued'),
  variant_count: z.number().int(),
  new_variant_count: z.number().int(),
  estimated_cost_usd: z.number(),
});

export const cancelRunBody = z
  .object({
    fetch_submitted: z
      .boolean()
      .default(false)
      .describe(
        'Let renders already paid for finish and be fetched, instead of cancelling them too',
      ),
  })
  .default({ fetch_submitted: false });

export const runParams = z.object({ id: z.string().min(1).max(64) });
