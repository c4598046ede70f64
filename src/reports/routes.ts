import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { campaignParams } from '../campaigns/schemas.ts';
import { authOf } from '../http/auth.ts';
import { errorResponses } from '../http/problem.ts';
import { reportQuery, reportResponse, XLSX_TYPE } from './schemas.ts';
import type { ReportService } from './service.ts';

const contentTypes = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: XLSX_TYPE,
} as const;

export async function reportRoutes(app: FastifyInstance, deps: { reports: ReportService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/campaigns/:id/report',
    {
      config: { scope: 'reports:read' },
      schema: {
        tags: ['reports'],
        operationId: 'getCampaignReport',
        summary:
          'Operations, per-variant performance and element-level effects (which level of each dimension drives CTR, CVR or view rate), as JSON, CSV or XLSX',
        description:
          'format=json (default), csv or xlsx; run_id narrows it to one run. Element effects come from a logistic model of the chosen metric (metric=ctr|cvr|view_rate) over the dimensions, scaled by the overdispersion between variants, with p-values adjusted over the whole report (adjust=holm|bh), verdicts at the chosen confidence, and equivalence_margin for "no difference". compare=all (or dimension keys) adds comparisons among non-reference levels, from the same fit and in the same adjusted family.',
        params: campaignParams,
        querystring: reportQuery,
        response: { 200: reportResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { format, run_id, confidence, adjust, equivalence_margin, metric, compare } =
        request.query;
      const stream = await deps.reports.render(authOf(request).tenantId, request.params.id, {
        runId: run_id,
        format,
        analysis: {
          confidence: Number(confidence),
          adjust,
          equivalenceMargin: equivalence_margin,
          metric,
          compare: compare === 'all' ? 'all' : compare?.split(',').map((k) => k.trim()),
        },
      });
      reply.type(contentTypes[format]).header('cache-control', 'private, no-store');
      if (format !== 'json') {
        const name = `report-${request.params.id}${run_id ? `-${run_id}` : ''}.${format}`;
        // Ids are [a-z0-9_] once found, so the name needs no quoting beyond the quotes.
        reply.header('content-disposition', `attachment; filename="${name}"`);
      }
      // A stream is piped as is: the schema documents the JSON, it does not serialize it.
      return reply.send(stream as unknown as string);
    },
  );
}
