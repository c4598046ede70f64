import { z } from 'zod';
import { matrixInputSchema } from './parse/index.ts';

const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1)
  .optional()
  .describe('Same seed, same variants');

export const designSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('full') }),
    z.object({ type: z.literal('pairwise'), seed }),
    z.object({
      type: z.literal('balanced'),
      n: z.number().int().min(1).max(1_000_000).optional(),
      seed,
    }),
    z.object({ type: z.literal('sample'), n: z.number().int().min(1).max(1_000_000), seed }),
    z.object({
      type: z.literal('explicit'),
      combinations: z.array(z.record(z.string(), z.string())).min(1).max(100_000),
    }),
  ])
  .meta({ id: 'Design' });

export type DesignInput = z.infer<typeof designSchema>;

export const previewBody = z.object({
  design: designSchema,
  sample_size: z.number().int().min(0).max(10_000).default(10),
});

const levelSchema = z.object({
  key: z.string(),
  label: z.string(),
  prompt: z.string().optional(),
  asset_id: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const matrixSchema = z
  .object({
    id: z.string(),
    campaign_id: z.string(),
    name: z.string().nullable(),
    source: z.enum(['json', 'csv', 'xlsx']),
    dimensions: z.array(
      z.object({ key: z.string(), label: z.string(), levels: z.array(levelSchema) }),
    ),
    constraints: z.array(z.object({ exclude: z.record(z.string(), z.array(z.string())) })),
    full_factorial_count: z.string().describe('Exact decimal: it can exceed 2^53'),
    allowed_count: z.string().describe('Combinations left after constraints, exact decimal'),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Matrix' });

export const previewSchema = z
  .object({
    variant_count: z.number().int(),
    new_variant_count: z
      .number()
      .int()
      .describe('Variants the campaign has never generated: made and paid for by the run'),
    reused_variant_count: z
      .number()
      .int()
      .describe('Variants the campaign already has, done or under way: free'),
    rerendered_variant_count: z
      .number()
      .int()
      .describe('Failed or cancelled variants of the campaign the run renders again, and pays for'),
    estimated_cost_usd: z.number().describe('What the run would cost: new and rerendered variants'),
    unit_cost_usd: z.number(),
    budget: z
      .object({
        budget_usd: z.number().nullable().describe("The campaign's budget; null for none"),
        committed_usd: z
          .number()
          .describe('Paid by earlier runs, plus reserved by their variants not yet submitted'),
        remaining_usd: z.number().nullable(),
        fits: z.boolean().describe('Whether the run would fit the remaining budget now'),
        detail: z
          .string()
          .nullable()
          .describe('Why not: the detail of the 422 the run would answer with'),
      })
      .describe('What earlier runs left of the budget; the run checks the same again when started'),
    design_stats: z.object({ pair_coverage: z.number(), level_balance: z.number() }),
    sample: z.array(z.object({ levels: z.record(z.string(), z.string()), prompt: z.string() })),
  })
  .meta({ id: 'MatrixPreview' });

export const matrixParams = z.object({ id: z.string().min(1).max(64) });

/** Documentation of the three accepted bodies; the handler parses CSV and multipart itself. */
export const createMatrixBody = {
  content: {
    'application/json': { schema: matrixInputSchema },
    'text/csv': {
      schema: z
        .string()
        .describe(
          'Wide form (a column per dimension) or long form (dimension,level,label,prompt,asset_id)',
        ),
    },
    'multipart/form-data': {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'object',
          properties: {
            file: { type: 'string', format: 'binary', description: '.csv or .xlsx' },
            name: { type: 'string' },
            constraints: { type: 'string', description: 'JSON array of {exclude: {...}} rules' },
          },
          required: ['file'],
        }),
    },
  },
};
