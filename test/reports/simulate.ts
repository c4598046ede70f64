/**
 * Simulated campaigns for the report's analysis, in-process: a design (by default the full
 * factorial) of variants whose CTR follows a main-effects logit model plus a per-variant
 * deviation of its own (overdispersion between variants), optionally split over platforms,
 * collected as the report collects the aggregation's rows. Seeded: the same seed gives the same
 * campaign.
 */
import { type AnalysisOptions, analyse } from '../../src/reports/analysis.ts';
import { type Collected, createCollector } from '../../src/reports/collect.ts';
import type { ReportDimension } from '../../src/reports/dimensions.ts';
import type { ModelledMetric } from '../../src/reports/metric.ts';
import type { VariantAggregate } from '../../src/reports/repository.ts';

/** sfc32 (Doty-Humphrey) with Box–Muller: independent of the engine's own generator. */
export function rng(seed: number) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return {
    uniform: next,
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

export function dimensions(levels: readonly number[]): ReportDimension[] {
  return levels.map((n, d) => {
    const keys = Array.from({ length: n }, (_, l) => `d${d}l${l}`);
    return {
      key: `d${d}`,
      label: `d${d}`,
      levels: keys,
      labels: keys,
      index: new Map(keys.map((k, l) => [k, l])),
    };
  });
}

/** Every combination of the level counts, first dimension slowest. */
export function fullFactorial(levels: readonly number[]): number[][] {
  return levels.reduce<number[][]>(
    (acc, n) => acc.flatMap((row) => Array.from({ length: n }, (_, l) => [...row, l])),
    [[]],
  );
}

export interface Scenario {
  levels: readonly number[];
  /** The design's level combinations; the full factorial when absent. */
  combos?: number[][];
  impressions: number;
  baseCtr: number;
  /** SD of each variant's own logit deviation. */
  variantSd: number;
  /** Log odds ratio per [dimension][level] (missing = 0). */
  effects?: number[][];
  /** Platforms: logit shift of each and, per variant, the share of its impressions on each. */
  platforms?: { names: string[]; shift: number[]; share: (levels: readonly number[]) => number[] };
  /**
   * Days (from 2025-01-01): logit shift of each and, per variant, the share of its impressions
   * on each. With days the variant's metric rows come one by one, as for a small campaign.
   */
  days?: { shift: number[]; share: (levels: readonly number[]) => number[] };
  /**
   * Conversions out of clicks (not with days): base CVR, log odds ratios per [dimension][level],
   * and a per-variant logit deviation of variantSd of their own.
   */
  conversions?: { baseCvr: number; effects?: number[][] };
}

const DAY0 = (Date.UTC(2025, 0, 1) - Date.UTC(2000, 0, 1)) / 86_400_000;

/** Binomial draw by the normal approximation (n·p ≥ 1000 here), rounded into [0, n]. */
function binomial(r: ReturnType<typeof rng>, n: number, p: number): number {
  const x = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * r.normal());
  return Math.min(n, Math.max(0, x));
}

export function simulate(
  s: Scenario,
  seed: number,
  metric: ModelledMetric = 'ctr',
): { collected: Collected; dims: ReportDimension[]; combos: number[][] } {
  const r = rng(seed);
  const dims = dimensions(s.levels);
  const combos = s.combos ?? fullFactorial(s.levels);
  const collector = createCollector(dims, metric);
  const base = Math.log(s.baseCtr / (1 - s.baseCtr));
  const rows: VariantAggregate[] = combos.map((combo, v) => {
    const eta =
      base +
      combo.reduce((sum, l, d) => sum + (s.effects?.[d]?.[l] ?? 0), 0) +
      s.variantSd * r.normal();
    const daily = s.days
      ? (s.platforms?.share(combo) ?? [1]).flatMap((pShare, k) =>
          s.days!.share(combo).map((dShare, day) => {
            const n = Math.round(s.impressions * pShare * dShare);
            const shift = (s.platforms?.shift[k] ?? 0) + s.days!.shift[day]!;
            return { k, day, n, x: binomial(r, n, 1 / (1 + Math.exp(-(eta + shift)))) };
          }),
        )
      : null;
    const cells = daily
      ? (s.platforms?.names ?? ['']).map((_, k) => ({
          n: daily.filter((c) => c.k === k).reduce((a, c) => a + c.n, 0),
          x: daily.filter((c) => c.k === k).reduce((a, c) => a + c.x, 0),
        }))
      : s.platforms
        ? s.platforms.share(combo).map((share, k) => {
            const n = Math.round(s.impressions * share);
            return { n, x: binomial(r, n, 1 / (1 + Math.exp(-(eta + s.platforms!.shift[k]!)))) };
          })
        : [{ n: s.impressions, x: binomial(r, s.impressions, 1 / (1 + Math.exp(-eta))) }];
    const impressions = cells.reduce((a, c) => a + c.n, 0);
    const clicks = cells.reduce((a, c) => a + c.x, 0);
    // Drawn after the clicks, so scenarios without conversions keep their numbers.
    const cvr = s.conversions;
    const convEta = cvr
      ? Math.log(cvr.baseCvr / (1 - cvr.baseCvr)) +
        combo.reduce((sum, l, d) => sum + (cvr.effects?.[d]?.[l] ?? 0), 0) +
        s.variantSd * r.normal()
      : 0;
    const converted = cells.map((c) => (cvr ? binomial(r, c.x, 1 / (1 + Math.exp(-convEta))) : 0));
    return {
      id: `var_${seed}_${v}`,
      levels: Object.fromEntries(combo.map((l, d) => [dims[d]!.key, dims[d]!.levels[l]!])),
      status: 'delivered',
      provider: 'openai',
      digital_source_type: null,
      cost_usd: 0,
      actual_cost_usd: 0,
      render_s: null,
      error_code: null,
      reviewed: false,
      impressions,
      clicks,
      conversions: converted.reduce((a, b) => a + b, 0),
      spend_usd: 0,
      video_views: 0,
      revenue_usd: 0,
      metric_rows: daily ? daily.length : cells.length,
      spend2: 0,
      conversions2: 0,
      revenue2: 0,
      spend_conversions: 0,
      revenue_spend: 0,
      deliveries: 1,
      destinations: null,
      platforms: s.platforms ? s.platforms.names : null,
      platform_impressions: s.platforms ? cells.map((c) => c.n) : null,
      platform_clicks: s.platforms ? cells.map((c) => c.x) : null,
      platform_conversions: s.platforms ? converted : null,
      platform_video_views: s.platforms ? cells.map(() => 0) : null,
      cell_platforms: daily ? daily.map((c) => s.platforms?.names[c.k] ?? '') : null,
      cell_days: daily ? daily.map((c) => DAY0 + c.day) : null,
      cell_impressions: daily ? daily.map((c) => c.n) : null,
      cell_clicks: daily ? daily.map((c) => c.x) : null,
      cell_conversions: daily ? daily.map(() => 0) : null,
      cell_video_views: daily ? daily.map(() => 0) : null,
    };
  });
  collector.add(rows);
  return { collected: collector.finish(), dims, combos };
}

export const DEFAULTS: AnalysisOptions = {
  minImpressions: 1000,
  minClicks: 10,
  confidence: 0.95,
  adjust: 'holm',
  equivalenceMargin: 0.05,
  metric: 'ctr',
};

export function report(s: Scenario, seed: number, o: Partial<AnalysisOptions> = {}) {
  const { collected, dims } = simulate(s, seed, o.metric);
  return analyse(collected, dims, { ...DEFAULTS, ...o });
}
