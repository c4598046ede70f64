import { z } from 'zod';

export const reportQuery = z.object({
  run_id: z.string().min(1).max(64).optional().describe("Only this run's variants"),
  format: z.enum(['json', 'csv', 'xlsx']).default('json'),
});

const interval = z.tuple([z.number(), z.number()]);
const verdict = z
  .enum(['insufficient_data', 'directional', 'conclusive'])
  .describe(
    'insufficient_data: below the minimum impressions/clicks (level or reference), or no estimate (see note); conclusive: Holm-adjusted p < 0.05; otherwise directional',
  );

const performance = {
  impressions: z.number(),
  clicks: z.number(),
  ctr: z.number().nullable(),
  ctr_ci: interval.nullable().describe('95% Wilson interval'),
  conversions: z.number(),
  cvr: z.number().nullable().describe('Conversions per click'),
  spend_usd: z.number(),
  cpa: z.number().nullable().describe('Spend per conversion'),
  video_views: z.number(),
};

const levelSchema = z.object({
  level: z.string(),
  label: z.string(),
  reference: z.boolean(),
  variants: z.number().int(),
  ready: z.number().int().describe('Variants whose render finished'),
  delivered: z.number().int(),
  impressions: z.number(),
  clicks: z.number(),
  ctr: z.number().nullable(),
  ctr_ci: interval.nullable(),
  effect: z
    .number()
    .nullable()
    .describe("Odds ratio against the dimension's reference level, adjusted for the others"),
  effect_ci: interval.nullable().describe('95% Wald interval of the odds ratio'),
  p_value: z.number().nullable(),
  p_adjusted: z.number().nullable().describe("Holm over the dimension's non-reference levels"),
  verdict,
  note: z.string().nullable().describe('Why there is no verdict or no number, when so'),
});

export const reportSchema = z
  .object({
    campaign_id: z.string(),
    campaign_name: z.string(),
    run_id: z.string().nullable(),
    generated_at: z.iso.datetime(),
    summary: z.object({
      variants: z.number().int(),
      variants_with_impressions: z.number().int(),
      ...performance,
    }),
    by_status: z.record(z.string(), z.number().int()),
    operations: z.object({
      cost: z.object({ estimated_usd: z.number(), actual_usd: z.number() }),
      render_time_s: z
        .object({
          count: z.number().int(),
          p50: z.number().nullable(),
          p90: z.number().nullable(),
        })
        .describe('Submit → ready, over variants whose render finished'),
      failures: z.array(z.object({ code: z.string(), count: z.number().int() })),
      review: z.object({
        rendered: z.number().int(),
        reviewed: z.number().int(),
        coverage: z.number().nullable(),
      }),
      delivery: z
        .object({
          eligible: z.number().int().describe('Rendered and not rejected'),
          delivered: z.number().int(),
          coverage: z.number().nullable(),
          by_destination: z.array(
            z.object({
              destination: z.string(),
              variants: z.number().int(),
              coverage: z.number().nullable(),
            }),
          ),
        })
        .describe('Share of ready variants delivered, overall and per destination'),
    }),
    by_dimension: z.array(
      z.object({
        dimension: z.string(),
        label: z.string(),
        reference_level: z.string().nullable(),
        levels: z.array(levelSchema),
      }),
    ),
    model: z.object({
      fitted: z.boolean(),
      description: z.string(),
      formula: z.string(),
      family: z.literal('binomial'),
      link: z.literal('logit'),
      coding: z.literal('treatment'),
      rows: z.number().int().describe('Variants the model was fitted on'),
      excluded: z.object({
        no_impressions: z.number().int(),
        missing_levels: z.number().int(),
      }),
      parameters: z.number().int().nullable(),
      rank: z.number().int().nullable(),
      residual_df: z.number().int().nullable(),
      iterations: z.number().int().nullable(),
      converged: z.boolean().nullable(),
      separation: z.boolean().nullable(),
      deviance: z.number().nullable(),
      null_deviance: z.number().nullable(),
      confidence: z.number(),
      thresholds: z.object({
        min_impressions: z.number(),
        min_clicks: z.number(),
        alpha: z.number(),
      }),
    }),
    variants: z.array(
      z.object({
        id: z.string(),
        levels: z.record(z.string(), z.string()),
        status: z.string(),
        deliveries: z.number().int(),
        ...performance,
      }),
    ),
  })
  .meta({ id: 'CampaignReport' });

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const reportResponse = {
  description: 'The report; CSV is one row per variant, XLSX has summary, by_dimension, variants',
  content: {
    'application/json': { schema: reportSchema },
    'text/csv': { schema: z.string() },
    [XLSX_TYPE]: { schema: z.string().meta({ format: 'binary' }) },
  },
};
