/**
 * Folds the aggregation's rows into what the report shows, in one pass. Per-variant numbers are
 * kept as columns (one array per field, levels as indices), not as row objects: 100,000
 * variants take about ten megabytes and are written out from here by every format.
 */

import type { VariantStatus } from '../db/schema.ts';
import { aiDisclosure } from '../provenance/manifest.ts';
import { renderedStatuses } from '../variants/lifecycle.ts';
import { levelOf, type ReportDimension } from './dimensions.ts';
import { type ModelledMetric, outcome } from './metric.ts';
import type { VariantAggregate } from './repository.ts';

const RENDERED: ReadonlySet<VariantStatus> = new Set(renderedStatuses);

interface LevelTotals {
  variants: number[];
  ready: number[];
  delivered: number[];
  impressions: number[];
  clicks: number[];
  conversions: number[];
  videoViews: number[];
  spendUsd: number[];
  revenueUsd: number[];
  /** The modelled metric's successes and trials. */
  successes: number[];
  trials: number[];
  /**
   * Variants with metric rows and the second moments of their spend, conversions and revenue
   * totals: a level's CPA and ROAS intervals take its variants as units, so the variation
   * between variants (which persists from day to day) is in them.
   */
  units: number[];
  spend2: number[];
  conversions2: number[];
  revenue2: number[];
  spendConversions: number[];
  revenueSpend: number[];
}

export interface Collected {
  count: number;
  ids: string[];
  statuses: VariantStatus[];
  /** IPTC digital source type per variant (provenance/manifest.ts aiDisclosure). */
  sourceTypes: string[];
  /** Level index per variant and dimension, row-major (count × dimensions); −1 = none. */
  levels: number[];
  impressions: number[];
  clicks: number[];
  conversions: number[];
  spendUsd: number[];
  videoViews: number[];
  revenueUsd: number[];
  /** Metric rows per variant and their second moments (VariantAggregate). */
  metricRows: number[];
  spend2: number[];
  conversions2: number[];
  revenue2: number[];
  spendConversions: number[];
  revenueSpend: number[];
  /** The modelled metric's successes and trials per variant. */
  successes: number[];
  trials: number[];
  deliveries: number[];
  byStatus: Map<VariantStatus, number>;
  estimatedUsd: number;
  actualUsd: number;
  renderSeconds: number[];
  failures: Map<string, number>;
  rendered: number;
  reviewed: number;
  /** Rendered and not rejected: what could be delivered. */
  eligible: number;
  delivered: number;
  byDestination: Map<string, number>;
  perLevel: LevelTotals[];
  /**
   * Per variant, its (platform, impressions, trials, successes) quadruples flattened, platform
   * as an index into `platforms`, trials and successes of the modelled metric; null when all
   * its metrics have the empty platform.
   */
  cells: (number[] | null)[];
  platforms: string[];
  /**
   * Per variant, its (platform, day, impressions, trials, successes) quintuples flattened when
   * the aggregation read metric rows one by one (repository.ts MAX_DAY_CELLS); else null.
   */
  dayCells: (number[] | null)[];
  /** Whether the rows were read one by one: dates are known. */
  daily: boolean;
  /** Some variant's metric rows came as totals only (a campaign past MAX_DAY_CELLS rows). */
  undated: boolean;
  /**
   * Impressions and clicks per dimension, level and platform index (`platforms`), and per day
   * when `daily`: the breakdowns. Keyed maps, so only what occurs is held.
   */
  levelPlatforms: Map<number, [number, number]>[][];
  levelDays: Map<number, [number, number]>[][];
}

export function createCollector(dims: ReportDimension[], metric: ModelledMetric = 'ctr') {
  const D = dims.length;
  const c: Collected = {
    count: 0,
    ids: [],
    statuses: [],
    sourceTypes: [],
    levels: [],
    impressions: [],
    clicks: [],
    conversions: [],
    spendUsd: [],
    videoViews: [],
    revenueUsd: [],
    metricRows: [],
    spend2: [],
    conversions2: [],
    revenue2: [],
    spendConversions: [],
    revenueSpend: [],
    successes: [],
    trials: [],
    deliveries: [],
    byStatus: new Map(),
    estimatedUsd: 0,
    actualUsd: 0,
    renderSeconds: [],
    failures: new Map(),
    rendered: 0,
    reviewed: 0,
    eligible: 0,
    delivered: 0,
    byDestination: new Map(),
    cells: [],
    platforms: [],
    dayCells: [],
    daily: false,
    undated: false,
    levelPlatforms: dims.map((d) => d.levels.map(() => new Map())),
    levelDays: dims.map((d) => d.levels.map(() => new Map())),
    perLevel: dims.map(() => ({
      variants: [],
      ready: [],
      delivered: [],
      impressions: [],
      clicks: [],
      conversions: [],
      videoViews: [],
      spendUsd: [],
      revenueUsd: [],
      successes: [],
      trials: [],
      units: [],
      spend2: [],
      conversions2: [],
      revenue2: [],
      spendConversions: [],
      revenueSpend: [],
    })),
  };
  const platformIndex = new Map<string, number>();
  const platformOf = (name: string) => {
    let i = platformIndex.get(name);
    if (i === undefined) {
      i = c.platforms.length;
      platformIndex.set(name, i);
      c.platforms.push(name);
    }
    return i;
  };
  const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
  const bumpPair = (map: Map<number, [number, number]>, key: number, a: number, b: number) => {
    const pair = map.get(key);
    if (pair) {
      pair[0] += a;
      pair[1] += b;
    } else map.set(key, [a, b]);
  };
  const add = (list: number[], i: number, by: number) => {
    list[i] = (list[i] ?? 0) + by;
  };

  function addRow(v: VariantAggregate): void {
    c.count++;
    c.ids.push(v.id);
    c.statuses.push(v.status);
    c.sourceTypes.push(aiDisclosure(v).digital_source_type);
    c.impressions.push(v.impressions);
    c.clicks.push(v.clicks);
    c.conversions.push(v.conversions);
    c.spendUsd.push(v.spend_usd);
    c.videoViews.push(v.video_views);
    c.revenueUsd.push(v.revenue_usd);
    c.metricRows.push(v.metric_rows);
    c.spend2.push(v.spend2);
    c.conversions2.push(v.conversions2);
    c.revenue2.push(v.revenue2);
    c.spendConversions.push(v.spend_conversions);
    c.revenueSpend.push(v.revenue_spend);
    const y = outcome(metric, {
      impressions: v.impressions,
      clicks: v.clicks,
      conversions: v.conversions,
      videoViews: v.video_views,
    });
    c.successes.push(y.successes);
    c.trials.push(y.trials);
    c.deliveries.push(v.deliveries);
    if (v.platforms && v.platform_impressions && v.platform_clicks) {
      const cells: number[] = [];
      v.platforms.forEach((name, k) => {
        const impressions = v.platform_impressions![k]!;
        const cell = outcome(metric, {
          impressions,
          clicks: v.platform_clicks![k]!,
          conversions: v.platform_conversions?.[k] ?? 0,
          videoViews: v.platform_video_views?.[k] ?? 0,
        });
        cells.push(platformOf(name), impressions, cell.trials, cell.successes);
      });
      c.cells.push(cells);
    } else {
      if (v.impressions > 0) platformOf('');
      c.cells.push(null);
    }
    let days: number[] | null = null;
    if (v.cell_days && v.cell_platforms && v.cell_impressions && v.cell_clicks) {
      c.daily = true;
      days = [];
      for (let k = 0; k < v.cell_days.length; k++) {
        const impressions = v.cell_impressions[k]!;
        const cell = outcome(metric, {
          impressions,
          clicks: v.cell_clicks[k]!,
          conversions: v.cell_conversions?.[k] ?? 0,
          videoViews: v.cell_video_views?.[k] ?? 0,
        });
        days.push(
          platformOf(v.cell_platforms[k]!),
          v.cell_days[k]!,
          impressions,
          cell.trials,
          cell.successes,
        );
      }
    }
    c.dayCells.push(days);
    if (!days && v.metric_rows > 0) c.undated = true;
    bump(c.byStatus, v.status);
    c.estimatedUsd += v.cost_usd;
    c.actualUsd += v.actual_cost_usd;
    if (v.error_code && (v.status === 'failed' || v.status === 'blocked')) {
      bump(c.failures, v.error_code);
    }
    const rendered = RENDERED.has(v.status);
    const delivered = v.deliveries > 0 || v.status === 'delivered';
    if (rendered) {
      c.rendered++;
      if (v.render_s !== null && v.render_s >= 0) c.renderSeconds.push(v.render_s);
      if (v.reviewed || v.status === 'approved' || v.status === 'rejected') c.reviewed++;
      if (v.status !== 'rejected') {
        c.eligible++;
        if (delivered) c.delivered++;
        for (const d of v.destinations ?? []) bump(c.byDestination, d);
      }
    }
    for (let d = 0; d < D; d++) {
      const l = levelOf(dims[d]!, v.levels);
      c.levels.push(l);
      if (l < 0) continue;
      const t = c.perLevel[d]!;
      add(t.variants, l, 1);
      add(t.ready, l, rendered ? 1 : 0);
      add(t.delivered, l, delivered ? 1 : 0);
      add(t.impressions, l, v.impressions);
      add(t.clicks, l, v.clicks);
      add(t.conversions, l, v.conversions);
      add(t.videoViews, l, v.video_views);
      add(t.spendUsd, l, v.spend_usd);
      add(t.revenueUsd, l, v.revenue_usd);
      add(t.successes, l, y.successes);
      add(t.trials, l, y.trials);
      const unit = v.metric_rows > 0 ? 1 : 0;
      add(t.units, l, unit);
      add(t.spend2, l, unit * v.spend_usd ** 2);
      add(t.conversions2, l, unit * v.conversions ** 2);
      add(t.revenue2, l, unit * v.revenue_usd ** 2);
      add(t.spendConversions, l, unit * v.spend_usd * v.conversions);
      add(t.revenueSpend, l, unit * v.revenue_usd * v.spend_usd);
      const byPlatform = c.levelPlatforms[d]![l]!;
      if (v.platforms && v.platform_impressions && v.platform_clicks) {
        v.platforms.forEach((name, k) => {
          bumpPair(
            byPlatform,
            platformOf(name),
            v.platform_impressions![k]!,
            v.platform_clicks![k]!,
          );
        });
      } else if (v.impressions > 0) {
        bumpPair(byPlatform, platformOf(''), v.impressions, v.clicks);
      }
      if (days) {
        const byDay = c.levelDays[d]![l]!;
        for (let k = 0; k < days.length; k += 5) {
          bumpPair(byDay, days[k + 1]!, days[k + 2]!, v.cell_clicks![k / 5]!);
        }
      }
    }
  }

  return {
    add(rows: readonly VariantAggregate[]) {
      for (const row of rows) addRow(row);
    },
    finish(): Collected {
      // Levels appended while reading (none in practice) get zero totals, not holes.
      dims.forEach((dim, d) => {
        const t = c.perLevel[d]!;
        for (const list of Object.values(t) as number[][]) {
          for (let l = 0; l < dim.levels.length; l++) list[l] ??= 0;
        }
      });
      return c;
    },
  };
}

/** Linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(sorted: Float64Array, q: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
