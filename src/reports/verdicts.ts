/** Verdicts in plain words, per level and as one sentence per dimension. */
import type { LevelInference } from './inference.ts';
import { METRIC_WORDS, type ModelledMetric } from './metric.ts';
import type { Adjustment } from './stats/index.ts';

export type Verdict =
  | 'reference'
  | 'insufficient_data'
  | 'no_difference'
  | 'inconclusive'
  | 'directional'
  | 'conclusive';

/** "Directional" means significant at this confidence (after adjustment) but not at the chosen one. */
const DIRECTIONAL_CONFIDENCE = 0.8;

export interface VerdictOptions {
  minImpressions: number;
  minClicks: number;
  confidence: number;
  adjust: Adjustment;
  /** |relative change| of the metric within which an interval counts as "no difference". */
  equivalenceMargin: number;
  /** The modelled metric the verdicts speak of. */
  metric: ModelledMetric;
}

const SATURATED =
  'no residual degrees of freedom (as many parameters as variants): the variation between variants cannot be measured, so no level can be called conclusive';

function separationNote(c: NonNullable<LevelInference['coefficient']>): string {
  const where =
    c.direction === -1 ? ' (odds ratio tends to 0)' : c.direction === 1 ? ' (tends to ∞)' : '';
  return `${c.reason ?? 'separation'}${where}`;
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** The rules in order; the first that applies decides. */
export function judge(
  p: {
    reference: boolean;
    short: boolean;
    referenceShort: boolean;
    converged: boolean;
    saturated: boolean;
    inference: LevelInference | null;
  },
  o: VerdictOptions,
): { verdict: Verdict; note: string | null } {
  const words = METRIC_WORDS[o.metric];
  const successes = words.successes.replace('_', ' ');
  const minimum = `below the minimum of ${o.minImpressions} impressions and ${o.minClicks} ${successes}`;
  if (p.reference) {
    return {
      verdict: 'reference',
      note: p.short
        ? `reference level; ${minimum}`
        : 'reference level: the others are compared with it',
    };
  }
  const e = p.inference;
  const c = e?.coefficient;
  if (!e || !c) return { verdict: 'insufficient_data', note: 'no variant has impressions yet' };
  if (!c.estimable) return { verdict: 'insufficient_data', note: c.reason ?? 'not estimable' };
  if (c.separation) return { verdict: 'insufficient_data', note: separationNote(c) };
  if (c.estimate === null) return { verdict: 'insufficient_data', note: c.reason ?? 'no estimate' };
  if (!p.converged) return { verdict: 'insufficient_data', note: 'the model did not converge' };
  if (p.short) return { verdict: 'insufficient_data', note: minimum };
  if (p.referenceShort) {
    return { verdict: 'insufficient_data', note: `the reference level is ${minimum}` };
  }
  if (p.saturated) return { verdict: 'inconclusive', note: SATURATED };
  if (e.p_adjusted === null) return { verdict: 'inconclusive', note: 'no test' };
  if (e.p_adjusted < 1 - o.confidence) return { verdict: 'conclusive', note: null };
  const m = o.equivalenceMargin;
  if (e.lift_ci && e.lift_ci[0] >= -m && e.lift_ci[1] <= m) {
    return {
      verdict: 'no_difference',
      note: `the interval of the ${words.label} change lies within ±${percent(m)}`,
    };
  }
  if (e.p_adjusted < 1 - DIRECTIONAL_CONFIDENCE) {
    return {
      verdict: 'directional',
      note: `significant at ${percent(DIRECTIONAL_CONFIDENCE)} but not at ${percent(o.confidence)} confidence`,
    };
  }
  return { verdict: 'inconclusive', note: null };
}

/** +12%, -3.4%: whole percent from 10% up, one decimal below. */
function signedPercent(x: number): string {
  const v = Math.abs(x) * 100;
  const text = v >= 10 ? `${Math.round(v)}` : `${Math.round(v * 10) / 10}`;
  return `${x < 0 && text !== '0' ? '-' : '+'}${text}%`;
}

export function dimensionSummary(
  levels: {
    label: string;
    reference: boolean;
    verdict: Verdict;
    lift: number | null;
    lift_ci: [number, number] | null;
  }[],
  o: VerdictOptions & { saturated: boolean },
): string {
  const ref = levels.find((l) => l.reference);
  if (!ref) return 'No levels.';
  const metric = METRIC_WORDS[o.metric].label;
  const others = levels.filter((l) => !l.reference);
  const ci = (l: (typeof levels)[number]) =>
    l.lift_ci
      ? `${percent(o.confidence)} CI ${signedPercent(l.lift_ci[0])} to ${signedPercent(l.lift_ci[1])} (${o.adjust === 'holm' ? 'Holm' : 'BH'}-adjusted)`
      : 'no interval';
  const claim = (l: (typeof levels)[number], win: string, lose: string) =>
    `${l.lift! >= 0 ? `${l.label} ${win} ${ref.label}` : `${l.label} ${lose} ${ref.label}`}: ${signedPercent(l.lift!)} ${metric}, ${ci(l)}`;
  const strongest = (v: Verdict) =>
    others
      .filter((l) => l.verdict === v && l.lift !== null)
      .sort((a, b) => b.lift! - a.lift!)
      .find((l, i, all) => l.lift! > 0 || i === all.length - 1);
  const conclusive = strongest('conclusive');
  if (conclusive) {
    const more = others.filter((l) => l.verdict === 'conclusive').length - 1;
    return `${claim(conclusive, 'beats', 'trails')}${more > 0 ? ` (${more} more level${more === 1 ? '' : 's'} conclusive)` : ''}.`;
  }
  if (others.length === 0) return `Only the reference level, ${ref.label}.`;
  if (others.every((l) => l.verdict === 'insufficient_data')) {
    return `Not enough data yet to compare with ${ref.label}.`;
  }
  if (o.saturated) return `No verdict: ${SATURATED}.`;
  const directional = strongest('directional');
  if (directional) {
    return `${claim(directional, 'leans ahead of', 'leans behind')}; not conclusive at ${percent(o.confidence)}.`;
  }
  const tested = others.filter((l) => l.verdict !== 'insufficient_data');
  if (tested.every((l) => l.verdict === 'no_difference')) {
    return `No level differs from ${ref.label} by more than ±${percent(o.equivalenceMargin)} ${metric} (${percent(o.confidence)} CI).`;
  }
  return `No level is distinguishable from ${ref.label} in ${metric} yet at ${percent(o.confidence)} confidence.`;
}
