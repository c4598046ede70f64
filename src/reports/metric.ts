/**
 * The outcome the report's model explains: successes out of trials of one of three rates. The
 * binomial needs successes ≤ trials, which conversions (view-through) and video views (counted
 * by the platform, not per impression) do not always keep; such variants are left out of the fit.
 */
export type ModelledMetric = 'ctr' | 'cvr' | 'view_rate';

interface Counts {
  impressions: number;
  clicks: number;
  conversions: number;
  videoViews: number;
}

export const METRIC_WORDS: Record<
  ModelledMetric,
  { label: string; successes: string; trials: string }
> = {
  ctr: { label: 'CTR', successes: 'clicks', trials: 'impressions' },
  cvr: { label: 'CVR', successes: 'conversions', trials: 'clicks' },
  view_rate: { label: 'view rate', successes: 'video_views', trials: 'impressions' },
};

export function outcome(metric: ModelledMetric, c: Counts): { successes: number; trials: number } {
  switch (metric) {
    case 'ctr':
      return { successes: c.clicks, trials: c.impressions };
    case 'cvr':
      return { successes: c.conversions, trials: c.clicks };
    case 'view_rate':
      return { successes: c.videoViews, trials: c.impressions };
  }
}
