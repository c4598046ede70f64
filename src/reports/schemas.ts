import { z } from 'zod';
import { aiDisclosureFields } from '../provenance/schemas.ts';

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
  metric: z
    .enum(['ctr', 'cvr', 'view_rate'])
    .default('ctr')
    .describe(
      'The outcome the model explains, as successes out of trials: ctr (clicks / impressions), cvr (conversions / clicks) or view_rate (video views / impressions). Effects, verdicts and summaries speak of it; variants with more successes than trials are left out of the fit',
    ),
  compare: z
    .string()
    .max(1000)
    .regex(/^[^,]+(,[^,]+)*$/, 'all, or dimension keys separated by commas')
    .optional()
    .describe(
      'Also compare the non-reference levels with each other: all (every dimension) or dimension keys separated by commas. Each pair comes from the same fit (the difference of two log odds ratios, variance v_a + v_b − 2·c_ab) and joins the adjusted family, so the other p-values and intervals account for it too',
    ),
  equivalence_margin: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .describe(
      'Relative change of the modelled metric within which a level counts as "no difference" (its whole interval inside ±margin)',
    ),
});

const interval = z.tuple([z.number(), z.number()]);
const rateScale = z.object({ scale: z.number(), residual_df: z.number().int() }).nullable();
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
    'reference: the level the others are compared with; insufficient_data: below the minimum impressions or successes of the modelled metric (level or reference), or no estimate (see note); conclusive: adjusted p < 1 − confidence; no_difference: not conclusive and the interval of the relative change of the modelled metric lies inside ±equivalence_margin; directional: adjusted p < 0.2 but not conclusive; inconclusive: none of these, or no residual df to measure the variation between variants',
  );

/**
 * Counts, rates and money ratios with their intervals. `at`: the intervals' confidence; `units`:
 * what the CPA and ROAS intervals take as independent units; `rate`: what the rate intervals are.
 */
function performanceShape(at: string, units: string, rate = `Wilson interval at ${at}`) {
  const money = `Delta-method interval at ${at} (linearised ratio of sums over ${units}, on the log scale, t on units − 1 df; null with fewer than two units or a zero ratio)`;
  return {
    impressions: z.number(),
    clicks: z.number(),
    ctr: z.number().nullable().describe('Clicks per impression'),
    ctr_ci: interval.nullable().describe(rate),
    conversions: z.number(),
    cvr: z.number().nullable().describe('Conversions per click'),
    cvr_ci: interval
      .nullable()
      .describe(`${rate}; null without clicks or with more conversions than clicks`),
    spend_usd: z.number(),
    cpa: z.number().nullable().describe('Spend per conversion (USD)'),
    cpa_ci: interval.nullable().describe(money),
    video_views: z.number(),
    view_rate: z.number().nullable().describe('Video views per impression'),
    view_rate_ci: interval.nullable().describe(`${rate}; null with more views than impressions`),
    revenue_usd: z.number().describe('Attributed conversion value'),
    roas: z.number().nullable().describe('Revenue per dollar of spend'),
    roas_ci: interval.nullable().describe(money),
  };
}
const performance = performanceShape(
  '95%',
  "the variants' metric rows (date × platform)",
  "Wilson interval at 95% of the variant's own rate. Not widened by model.rate_scales: that scale measures how variants' true rates depart from what their levels predict, which is no part of the sampling noise in one variant's counts",
);

const levelSchema = z.object({
  level: z.string(),
  label: z.string(),
  reference: z.boolean(),
  variants: z.number().int(),
  ready: z.number().int().describe('Variants whose render finished'),
  delivered: z.number().int(),
  ...performanceShape(
    'the chosen confidence',
    'its variants, so the variation between variants is in them',
    "Interval at the chosen confidence (not adjusted) of the level's pooled rate, honest about the variation between variants: Wilson on the effective sample size impressions (or clicks) / φ, i.e. Wilson with z² replaced by t²·φ, φ = max(1, the Pearson dispersion between variants) and t on the residual df that estimated it — model.dispersion for the modelled metric, a main-effects fit on variant totals for the other rates. Plain Wilson where no dispersion can be estimated (no residual df, or no successes)",
  ),
  effect: z
    .number()
    .nullable()
    .describe(
      "Odds ratio of the modelled metric against the dimension's reference level, adjusted for the others",
    ),
  effect_ci: interval
    .nullable()
    .describe(
      'Interval of the odds ratio at interval_level, the adjusted level that agrees with the verdict: it excludes 1 exactly when the level is conclusive',
    ),
  lift: z
    .number()
    .nullable()
    .describe(
      "Relative change of the modelled metric (model.metric) against the reference, implied by the odds ratio at the reference level's rate",
    ),
  lift_ci: interval.nullable().describe('effect_ci as a relative change of the modelled metric'),
  interval_level: z.number().nullable().describe('Coverage of effect_ci for this level alone'),
  p_value: z
    .number()
    .nullable()
    .describe('Two-sided Wald test on the dispersion-scaled covariance, t on the residual df'),
  p_adjusted: z
    .number()
    .nullable()
    .describe(
      'Adjusted (model.adjust) over every non-reference level of every dimension and the comparisons asked for',
    ),
  prob_beat_reference: z
    .number()
    .nullable()
    .describe(
      'Approximate probability that this level has a higher rate of the modelled metric than the reference (normal on the log odds, scaled covariance)',
    ),
  prob_best: z
    .number()
    .nullable()
    .describe(
      'Approximate probability that this level has the highest rate of the modelled metric in its dimension, among levels with an estimate (exact for two levels, else seeded Monte Carlo with 10,000 draws)',
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
  by_date: z
    .array(
      z.object({
        date: z.iso.date(),
        impressions: z.number(),
        clicks: z.number(),
        ctr: z.number().nullable(),
      }),
    )
    .describe('Its impressions, clicks and CTR per date with metrics (bounded: see breakdowns)'),
  by_platform: z
    .array(
      z.object({
        platform: z.string(),
        impressions: z.number(),
        clicks: z.number(),
        ctr: z.number().nullable(),
      }),
    )
    .describe('Its impressions, clicks and CTR per platform ("" = none), largest platforms first'),
});

const comparisonSchema = z.object({
  level: z.string(),
  label: z.string(),
  versus: z.string().describe('The level it is compared with (listed earlier in the dimension)'),
  versus_label: z.string(),
  effect: z.number().nullable().describe('Odds ratio of level against versus, from the same fit'),
  effect_ci: interval
    .nullable()
    .describe('At interval_level, the adjusted level that agrees with the verdict'),
  lift: z.number().nullable().describe("Relative change of the modelled metric at versus's rate"),
  lift_ci: interval.nullable(),
  interval_level: z.number().nullable(),
  p_value: z.number().nullable().describe('Two-sided Wald test, t on the residual df'),
  p_adjusted: z.number().nullable().describe('Adjusted with every other test of the report'),
  prob_better: z
    .number()
    .nullable()
    .describe('Approximate probability that level has the higher rate of the two'),
  verdict: verdict.exclude(['reference']),
  note: z.string().nullable(),
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

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const reportResponse = {
  description:
    'The report. CSV: one row per variant, rates rounded to 6 decimal places and money to the cent, counts exact; with compare, a first column kind and effect and comparison rows (dimension, level, versus, odds ratio, interval, p-values, prob_better, verdict) before the variant rows. XLSX: one sheet per section (summary, operations, model, by_dimension, comparisons when compare asks for them, variants), full precision shown in percent and number formats, frozen bold headers, fitted widths, level labels beside their keys.',
  content: {
    'application/json': { schema: reportSchema },
    'text/csv': { schema: z.string() },
    [XLSX_TYPE]: { schema: z.string().meta({ format: 'binary' }) },
  },
};
