import { z } from 'zod';
import { variantStatuses } from '../db/schema.ts';
import { planCounts } from '../matrices/preview-schemas.ts';
import { designSchema } from '../matrices/schemas.ts';
import { workersSeenSchema } from '../ops/heartbeat.ts';

export const createRunBody = z
  .object({
    matrix_id: z.string().min(1).max(64).describe('A matrix of this campaign'),
    design: designSchema,
    max_cost_usd: z
      .number()
      .positive()
      .max(10_000_000)
      .optional()
      .describe('Refuse the run if it would cost more'),
  })
  .meta({
    examples: [
      {
        matrix_id: 'mtx_01jbz7h1n3q4v5w6x7y8z9a0b1',
        design: { type: 'pairwise', seed: 7 },
        max_cost_usd: 25,
      },
    ],
  });

export const runSchema = z
  .object({
    id: z.string(),
    campaign_id: z.string(),
    matrix_id: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'cancelled']),
    variant_count: z.number().int().nonnegative(),
    new_variant_count: z
      .number()
      .int()
      .nonnegative()
      .describe('Variants not generated before for this campaign'),
    counts: z
      .partialRecord(z.enum(variantStatuses), z.number().int().nonnegative())
      .describe('Variants per status, every status listed'),
    cost: z.object({ estimated_usd: z.number(), actual_usd: z.number() }),
    eta_seconds: z
      .number()
      .nullable()
      .describe('Estimated seconds until every variant is rendered; null when done or unknown'),
    created_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    workers: workersSeenSchema.optional().describe('On GET /v1/runs/{id} only'),
  })
  .meta({
    id: 'Run',
    examples: [
      {
        id: 'run_01jbz7h1n3q4v5w6x7y8z9a0b1',
        campaign_id: 'cmp_01jbz7h1n3q4v5w6x7y8z9a0b1',
        matrix_id: 'mtx_01jbz7h1n3q4v5w6x7y8z9a0b1',
        status: 'running',
        variant_count: 9,
        new_variant_count: 9,
        counts: {
          ...Object.fromEntries(variantStatuses.map((s) => [s, 0])),
          queued: 3,
          rendering: 2,
          ready: 4,
        },
        cost: { estimated_usd: 0, actual_usd: 0 },
        eta_seconds: 40,
        created_at: '2026-03-02T09:31:00.000Z',
        started_at: '2026-03-02T09:31:01.000Z',
        finished_at: null,
      },
    ],
  });

export const runAcceptedSchema = z
  .object({
    id: z.string(),
    status: z.literal('queued'),
    variant_count: z.number().int().nonnegative(),
    ...planCounts,
    estimated_cost_usd: z.number().nonnegative(),
  })
  .meta({
    examples: [
      {
        id: 'run_01jbz7h1n3q4v5w6x7y8z9a0b1',
        status: 'queued',
        variant_count: 9,
        new_variant_count: 9,
        reused_variant_count: 0,
        rerendered_variant_count: 0,
        estimated_cost_usd: 0,
      },
    ],
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
