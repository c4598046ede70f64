/** The JSON report's body: summary, operations, per-dimension levels, the model, variants. */
import { z } from 'zod';
import { aiDisclosureFields } from '../provenance/schemas.ts';
import { comparisonSchema, levelSchema, performanceShape } from './level-schema.ts';

const rateScale = z.object({ scale: z.number(), residual_df: z.number().int() }).nullable();
const performance = performanceShape(
  '95%',
  "the variants' metric rows (date × platform)",
  "Wilson interval at 95% of the variant's own rate. Not widened by model.rate_scales: that scale measures how variants' true rates depart from what their levels predict, which is no part of the sampling noise in one variant's counts",
);

export const reportSchema = z
  .object({
    campaign_id: z.string(),
    campaign_name: z.string(),
    run_id: z.string().nullable(),
    generated_at: z.iso.datetime(),
    summary: z.object({
      variants: z.number().int(),
      variants_with_impressions: z.number().int(),
      ...performanceShape(
        '95%',
        'variants',
        "Interval at 95% of the campaign's pooled rate, widened as a level's is: the total sums variants that differ beyond binomial noise, so it is Wilson with z² replaced by t²·φ, φ and the residual df of t from model.rate_scales. Plain Wilson where model.rate_scales has no scale for the rate (no dimensions, no residual df, or no successes)",
      ),
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
    breakdowns: z
      .object({
        dates: z
          .number()
          .int()
          .nullable()
          .describe('Dates with metrics; null when the campaign was too large to read day by day'),
        dates_shown: z
          .number()
          .int()
          .describe('The latest dates, up to 92 and 20,000 level × date rows'),
        platforms: z.number().int(),
        platforms_shown: z.number().int().describe('The 20 largest at most'),
        note: z.string().nullable().describe('What the per-level breakdowns leave out'),
      })
      .describe("Bounds of the levels' by_date and by_platform breakdowns"),
    by_dimension: z.array(
      z.object({
        dimension: z.string(),
        label: z.string(),
        reference_level: z.string().nullable(),
        summary: z.string().describe('One sentence: the strongest finding, or why there is none'),
        warnings: z.array(z.string()).describe("Its levels' delivery warnings"),
        levels: z.array(levelSchema),
        comparisons: z
          .array(comparisonSchema)
          .describe('Pairs of its non-reference levels, when asked for (compare); else empty'),
      }),
    ),
    model: z.object({
      fitted: z.boolean(),
      metric: z
        .enum(['ctr', 'cvr', 'view_rate'])
        .describe('The modelled outcome (the metric query parameter)'),
      description: z.string(),
      formula: z.string(),
      family: z.literal('binomial'),
      link: z.literal('logit'),
      coding: z.literal('treatment'),
      rows: z.number().int().describe('Variants the model was fitted on'),
      excluded: z.object({
        no_impressions: z
          .number()
          .int()
          .describe("Variants without the metric's trials (impressions, or clicks for cvr)"),
        missing_levels: z.number().int(),
        successes_exceed_trials: z
          .number()
          .int()
          .describe('Variants with more successes than trials (view-through conversions, say)'),
      }),
      strata: z
        .object({
          platform: z
            .array(z.string())
            .describe('Platforms entered as strata, reference first; empty with one platform'),
          date: z
            .array(z.iso.date())
            .describe(
              'Dates entered as strata (rows per variant, platform and date), reference (most impressions) first; empty with one date or when not entered (see note)',
            ),
          platform_df: z
            .number()
            .int()
            .describe(
              'Residual df the platform strata cost, by the rule of date_df: 0 when every variant splits its impressions across platforms in the same proportions, one per platform column when each variant runs on one platform',
            ),
          date_df: z
            .number()
            .int()
            .describe(
              'Residual df the date strata cost: each date column is charged the share of its variation that lies between variants (0 when all variants run on the same days in the same proportions, 1 when variants run on different days), summed and rounded up. Dates enter only when that leaves at least one df after the platforms',
            ),
          note: z
            .string()
            .nullable()
            .describe('Why dates are not in the model though the metrics could carry them'),
        })
        .describe('Strata: platforms and dates differ in the metric and in who gets served what'),
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
      rate_scales: z
        .object({ ctr: rateScale, cvr: rateScale, view_rate: rateScale })
        .describe(
          "Per rate, what its levels' and the summary's intervals (ctr_ci, cvr_ci, view_rate_ci) are widened by: max(1, Pearson dispersion between variants) and the residual df of the t quantile; the modelled metric's is model.dispersion, the others' come from a main-effects fit on variant totals. null: plain Wilson (no residual df or no successes)",
        ),
      conclusive_possible: z
        .boolean()
        .describe('False when the design leaves no residual df: no level can then be conclusive'),
      confidence: z.number(),
      adjust: z.enum(['holm', 'bh']),
      equivalence_margin: z.number(),
      tests: z
        .number()
        .int()
        .describe(
          'Tests in the adjusted family: levels against their reference, plus the comparisons asked for',
        ),
      compare: z.array(z.string()).describe('Dimensions whose non-reference levels are compared'),
      comparison_tests: z.number().int().describe('Comparisons in the adjusted family'),
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
        min_clicks: z
          .number()
          .describe(
            'Minimum successes of the modelled metric per level: clicks, conversions (cvr) or video views (view_rate)',
          ),
        alpha: z.number(),
      }),
    }),
    variants: z.array(
      z.object({
        id: z.string(),
        levels: z.record(z.string(), z.string()),
        status: z.string(),
        deliveries: z.number().int(),
        ...aiDisclosureFields,
        ...performance,
      }),
    ),
  })
  .meta({ id: 'CampaignReport' });
