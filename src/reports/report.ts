/** The report's sections, assembled from the collected columns and the analysis. */

import { variantStatuses } from '../db/schema.ts';
import { isAiGenerated } from '../provenance/manifest.ts';
import type { DimensionReport, ModelReport } from './analysis.ts';
import type { BreakdownsSummary } from './breakdowns.ts';
import { type Collected, quantile } from './collect.ts';
import type { ReportDimension } from './dimensions.ts';
import {
  type MoneyMoments,
  NO_MOMENTS,
  type Performance,
  performance,
  ratio,
  usd,
} from './numbers.ts';

export interface ReportHead {
  campaign_id: string;
  campaign_name: string;
  run_id: string | null;
  generated_at: string;
  summary: Performance & { variants: number; variants_with_impressions: number };
  by_status: Record<string, number>;
  operations: {
    cost: { estimated_usd: number; actual_usd: number };
    render_time_s: { count: number; p50: number | null; p90: number | null };
    failures: { code: string; count: number }[];
    review: { rendered: number; reviewed: number; coverage: number | null };
    delivery: {
      eligible: number;
      delivered: number;
      coverage: number | null;
      by_destination: { destination: string; variants: number; coverage: number | null }[];
    };
  };
  by_dimension: DimensionReport[];
  breakdowns: BreakdownsSummary;
  model: ModelReport;
}

interface VariantReport extends Performance {
  id: string;
  levels: Record<string, string>;
  status: string;
  deliveries: number;
  ai_generated: boolean;
  digital_source_type: string;
}

export function reportHead(p: {
  campaign: { id: string; name: string };
  runId: string | null;
  generatedAt: Date;
  collected: Collected;
  analysis: { by_dimension: DimensionReport[]; model: ModelReport; breakdowns: BreakdownsSummary };
}): ReportHead {
  const c = p.collected;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const renders = Float64Array.from(c.renderSeconds).sort();
  return {
    campaign_id: p.campaign.id,
    campaign_name: p.campaign.name,
    run_id: p.runId,
    generated_at: p.generatedAt.toISOString(),
    summary: {
      variants: c.count,
      variants_with_impressions: c.impressions.filter((x) => x > 0).length,
      ...performance(
        {
          impressions: sum(c.impressions),
          clicks: sum(c.clicks),
          conversions: sum(c.conversions),
          spendUsd: sum(c.spendUsd),
          videoViews: sum(c.videoViews),
          revenueUsd: sum(c.revenueUsd),
        },
        variantMoments(c),
        0.95,
        // The campaign total sums variants that differ beyond binomial noise as a level's does.
        p.analysis.model.rate_scales,
      ),
    },
    by_status: Object.fromEntries(variantStatuses.map((s) => [s, c.byStatus.get(s) ?? 0])),
    operations: {
      cost: { estimated_usd: usd(c.estimatedUsd), actual_usd: usd(c.actualUsd) },
      render_time_s: {
        count: renders.length,
        p50: quantile(renders, 0.5),
        p90: quantile(renders, 0.9),
      },
      failures: [...c.failures]
        .map(([code, count]) => ({ code, count }))
        .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)),
      review: {
        rendered: c.rendered,
        reviewed: c.reviewed,
        coverage: ratio(c.reviewed, c.rendered),
      },
      delivery: {
        eligible: c.eligible,
        delivered: c.delivered,
        coverage: ratio(c.delivered, c.eligible),
        by_destination: [...c.byDestination]
          .map(([destination, variants]) => ({
            destination,
            variants,
            coverage: ratio(variants, c.eligible),
          }))
          .sort((a, b) => b.variants - a.variants || (a.destination < b.destination ? -1 : 1)),
      },
    },
    by_dimension: p.analysis.by_dimension,
    breakdowns: p.analysis.breakdowns,
    model: p.analysis.model,
  };
}

/** The campaign's CPA and ROAS spread, variants (those with metric rows) as units. */
function variantMoments(c: Collected): MoneyMoments {
  const m = { ...NO_MOMENTS };
  for (let i = 0; i < c.count; i++) {
    if (!(c.metricRows[i]! > 0)) continue;
    const [s, x, r] = [c.spendUsd[i]!, c.conversions[i]!, c.revenueUsd[i]!];
    m.units++;
    m.spend2 += s * s;
    m.conversions2 += x * x;
    m.revenue2 += r * r;
    m.spendConversions += s * x;
    m.revenueSpend += r * s;
  }
  return m;
}

/** Level keys of variant i, by dimension key; dimensions it lacks are left out. */
function levelsAt(c: Collected, dims: ReportDimension[], i: number): Record<string, string> {
  const D = dims.length;
  const levels: Record<string, string> = {};
  for (let d = 0; d < D; d++) {
    const l = c.levels[i * D + d]!;
    if (l >= 0) levels[dims[d]!.key] = dims[d]!.levels[l]!;
  }
  return levels;
}

export function variantAt(c: Collected, dims: ReportDimension[], i: number): VariantReport {
  return {
    id: c.ids[i]!,
    levels: levelsAt(c, dims, i),
    status: c.statuses[i]!,
    deliveries: c.deliveries[i]!,
    ai_generated: isAiGenerated(c.sourceTypes[i]!),
    digital_source_type: c.sourceTypes[i]!,
    ...performance(
      {
        impressions: c.impressions[i]!,
        clicks: c.clicks[i]!,
        conversions: c.conversions[i]!,
        spendUsd: c.spendUsd[i]!,
        videoViews: c.videoViews[i]!,
        revenueUsd: c.revenueUsd[i]!,
      },
      {
        units: c.metricRows[i]!,
        spend2: c.spend2[i]!,
        conversions2: c.conversions2[i]!,
        revenue2: c.revenue2[i]!,
        spendConversions: c.spendConversions[i]!,
        revenueSpend: c.revenueSpend[i]!,
      },
    ),
  };
}

/**
 * The JSON report as text pieces: everything but the variants in one piece, then the variants
 * a thousand at a time, so the largest string ever built is one chunk, not the whole report.
 */
export async function* jsonReport(
  head: ReportHead,
  c: Collected,
  dims: ReportDimension[],
  chunk = 1_000,
): AsyncGenerator<string> {
  const text = JSON.stringify(head);
  yield `${text.slice(0, -1)},"variants":[`;
  for (let start = 0; start < c.count; start += chunk) {
    const end = Math.min(c.count, start + chunk);
    const parts: string[] = [];
    for (let i = start; i < end; i++) parts.push(JSON.stringify(variantAt(c, dims, i)));
    yield `${start ? ',' : ''}${parts.join(',')}`;
  }
  yield ']}';
}
