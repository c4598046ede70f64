import type { RateSpreads } from './rate-spread.ts';
import {
  normalQuantile,
  ratioInterval,
  studentQuantileTwoSided,
  wilson,
  Z_95,
} from './stats/index.ts';

/** JSON has no NaN or Infinity; an interval bound that overflowed is "unknown", not a number. */
export function finite(x: number | null | undefined): number | null {
  return x !== null && x !== undefined && Number.isFinite(x) ? x : null;
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/** Money to the cent-hundredth the database stores (numeric(…, 4)); sums of float8 drift below that. */
export function usd(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

export interface Performance {
  impressions: number;
  clicks: number;
  ctr: number | null;
  /**
   * Wilson interval of the CTR, widened by the between-variant dispersion for a level and for
   * the campaign summary (rate-spread.ts), not for one variant; null without impressions.
   */
  ctr_ci: [number, number] | null;
  conversions: number;
  /** Conversions per click; can exceed 1 where platforms count view-through conversions. */
  cvr: number | null;
  /** Wilson interval; null without clicks or when conversions exceed clicks. */
  cvr_ci: [number, number] | null;
  spend_usd: number;
  /** Spend per conversion. */
  cpa: number | null;
  cpa_ci: [number, number] | null;
  video_views: number;
  /** Video views per impression. */
  view_rate: number | null;
  view_rate_ci: [number, number] | null;
  revenue_usd: number;
  /** Revenue per dollar of spend. */
  roas: number | null;
  roas_ci: [number, number] | null;
}

/**
 * Second moments over the units a money ratio's spread is measured on (a variant's metric rows,
 * or a level's variants): what the delta-method intervals of CPA and ROAS need.
 */
export interface MoneyMoments {
  units: number;
  spend2: number;
  conversions2: number;
  revenue2: number;
  spendConversions: number;
  revenueSpend: number;
}

/** No units: no CPA or ROAS interval. */
export const NO_MOMENTS: Readonly<MoneyMoments> = {
  units: 0,
  spend2: 0,
  conversions2: 0,
  revenue2: 0,
  spendConversions: 0,
  revenueSpend: 0,
};

interface Totals {
  impressions: number;
  clicks: number;
  conversions: number;
  spendUsd: number;
  videoViews: number;
  revenueUsd: number;
}

/** Wilson when the counts are a proportion; views or conversions beyond their base are not. */
function proportionCi(x: number, n: number, z: number): [number, number] | null {
  return n > 0 && x >= 0 && x <= n ? wilson(x, n, z) : null;
}

/**
 * The Wilson quantile for one rate: z without a dispersion estimate; with one, t on its df times
 * √scale, which is Wilson on the effective sample size n/scale (rate-spread.ts says why).
 */
function rateQuantile(
  spread: RateSpreads[keyof RateSpreads] | undefined,
  z: number,
  confidence: number,
): number {
  return spread
    ? studentQuantileTwoSided(1 - confidence, spread.residual_df) * Math.sqrt(spread.scale)
    : z;
}

const usdCi = (ci: [number, number] | null): [number, number] | null =>
  ci && [usd(ci[0]), usd(ci[1])];

export function performance(
  p: Totals,
  moments: MoneyMoments | null,
  confidence = 0.95,
  spreads: RateSpreads | null = null,
): Performance {
  const z = confidence === 0.95 ? Z_95 : normalQuantile(0.5 + confidence / 2);
  const q = (metric: keyof RateSpreads) => rateQuantile(spreads?.[metric], z, confidence);
  const cpa = ratio(p.spendUsd, p.conversions);
  const m = moments ?? NO_MOMENTS;
  const cpaCi = ratioInterval(
    {
      units: m.units,
      x: p.conversions,
      y: p.spendUsd,
      xx: m.conversions2,
      xy: m.spendConversions,
      yy: m.spend2,
    },
    confidence,
  );
  const roasCi = ratioInterval(
    {
      units: m.units,
      x: p.spendUsd,
      y: p.revenueUsd,
      xx: m.spend2,
      xy: m.revenueSpend,
      yy: m.revenue2,
    },
    confidence,
  );
  return {
    impressions: p.impressions,
    clicks: p.clicks,
    ctr: ratio(p.clicks, p.impressions),
    ctr_ci: proportionCi(p.clicks, p.impressions, q('ctr')),
    conversions: p.conversions,
    cvr: ratio(p.conversions, p.clicks),
    cvr_ci: proportionCi(p.conversions, p.clicks, q('cvr')),
    spend_usd: usd(p.spendUsd),
    cpa: cpa === null ? null : usd(cpa),
    cpa_ci: usdCi(cpaCi),
    video_views: p.videoViews,
    view_rate: ratio(p.videoViews, p.impressions),
    view_rate_ci: proportionCi(p.videoViews, p.impressions, q('view_rate')),
    revenue_usd: usd(p.revenueUsd),
    roas: ratio(p.revenueUsd, p.spendUsd),
    roas_ci: roasCi,
  };
}

/** The columns every tabular export shares, after the id, status and level columns. */
export const PERFORMANCE_COLUMNS = [
  'deliveries',
  'impressions',
  'clicks',
  'ctr',
  'ctr_low',
  'ctr_high',
  'conversions',
  'cvr',
  'spend_usd',
  'cpa',
  'video_views',
  'view_rate',
  'view_rate_low',
  'view_rate_high',
  'cvr_low',
  'cvr_high',
  'cpa_low',
  'cpa_high',
  'revenue_usd',
  'roas',
  'roas_low',
  'roas_high',
] as const;

export function performanceCells(deliveries: number, p: Performance): (number | null)[] {
  return [
    deliveries,
    p.impressions,
    p.clicks,
    p.ctr,
    p.ctr_ci?.[0] ?? null,
    p.ctr_ci?.[1] ?? null,
    p.conversions,
    p.cvr,
    p.spend_usd,
    p.cpa,
    p.video_views,
    p.view_rate,
    p.view_rate_ci?.[0] ?? null,
    p.view_rate_ci?.[1] ?? null,
    p.cvr_ci?.[0] ?? null,
    p.cvr_ci?.[1] ?? null,
    p.cpa_ci?.[0] ?? null,
    p.cpa_ci?.[1] ?? null,
    p.revenue_usd,
    p.roas,
    p.roas_ci?.[0] ?? null,
    p.roas_ci?.[1] ?? null,
  ];
}

/** The platform flags a campaign tool copies into each upload's AI label, last in a row. */
export const AI_COLUMNS = ['ai_generated', 'digital_source_type'] as const;

/**
 * Header names for the level columns: the dimension key, unless it collides with a fixed
 * column (a dimension called "clicks"), then prefixed with "level_".
 */
export function levelColumnNames(
  keys: readonly string[],
  reserved: readonly string[] = [],
): string[] {
  const fixed = new Set<string>([
    'variant_id',
    'status',
    ...PERFORMANCE_COLUMNS,
    ...AI_COLUMNS,
    ...reserved,
  ]);
  return keys.map((k) => (fixed.has(k) ? `level_${k}` : k));
}
