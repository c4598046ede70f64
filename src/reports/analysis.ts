/**
 * Element-level analysis: which level of each dimension moves click-through, adjusted for the
 * other dimensions. The statistics are the stats engine's (levelEffects); this module picks the
 * rows, decides verdicts and words the caveats.
 */
import type { Collected } from './collect.ts';
import type { ReportDimension } from './dimensions.ts';
import { finite, ratio } from './numbers.ts';
import { type BinomialRow, type LevelEffect, levelEffects, wilson } from './stats/index.ts';

type Verdict = 'insufficient_data' | 'directional' | 'conclusive';

export interface Thresholds {
  /** Pooled impressions and clicks a level (and its reference) needs before any verdict. */
  minImpressions: number;
  minClicks: number;
  /** Family-wise error rate for "conclusive", applied to Holm-adjusted p-values. */
  alpha: number;
}

interface LevelReport {
  level: string;
  label: string;
  reference: boolean;
  variants: number;
  ready: number;
  delivered: number;
  impressions: number;
  clicks: number;
  ctr: number | null;
  ctr_ci: [number, number] | null;
  effect: number | null;
  effect_ci: [number, number] | null;
  p_value: number | null;
  p_adjusted: number | null;
  verdict: Verdict;
  note: string | null;
}

export interface DimensionReport {
  dimension: string;
  label: string;
  reference_level: string | null;
  levels: LevelReport[];
}

export interface ModelReport {
  fitted: boolean;
  description: string;
  formula: string;
  family: 'binomial';
  link: 'logit';
  coding: 'treatment';
  /** Variants the model was fitted on: those with impressions and a level in every dimension. */
  rows: number;
  excluded: { no_impressions: number; missing_levels: number };
  parameters: number | null;
  rank: number | null;
  residual_df: number | null;
  iterations: number | null;
  converged: boolean | null;
  separation: boolean | null;
  deviance: number | null;
  null_deviance: number | null;
  confidence: number;
  thresholds: { min_impressions: number; min_clicks: number; alpha: number };
}

interface ModelRows {
  rows: BinomialRow[];
  noImpressions: number;
  missingLevels: number;
}

function modelRows(c: Collected, D: number): ModelRows {
  const rows: BinomialRow[] = [];
  let noImpressions = 0;
  let missingLevels = 0;
  for (let i = 0; i < c.count; i++) {
    if (!(c.impressions[i]! > 0)) {
      noImpressions++;
      continue;
    }
    const levels = c.levels.slice(i * D, i * D + D);
    if (levels.some((l) => l < 0)) {
      missingLevels++;
      continue;
    }
    rows.push({ levels, successes: c.clicks[i]!, trials: c.impressions[i]! });
  }
  return { rows, noImpressions, missingLevels };
}

function separationNote(e: LevelEffect): string {
  const where =
    e.direction === -1 ? ' (odds ratio tends to 0)' : e.direction === 1 ? ' (tends to ∞)' : '';
  return `${e.reason ?? 'separation'}${where}`;
}

/** The verdict rules, in order; the first that applies decides. */
function judge(
  p: {
    reference: boolean;
    impressions: number;
    clicks: number;
    effect: LevelEffect | null;
    converged: boolean;
    referenceShort: boolean;
  },
  t: Thresholds,
): { verdict: Verdict; note: string | null } {
  const short = p.impressions < t.minImpressions || p.clicks < t.minClicks;
  const minimum = `below the minimum of ${t.minImpressions} impressions and ${t.minClicks} clicks`;
  if (p.reference) {
    // The baseline is not tested against anything, so it is never "conclusive" itself.
    return short
      ? { verdict: 'insufficient_data', note: `reference level; ${minimum}` }
      : { verdict: 'directional', note: 'reference level: the others are compared with it' };
  }
  const e = p.effect;
  if (!e) return { verdict: 'insufficient_data', note: 'no variant has impressions yet' };
  if (!e.estimable) return { verdict: 'insufficient_data', note: e.reason ?? 'not estimable' };
  if (e.separation) return { verdict: 'insufficient_data', note: separationNote(e) };
  if (e.effect === null || e.p_adjusted === null) {
    return { verdict: 'insufficient_data', note: e.reason ?? 'no estimate' };
  }
  if (!p.converged) return { verdict: 'insufficient_data', note: 'the model did not converge' };
  if (short) return { verdict: 'insufficient_data', note: minimum };
  if (p.referenceShort) {
    return { verdict: 'insufficient_data', note: `the reference level is ${minimum}` };
  }
  return e.p_adjusted < t.alpha
    ? { verdict: 'conclusive', note: null }
    : { verdict: 'directional', note: null };
}

export function analyse(
  c: Collected,
  dims: ReportDimension[],
  t: Thresholds,
): { by_dimension: DimensionReport[]; model: ModelReport } {
  const D = dims.length;
  const { rows, noImpressions, missingLevels } = modelRows(c, D);
  const fit =
    D > 0 && rows.length > 0
      ? levelEffects({ dimensions: dims.map((d) => ({ name: d.key, levels: d.levels })), rows })
      : null;
  const converged = fit?.model.converged ?? false;

  const by_dimension = dims.map((dim, d): DimensionReport => {
    const totals = c.perLevel[d]!;
    const short = (l: number) =>
      (totals.impressions[l] ?? 0) < t.minImpressions || (totals.clicks[l] ?? 0) < t.minClicks;
    const effects = fit?.dimensions[d]?.levels ?? null;
    return {
      dimension: dim.key,
      label: dim.label,
      reference_level: dim.levels[0] ?? null,
      levels: dim.levels.map((key, l): LevelReport => {
        const impressions = totals.impressions[l] ?? 0;
        const clicks = totals.clicks[l] ?? 0;
        const e = effects?.[l] ?? null;
        const usable = e?.estimable && !e.separation;
        const { verdict, note } = judge(
          {
            reference: l === 0,
            impressions,
            clicks,
            effect: e,
            converged,
            referenceShort: short(0),
          },
          t,
        );
        const ci = usable ? e.effect_ci : null;
        return {
          level: key,
          label: dim.labels[l] ?? key,
          reference: l === 0,
          variants: totals.variants[l] ?? 0,
          ready: totals.ready[l] ?? 0,
          delivered: totals.delivered[l] ?? 0,
          impressions,
          clicks,
          ctr: ratio(clicks, impressions),
          ctr_ci: wilson(clicks, impressions),
          effect: l === 0 ? 1 : usable ? finite(e.effect) : null,
          effect_ci: ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null,
          p_value: usable ? finite(e.p_value) : null,
          p_adjusted: usable ? finite(e.p_adjusted) : null,
          verdict,
          note,
        };
      }),
    };
  });

  const formula = `clicks / impressions ~ ${dims.map((d) => d.key).join(' + ') || '1'}`;
  const excluded = { no_impressions: noImpressions, missing_levels: missingLevels };
  const thresholds = { min_impressions: t.minImpressions, min_clicks: t.minClicks, alpha: t.alpha };
  const m = fit?.model;
  const description = m
    ? `Binomial logistic regression (logit link) of clicks out of impressions on ${dims.length} dimension${dims.length === 1 ? '' : 's'} at once: main effects, treatment-coded against each dimension's first level, fitted on ${rows.length} variant${rows.length === 1 ? '' : 's'} with impressions (${noImpressions} without impressions left out${missingLevels ? `, ${missingLevels} lacking a level` : ''}). Effects are odds ratios with 95% Wald intervals; p-values are Holm-adjusted within each dimension.`
    : D === 0
      ? 'No model: the runs in scope have no dimensions.'
      : 'No model: no variant has impressions yet.';
  return {
    by_dimension,
    model: {
      fitted: m !== undefined,
      description,
      formula,
      family: 'binomial',
      link: 'logit',
      coding: 'treatment',
      rows: rows.length,
      excluded,
      parameters: m?.parameters ?? null,
      rank: m?.rank ?? null,
      residual_df: m?.residual_df ?? null,
      iterations: m?.iterations ?? null,
      converged: m?.converged ?? null,
      separation: m?.separation ?? null,
      deviance: finite(m?.deviance),
      null_deviance: finite(m?.null_deviance),
      confidence: m?.confidence ?? 0.95,
      thresholds,
    },
  };
}
