/**
 * The parts of the JSON report a level is made of: its counts, rates and money ratios with their
 * intervals (shared with the summary and the variants), its verdict, and the comparisons among
 * non-reference levels. report-schema.ts assembles the report from them.
 */
import { z } from 'zod';

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
    'reference: the level the others are compared with; insufficient_data: below the minimum impressions or successes of the modelled metric (level or reference), or no estimate (see note); conclusive: adjusted p < 1 − confidence; no_difference: not conclusive and the interval of the relative change of the modelled metric lies inside ±equivalence_margin; directional: adjusted p < 0.2 but not conclusive; inconclusive: none of these, or no residual df to measure the variation between variants',
  );

/**
 * Counts, rates and money ratios with their intervals. `at`: the intervals' confidence; `units`:
 * what the CPA and ROAS intervals take as independent units; `rate`: what the rate intervals are.
 */
export function performanceShape(at: string, units: string, rate = `Wilson interval at ${at}`) {
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

export const levelSchema = z.object({
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

export const comparisonSchema = z.object({
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
