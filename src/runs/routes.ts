import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { campaignParams } from '../campaigns/schemas.ts';
import { authOf } from '../http/auth.ts';
import { decodeCursor, pageSchema, paginationQuery } from '../http/pagination.ts';
import { errorResponses } from '../http/problem.ts';
import { type WorkerDirectory, withWorkersSeen } from '../ops/heartbeat.ts';
import {
  cancelRunBody,
  createRunBody,
  runAcceptedSchema,
  runParams,
  runSchema,
} from './schemas.ts';
import type { RunService } from './service.ts';

export async function runRoutes(
  app: FastifyInstance,
  deps: { runs: RunService; workers?: WorkerDirectory },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['runs'];

  r.post(
    '/campaigns/:id/runs',
    {
      config: { scope: 'campaigns:write', idempotency: 'required' },
      schema: {
        tags,
        operationId: 'createRun',
        summary:
          'Fan a matrix out into variants and start rendering them (Idempotency-Key required)',
        description:
          'Plans the design over the matrix, writes one variant per combination not generated before and queues them for rendering. Requires an Idempotency-Key, so a retried request never starts a second run.',
        params: campaignParams,
        body: createRunBody,
        response: { 202: runAcceptedSchema, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const accepted = await deps.runs.create(
        authOf(request).tenantId,
        request.params.id,
        request.body,
        request.idempotency,
      );
      return reply.code(202).send(accepted);
    },
  );

  r.get(
    '/campaigns/:id/runs',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'listCampaignRuns',
        summary: "List a campaign's runs",
        description:
          "The campaign's runs, newest first, each with its counts per status, cost and ETA.",
        params: campaignParams,
        querystring: paginationQuery,
        response: { 200: pageSchema(runSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await deps.runs.list(authOf(request).tenantId, request.params.id, {
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        data: await deps.runs.describeMany(page),
        next_cursor:
          rows.length > limit && page.length
            ? Buffer.from(page.at(-1)!.id).toString('base64url')
            : null,
      };
    },
  );

  r.get(
    '/runs/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getRun',
        summary: 'A run with its variant counts per status, cost and ETA',
        description:
          'Poll this to follow a run: counts per variant status, estimated and actual cost, and an ETA while it renders.',
        params: runParams,
        response: { 200: runSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const run = await deps.runs.describe(
        await deps.runs.get(authOf(request).tenantId, request.params.id),
      );
      // No ETA when no worker is alive to meet it (src/ops/heartbeat.ts).
      return deps.workers ? withWorkersSeen(run, deps.workers) : run;
    },
  );

  r.post(
    '/runs/:id/cancel',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'cancelRun',
        summary:
          'Stop variants not yet paid for; renders already accepted are not fetched unless asked',
        description:
          'A variant that another queued or running run also includes keeps going for that run.',
        params: runParams,
        body: cancelRunBody,
        response: { 200: runSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      deps.runs.describe(
        await deps.runs.cancel(authOf(request).tenantId, request.params.id, request.body),
      ),
  );

  r.post(
    '/runs/:id/retry',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'retryRun',
        summary: 'Render the failed variants of a run again (not blocked ones)',
        description:
          "Queues the run's failed variants again; blocked ones (refused by the provider's policy) are not retried. Answers 422 when there is nothing to retry.",
        params: runParams,
        response: {
          202: runSchema.extend({ retried: z.number().int() }),
          ...errorResponses(401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { run, retried } = await deps.runs.retry(authOf(request).tenantId, request.params.id);
      return reply.code(202).send({ ...(await deps.runs.describe(run)), retried });
    },
  );
}
