import { wilson } from './stats/index.ts';

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
  /** 95% Wilson interval of the CTR; null without impressions. */
  ctr_ci: [number, number] | null;
  conversions: number;
  /** Conversions per click; can exceed 1 where platforms count view-through conversions. */
  cvr: number | null;
  spend_usd: number;
  /** Spend per conversion. */
  cpa: number | null;
  video_views: number;
}

export function performance(p: {
  impressions: number;
  clicks: number;
  conversions: number;
  spendUsd: number;
  videoViews: number;
}): Performance {
  const cpa = ratio(p.spendUsd, p.conversions);
  return {
    impressions: p.impressions,
    clicks: p.clicks,
    ctr: ratio(p.clicks, p.impressions),
    ctr_ci: wilson(p.clicks, p.impressions),
    conversions: p.conversions,
    cvr: ratio(p.conversions, p.clicks),
    spend_usd: usd(p.spendUsd),
    cpa: cpa === null ? null : usd(cpa),
    video_views: p.videoViews,
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
  ];
}

/**
 * Header names for the level columns: the dimension key, unless it collides with a fixed
 * column (a dimension called "clicks"), then prefixed with "level_".
 */
export function levelColumnNames(keys: readonly string[]): string[] {
  const fixed = new Set<string>(['variant_id', 'status', ...PERFORMANCE_COLUMNS]);
  return keys.map((k) => (fixed.has(k) ? `level_${k}` : k));
}
