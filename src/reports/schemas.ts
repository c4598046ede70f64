import { z } from 'zod';

export const reportQuery = z.object({
  run_id: z.string().min(1).max(64).optional().describe("Only this run's variants"),
  format: z.enum(['json', 'csv', 'xlsx']).default('json'),
  confidence: z
    .enum(['0.7', '0.8', '0.9', '0.95', '0.99'])
    .default('0.95')
    .describe('Confidence at which a level is "conclusive" (after the adjustment)'),
  adjust: z
    .enum(['holm', 'bh'])
    .default('holm')
    .describe(
      'Multiplicity adjustment over every level of every dimension: holm (family-wise error) or bh (Benjamini–Hochberg, false discovery rate)',
    ),
  equivalence_margin: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .describe(
      'Relative CTR change within which a level counts as "no difference" (its whole interval inside ±margin)',
    ),
});

const interval = z.tuple([z.number(), z.number()]);
const verdict = z
  .enum([
    'reference',
    'insufficient_data',
    'no_difference',
    'inconclusive',
    'directional',
    'conclusive',
  ])
  .describe(
    'reference: the level the others are compared with; insufficient_data: below the minimum impressions/clicks (level or reference), or no estimate (see note); conclusive: adjusted p < 1 − confidence; no_difference: not conclusive and the interval of the CTR change lies inside ±equivalence_margin; directional: adjusted p < 0.2 but not conclusive; inconclusive: none of these, or no residual df to measure the variation between variants',
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
  ctr_ci: interval.nullable().describe('Wilson interval at the chosen confidence'),
  effect: z
    .number()
    .nullable()
    .describe("Odds ratio against the dimension's reference level, adjusted for the others"),
  effect_ci: interval
    .nullable()
    .describe(
      'Interval of the odds ratio at interval_level, the adjusted level that agrees with the verdict: it excludes 1 exactly when the level is conclusive',
    ),
  lift: z
    .number()
    .nullable()
    .describe(
      "Relative CTR change against the reference implied by the odds ratio at the reference level's CTR",
    ),
  lift_ci: interval.nullable().describe('effect_ci as a relative CTR change'),
  interval_level: z.number().nullable().describe('Coverage of effect_ci for this level alone'),
  p_value: z
    .number()
    .nullable()
    .describe('Two-sided Wald test on the dispersion-scaled covariance, t on the residual df'),
  p_adjusted: z
    .number()
    .nullable()
    .describe('Adjusted (model.adjust) over every non-reference level of every dimension'),
  prob_beat_reference: z
    .number()
    .nullable()
    .describe(
      'Approximate probability that this level has the higher CTR than the reference (normal on the log odds, scaled covariance)',
    ),
  prob_best: z
    .number()
    .nullable()
    .describe(
      'Approximate probability that this level has the highest CTR of its dimension, among levels with an estimate (exact for two levels, else seeded Monte Carlo with 10,000 draws)',
    ),
  verdict,
  note: z.string().nullable().describe('Why there is no verdict or no number, when so'),
  delivery: z
    .object({
      design_share: z.number().describe("The level's share of the modelled variants"),
      impression_share: z.number().describe('Its share of their impressions'),
      platform_mix_distance: z
        .number()
        .nullable()
        .describe(
          'Total variation distance between its impressions by platform and the overall mix; null with one platform',
        ),
      warning: z
        .string()
        .nullable()
        .describe(
          'Set when impression share is 1.5× off the design share or the platform mix is more than 0.15 away',
        ),
    })
    .describe('Delivery against the design: platforms optimise delivery, so imbalance is flagged'),
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
        summary: z.string().describe('One sentence: the strongest finding, or why there is none'),
        warnings: z.array(z.string()).describe("Its levels' delivery warnings"),
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
      strata: z
        .object({ platform: z.array(z.string()) })
        .describe(
          'Platforms entered as strata (one row per variant and platform), reference first; empty with one platform',
        ),
      parameters: z.number().int().nullable(),
      rank: z.number().int().nullable(),
      residual_df: z.number().int().nullable(),
      iterations: z.number().int().nullable(),
      converged: z.boolean().nullable(),
      separation: z.boolean().nullable(),
      deviance: z.number().nullable(),
      null_deviance: z.number().nullable(),
      dispersion: z
        .object({
          method: z.literal('pearson_between_variants'),
          pearson_chi2: z.number(),
          variants: z.number().int(),
          residual_df: z.number().int(),
          phi: z
            .number()
            .nullable()
            .describe('Pearson X² over variants / residual df; null without df'),
          scale: z.number().nullable().describe('max(1, phi): the covariance multiplier'),
        })
        .nullable()
        .describe('Overdispersion between variants, which the intervals and tests account for'),
      conclusive_possible: z
        .boolean()
        .describe('False when the design leaves no residual df: no level can then be conclusive'),
      confidence: z.number(),
      adjust: z.enum(['holm', 'bh']),
      equivalence_margin: z.number(),
      tests: z.number().int().describe('Level tests in the adjusted family'),
      lack_of_fit: z
        .array(
          z.object({
            dimensions: z.tuple([z.string(), z.string()]),
            df: z.number().int().describe('Parameters the interaction adds'),
            deviance_drop: z.number().nullable(),
            residual_df: z.number().int().nullable(),
            f: z.number().nullable(),
            p_value: z.number().nullable(),
            p_adjusted: z.number().nullable().describe('Holm over the pairs tested'),
            note: z.string().nullable(),
          }),
        )
        .describe(
          'Two-way interactions the main-effects model leaves out: quasi-likelihood F test per pair of dimensions (deviance drop per added df over the between-variant dispersion of the larger model)',
        ),
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
  description:
    'The report. CSV: one row per variant, rates rounded to 6 decimal places and money to the cent, counts exact. XLSX: one sheet per section (summary, operations, model, by_dimension, variants), full precision shown in percent and number formats, frozen bold headers, fitted widths, level labels beside their keys.',
  content: {
    'application/json': { schema: reportSchema },
    'text/csv': { schema: z.string() },
    [XLSX_TYPE]: { schema: z.string().meta({ format: 'binary' }) },
  },
};
