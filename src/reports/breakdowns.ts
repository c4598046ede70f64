/**
 * Per level, impressions, clicks and CTR by date and by platform: where a level's numbers come
 * from, to read beside the model's strata. Bounded so a long campaign with many levels does not
 * make the report huge: the most recent dates up to MAX_DATES and MAX_CELLS level × date rows
 * over the whole report, the largest MAX_PLATFORMS platforms; `breakdowns` in the report says
 * what was left out.
 */
import type { Collected } from './collect.ts';
import type { ReportDimension } from './dimensions.ts';
import { ratio } from './numbers.ts';
import { isoDay } from './strata.ts';

const MAX_DATES = 92;
const MAX_CELLS = 20_000;
const MAX_PLATFORMS = 20;

interface BreakdownRow {
  impressions: number;
  clicks: number;
  ctr: number | null;
}

export interface LevelBreakdown {
  by_date: (BreakdownRow & { date: string })[];
  by_platform: (BreakdownRow & { platform: string })[];
}

export interface BreakdownsSummary {
  /** Dates with metrics; null when the campaign was too large to read day by day. */
  dates: number | null;
  dates_shown: number;
  platforms: number;
  platforms_shown: number;
  note: string | null;
}

const row = ([impressions, clicks]: [number, number]): BreakdownRow => ({
  impressions,
  clicks,
  ctr: ratio(clicks, impressions),
});

export function levelBreakdowns(
  c: Collected,
  dims: readonly ReportDimension[],
): { levels: LevelBreakdown[][]; summary: BreakdownsSummary } {
  // Every variant counts once per dimension, so the first dimension's levels hold all totals.
  const days = new Set<number>();
  const platformImpressions = new Map<number, number>();
  for (const byDay of c.levelDays[0] ?? []) for (const d of byDay.keys()) days.add(d);
  for (const byPlatform of c.levelPlatforms[0] ?? []) {
    for (const [p, [n]] of byPlatform)
      platformImpressions.set(p, (platformImpressions.get(p) ?? 0) + n);
  }
  const levels = dims.reduce((s, d) => s + d.levels.length, 0);
  const keepDates = Math.min(MAX_DATES, Math.floor(MAX_CELLS / Math.max(1, levels)));
  const shownDays = [...days].sort((a, b) => a - b).slice(-keepDates);
  const shownPlatforms = [...platformImpressions]
    .sort((a, b) => b[1] - a[1] || (c.platforms[a[0]]! < c.platforms[b[0]]! ? -1 : 1))
    .slice(0, MAX_PLATFORMS)
    .map(([p]) => p);
  const notes: string[] = [];
  if (c.undated) notes.push('no dates: the campaign was too large to read day by day');
  if (shownDays.length < days.size) {
    notes.push(`the latest ${shownDays.length} of ${days.size} dates`);
  }
  if (shownPlatforms.length < platformImpressions.size) {
    notes.push(
      `the ${shownPlatforms.length} platforms with most impressions of ${platformImpressions.size}`,
    );
  }
  return {
    levels: dims.map((dim, d) =>
      dim.levels.map((_, l): LevelBreakdown => {
        const byDay = c.levelDays[d]?.[l];
        const byPlatform = c.levelPlatforms[d]?.[l];
        return {
          by_date: shownDays.flatMap((day) => {
            const pair = byDay?.get(day);
            return pair ? [{ date: isoDay(day), ...row(pair) }] : [];
          }),
          by_platform: shownPlatforms.flatMap((p) => {
            const pair = byPlatform?.get(p);
            return pair ? [{ platform: c.platforms[p]!, ...row(pair) }] : [];
          }),
        };
      }),
    ),
    summary: {
      dates: c.undated ? null : days.size,
      dates_shown: shownDays.length,
      platforms: platformImpressions.size,
      platforms_shown: shownPlatforms.length,
      note: notes.length ? `Breakdowns show ${notes.join('; ')}.` : null,
    },
  };
}
