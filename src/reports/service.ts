import { Readable } from 'node:stream';
import type pg from 'pg';
import type { CampaignService } from '../campaigns/service.ts';
import type { Db } from '../db/client.ts';
import { problems } from '../http/problem.ts';
import type { RunService } from '../runs/service.ts';
import { type AnalysisOptions, analyse } from './analysis.ts';
import { createCollector } from './collect.ts';
import { unknownDimensions } from './comparisons.ts';
import { comparedCsvReport, csvReport } from './csv.ts';
import { mergeDimensions, type ReportDimension } from './dimensions.ts';
import { jsonReport, reportHead } from './report.ts';
import * as repo from './repository.ts';
import { xlsxReport } from './xlsx.ts';

type ReportFormat = 'json' | 'csv' | 'xlsx';

interface ReportServiceConfig {
  minImpressions: number;
  minClicks: number;
  /** Rows per cursor fetch. */
  batchSize?: number;
}

export function createReportService(deps: {
  db: Db;
  /** The cursor needs one connection of its own for the whole read. */
  pool: pg.Pool;
  campaigns: Pick<CampaignService, 'get'>;
  runs: Pick<RunService, 'get'>;
  config: ReportServiceConfig;
  now?: () => Date;
}) {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const defaults: AnalysisOptions = {
    minImpressions: config.minImpressions,
    minClicks: config.minClicks,
    confidence: 0.95,
    adjust: 'holm',
    equivalenceMargin: 0.05,
    metric: 'ctr',
  };

  /** Another tenant's campaign, or a run of another campaign, is simply not found. */
  async function resolve(tenantId: string, campaignId: string, runId: string | undefined) {
    const campaign = await deps.campaigns.get(tenantId, campaignId);
    if (runId) {
      const run = await deps.runs.get(tenantId, runId);
      if (run.campaignId !== campaign.id) throw problems.notFound('run');
    }
    const scope: repo.ReportScope = { tenantId, campaignId: campaign.id, runId: runId ?? null };
    const dims = mergeDimensions(await repo.matrixDocuments(db, scope));
    return { campaign, scope, dims };
  }

  /** `compare` names dimensions of this report, whatever the format. */
  function checkCompare(compare: AnalysisOptions['compare'], dims: ReportDimension[]) {
    const unknown = unknownDimensions(compare, dims);
    if (unknown.length)
      throw problems.badRequest(
        `compare names ${unknown.length === 1 ? 'a dimension' : 'dimensions'} the report does not have: ${unknown.join(', ')}.`,
        unknown.map((k) => ({ path: 'query.compare', message: `unknown dimension "${k}"` })),
      );
  }

  /** Reads everything once (JSON and XLSX need the model before their first variant row). */
  async function build(
    tenantId: string,
    campaignId: string,
    runId: string | undefined,
    analysis: AnalysisOptions,
  ) {
    const { campaign, scope, dims } = await resolve(tenantId, campaignId, runId);
    checkCompare(analysis.compare, dims);
    const collector = createCollector(dims, analysis.metric);
    const read = repo.aggregateBatches(deps.pool, scope, config.batchSize, { cells: true });
    for await (const batch of read) {
      collector.add(batch);
    }
    const collected = collector.finish();
    const head = reportHead({
      campaign,
      runId: scope.runId,
      generatedAt: now(),
      collected,
      analysis: analyse(collected, dims, analysis),
    });
    return { head, collected, dims };
  }

  return {
    /** The report in the asked format, as a stream; errors before the first byte are thrown. */
    async render(
      tenantId: string,
      campaignId: string,
      opts: {
        runId?: string | undefined;
        format: ReportFormat;
        analysis?: Partial<
          Pick<
            AnalysisOptions,
            'confidence' | 'adjust' | 'equivalenceMargin' | 'metric' | 'compare'
          >
        >;
      },
    ): Promise<Readable> {
      // Comparisons need the model, so that CSV is written from the collected report.
      if (opts.format === 'csv' && !opts.analysis?.compare) {
        const { scope, dims } = await resolve(tenantId, campaignId, opts.runId);
        checkCompare(opts.analysis?.compare, dims);
        const batches = repo.aggregateBatches(deps.pool, scope, config.batchSize);
        // The first fetch waits for the whole aggregation, so a failing query still gets a
        // proper error response instead of a truncated file.
        const first = await batches.next();
        async function* all() {
          try {
            if (first.done) return;
            yield first.value;
            yield* batches;
          } finally {
            // Closes the cursor even when the stream is dropped before reaching the yield*.
            await batches.return(undefined);
          }
        }
        return csvReport(all(), dims);
      }
      const analysis = { ...defaults, ...opts.analysis };
      const { head, collected, dims } = await build(tenantId, campaignId, opts.runId, analysis);
      if (opts.format === 'csv') return comparedCsvReport(head, collected, dims);
      return opts.format === 'xlsx'
        ? await xlsxReport(head, collected, dims, { comparisons: !!analysis.compare })
        : Readable.from(jsonReport(head, collected, dims));
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
