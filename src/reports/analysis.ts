/**
 * Element-level analysis: which level of each dimension moves click-through, adjusted for the
 * other dimensions. One main-effects logit fit on variant totals; its covariance is scaled by
 * the overdispersion between variants (stats/dispersion.ts) and its tests referred to t on the
 * variants' residual df, adjusted over the whole report (inference.ts); verdicts and sentences
 * come from verdicts.ts.
 */
import { type BreakdownsSummary, type LevelBreakdown, levelBreakdowns } from './breakdowns.ts';
import type { Collected } from './collect.ts';
import {
  type CompareOption,
  type ComparisonReport,
  type ContrastNumbers,
  comparisonReports,
  pairsOf,
} from './comparisons.ts';
import type { ReportDimension } from './dimensions.ts';
import { inferLevels, type PairInference } from './inference.ts';
import { type InteractionTest, interactionTests } from './interactions.ts';
import { METRIC_WORDS, type ModelledMetric } from './metric.ts';
import { deliveryBalance, fitModel, type LevelDelivery, modelData } from './model.ts';
import { finite, type Performance, performance, ratio } from './numbers.ts';
import { type RateSpreads, rateSpreads } from './rate-spread.ts';
import type { Adjustment, Dispersion } from './stats/index.ts';
import { dimensionSummary, judge, type Verdict, type VerdictOptions } from './verdicts.ts';

export type AnalysisOptions = VerdictOptions & {
  /** Comparisons among non-reference levels: every dimension, or these dimension keys. */
  compare?: CompareOption | undefined;
};

interface LevelReport extends Performance, LevelBreakdown, ContrastNumbers {
  level: string;
  label: string;
  reference: boolean;
  variants: number;
  ready: number;
  delivered: number;
  prob_beat_reference: number | null;
  prob_best: number | null;
  verdict: Verdict;
  note: string | null;
  delivery: LevelDelivery;
}

export interface DimensionReport {
  dimension: string;
  label: string;
  reference_level: string | null;
  summary: string;
  /** Delivery warnings of its levels, one per imbalanced level. */
  warnings: string[];
  levels: LevelReport[];
  /** Pairs of non-reference levels, when the report was asked to compare them. */
  comparisons: ComparisonReport[];
}

export interface ModelReport {
  fitted: boolean;
  /** The modelled outcome: clicks per impression, conversions per click or views per impression. */
  metric: ModelledMetric;
  description: string;
  formula: string;
  family: 'binomial';
  link: 'logit';
  coding: 'treatment';
  /** Variants the model was fitted on: those with impressions and a level in every dimension. */
  rows: number;
  excluded: { no_impressions: number; missing_levels: number; successes_exceed_trials: number };
  /** Platforms and dates entered as strata (reference first), the df dates cost, and why not. */
  strata: {
    platform: string[];
    date: string[];
    platform_df: number;
    date_df: number;
    note: string | null;
  };
  parameters: number | null;
  rank: number | null;
  residual_df: number | null;
  iterations: number | null;
  converged: boolean | null;
  separation: boolean | null;
  deviance: number | null;
  null_deviance: number | null;
  dispersion:
    | (Omit<Dispersion, 'phi' | 'scale'> & {
        method: 'pearson_between_variants';
        phi: number | null;
        scale: number | null;
      })
    | null;
  /** Per rate, the dispersion its level and summary intervals are widened by; null: Wilson. */
  rate_scales: RateSpreads;
  /** False when no level can be conclusive whatever the data (no residual df). */
  conclusive_possible: boolean;
  confidence: number;
  adjust: Adjustment;
  equivalence_margin: number;
  /** Tests in the adjusted family: non-reference levels with an estimate, all dimensions. */
  tests: number;
  /** Dimensions whose non-reference levels are compared pairwise, and those pairs' tests. */
  compare: string[];
  comparison_tests: number;
  /** Lack of fit: one F test per pair of dimensions for the two-way interaction. */
  lack_of_fit: InteractionTest[];
  thresholds: { min_impressions: number; min_clicks: number; alpha: number };
}

/** A pair with no fit behind it (no rows): insufficient data, as its levels are. */
const NO_INFERENCE: PairInference['inference'] = {
  coefficient: null,
  usable: false,
  effect: null,
  effect_ci: null,
  lift: null,
  lift_ci: null,
  p_value: null,
  p_adjusted: null,
  interval_level: null,
  prob_beat_reference: null,
  prob_best: null,
};

export function analyse(
  c: Collected,
  dims: ReportDimension[],
  o: AnalysisOptions,
): { by_dimension: DimensionReport[]; model: ModelReport; breakdowns: BreakdownsSummary } {
  const D = dims.length;
  const data = modelData(
    c,
    dims.map((d) => d.levels.length),
  );
  const { noImpressions, missingLevels } = data;
  const model = fitModel(dims, data);
  const delivery = deliveryBalance(
    c,
    dims.map((d) => d.levels.length),
    data,
  );
  const breakdown = levelBreakdowns(c, dims);
  const spreads = rateSpreads(c, dims, o.metric, model);
  const fit = model?.fit ?? null;
  const dispersion = model?.dispersion ?? null;
  const converged = fit?.converged ?? false;
  const saturated = dispersion !== null && dispersion.scale === null;
  const words = METRIC_WORDS[o.metric];
  const rate = (d: number, l: number) =>
    ratio(c.perLevel[d]!.successes[l] ?? 0, c.perLevel[d]!.trials[l] ?? 0);
  const pairs = pairsOf(dims, o.compare);
  const inferred = fit
    ? inferLevels(
        fit,
        dims.map((d) => d.levels.length),
        {
          scale: dispersion?.scale ?? null,
          df: dispersion?.residual_df ?? 0,
          confidence: o.confidence,
          adjust: o.adjust,
          rate,
          pairs,
        },
      )
    : null;
  const inference = inferred?.levels ?? null;
  const pairInference = (d: number): PairInference[] =>
    inferred
      ? inferred.pairs.filter((p) => p.dimension === d)
      : pairs.filter((p) => p.dimension === d).map((p) => ({ ...p, inference: NO_INFERENCE }));

  const by_dimension = dims.map((dim, d): DimensionReport => {
    const totals = c.perLevel[d]!;
    const short = (l: number) =>
      (totals.impressions[l] ?? 0) < o.minImpressions || (totals.successes[l] ?? 0) < o.minClicks;
    const levels = dim.levels.map((key, l): LevelReport => {
      const e = inference?.[d]?.[l] ?? null;
      const { verdict, note } = judge(
        {
          reference: l === 0,
          short: short(l),
          referenceShort: short(0),
          converged,
          saturated,
          inference: e,
        },
        o,
      );
      return {
        level: key,
        label: dim.labels[l] ?? key,
        reference: l === 0,
        variants: totals.variants[l] ?? 0,
        ready: totals.ready[l] ?? 0,
        delivered: totals.delivered[l] ?? 0,
        ...performance(
          {
            impressions: totals.impressions[l] ?? 0,
            clicks: totals.clicks[l] ?? 0,
            conversions: totals.conversions[l] ?? 0,
            spendUsd: totals.spendUsd[l] ?? 0,
            videoViews: totals.videoViews[l] ?? 0,
            revenueUsd: totals.revenueUsd[l] ?? 0,
          },
          {
            units: totals.units[l] ?? 0,
            spend2: totals.spend2[l] ?? 0,
            conversions2: totals.conversions2[l] ?? 0,
            revenue2: totals.revenue2[l] ?? 0,
            spendConversions: totals.spendConversions[l] ?? 0,
            revenueSpend: totals.revenueSpend[l] ?? 0,
          },
          o.confidence,
          spreads,
        ),
        effect: l === 0 ? 1 : finite(e?.effect),
        effect_ci: e?.effect_ci ?? null,
        lift: l === 0 ? 0 : finite(e?.lift),
        lift_ci: e?.lift_ci ?? null,
        interval_level: e?.interval_level ?? null,
        p_value: finite(e?.p_value),
        p_adjusted: finite(e?.p_adjusted),
        prob_beat_reference: finite(e?.prob_beat_reference),
        prob_best: finite(e?.prob_best),
        verdict,
        note,
        delivery: delivery[d]![l]!,
        ...breakdown.levels[d]![l]!,
      };
    });
    return {
      dimension: dim.key,
      label: dim.label,
      reference_level: dim.levels[0] ?? null,
      summary: dimensionSummary(levels, { ...o, saturated }),
      warnings: levels.flatMap((l) =>
        l.delivery.warning ? [`${l.label}: ${l.delivery.warning}`] : [],
      ),
      levels,
      comparisons: comparisonReports(dim, pairInference(d), { short, converged, saturated }, o),
    };
  });

  const terms = dims.map((d) => d.key);
  if (data.strata) terms.push('strata(platform)');
  if (data.dates) terms.push('strata(date)');
  const formula = `${words.successes} / ${words.trials} ~ ${terms.join(' + ') || '1'}`;
  const excluded = {
    no_impressions: noImpressions,
    missing_levels: missingLevels,
    successes_exceed_trials: data.beyondTrials,
  };
  const thresholds = {
    min_impressions: o.minImpressions,
    min_clicks: o.minClicks,
    alpha: 1 - o.confidence,
  };
  const levelTests =
    inference?.flat().filter((e) => e.coefficient && e.p_value !== null).length ?? 0;
  const comparisonTests = inferred?.pairs.filter((p) => p.inference.p_value !== null).length ?? 0;
  const tests = levelTests + comparisonTests;
  const pct = `${Math.round(o.confidence * 1000) / 10}%`;
  const description = fit
    ? `Binomial logistic regression (logit link) of ${words.successes.replace('_', ' ')} out of ${words.trials} (${words.label}) on ${D} dimension${D === 1 ? '' : 's'} at once: main effects, treatment-coded against each dimension's first level, fitted on ${data.variants} variant${data.variants === 1 ? '' : 's'} with ${words.trials}${data.strata ? `, per platform (${data.strata.length} platforms as strata, so a level served more on a high-${words.label} platform is compared within platforms, charged ${data.platformDf} residual df for the part of them that lies between variants)` : ''}${data.dates ? `, per date (${data.dates.length} dates as strata, charged ${data.dateDf} residual df for the part of them that lies between variants)` : ''} (${noImpressions} without ${words.trials} left out${missingLevels ? `, ${missingLevels} lacking a level` : ''}${data.beyondTrials ? `, ${data.beyondTrials} with more ${words.successes.replace('_', ' ')} than ${words.trials}` : ''}). Variants differ beyond binomial noise, so the covariance is scaled by the Pearson dispersion between variants (at least 1) and tests use t on the variants' residual df. Effects are odds ratios; p-values are ${o.adjust === 'holm' ? 'Holm' : 'Benjamini–Hochberg'}-adjusted over all ${tests} tests of the report (${levelTests} levels against their reference${comparisonTests ? `, ${comparisonTests} comparisons among non-reference levels` : ''}), and intervals are at the adjusted level that agrees with them at ${pct} confidence.${saturated ? ` No verdict can be conclusive: ${'no residual degrees of freedom'}.` : ''}`
    : D === 0
      ? 'No model: the runs in scope have no dimensions.'
      : `No model: no variant has ${words.trials} yet.`;
  return {
    by_dimension,
    breakdowns: breakdown.summary,
    model: {
      fitted: fit !== null,
      metric: o.metric,
      description,
      formula,
      family: 'binomial',
      link: 'logit',
      coding: 'treatment',
      rows: data.variants,
      excluded,
      strata: {
        platform: data.strata ?? [],
        date: data.dates ?? [],
        platform_df: data.platformDf,
        date_df: data.dateDf,
        note: data.dateNote,
      },
      parameters: fit?.parameters ?? null,
      rank: fit?.rank ?? null,
      residual_df: fit?.residual_df ?? null,
      iterations: fit?.iterations ?? null,
      converged: fit?.converged ?? null,
      separation: fit?.separation ?? null,
      deviance: finite(fit?.deviance),
      null_deviance: finite(fit?.null_deviance),
      dispersion: dispersion
        ? {
            method: 'pearson_between_variants',
            pearson_chi2: dispersion.pearson_chi2,
            variants: dispersion.variants,
            residual_df: dispersion.residual_df,
            phi: finite(dispersion.phi),
            scale: finite(dispersion.scale),
          }
        : null,
      rate_scales: spreads,
      conclusive_possible: fit !== null && !saturated,
      confidence: o.confidence,
      adjust: o.adjust,
      equivalence_margin: o.equivalenceMargin,
      tests,
      compare: dims.filter((_, d) => pairs.some((p) => p.dimension === d)).map((d) => d.key),
      comparison_tests: comparisonTests,
      lack_of_fit: model && converged ? interactionTests(dims, data, model) : [],
      thresholds,
    },
  };
}
