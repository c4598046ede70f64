import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../db/client.ts';
import { authOf } from '../http/auth.ts';
import { decodeCursor, paginationQuery, toPage } from '../http/pagination.ts';
import { errorResponses, problems } from '../http/problem.ts';
import type { Queues } from '../queue/registry.ts';
import { enqueueRenders, renderQueueOf } from '../render/enqueue.ts';
import { resubmitBody } from '../variants/schemas.ts';
import { findShot, type ShotRow, variantsOfShot } from './repository.ts';
import { shotParams, shotSchema } from './schemas.ts';
import { resubmitHeldShot } from './shot-lifecycle.ts';

const iso = (d: Date | string) => new Date(d).toISOString();

export async function shotRoutes(
  app: FastifyInstance,
  deps: { db: Db; queues: Queues; onEnqueueError: (err: unknown) => void },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  async function load(tenantId: string, id: string) {
    const shot = await findShot(deps.db, { tenantId, id });
    if (!shot) throw problems.notFound('shot');
    return shot;
  }

  async function present(shot: ShotRow, page: { cursor?: string | undefined; limit: number }) {
    const rows = await variantsOfShot(deps.db, {
      shotId: shot.id,
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
    });
    return {
      id: shot.id,
      campaign_id: shot.campaign_id,
      key: shot.shot_key,
      prompt: shot.prompt,
      provider: shot.provider,
      model: shot.model,
      seconds: shot.seconds,
      size: shot.size,
      status: shot.status,
      provider_job_id: shot.provider_job_id,
      attempts: shot.attempts,
      cost_usd: Number(shot.cost_usd),
      actual_cost_usd: Number(shot.actual_cost_usd),
      error: shot.error_code ? { code: shot.error_code, message: shot.error_message } : null,
      created_at: iso(shot.created_at),
      ready_at: shot.ready_at ? iso(shot.ready_at) : null,
      variants: toPage(rows, page.limit, (v) => v),
    };
  }

  r.get(
    '/shots/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags: ['variants'],
        operationId: 'getShot',
        summary: "A spot's shot: its render, its cost and the variants assembled from it",
        description:
          'A shot is rendered once per campaign and shared by every variant whose shot renders to the same prompt, generator, size, length and first frame. 404 for another tenant.',
        params: shotParams,
        querystring: paginationQuery,
        response: { 200: shotSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      present(await load(authOf(request).tenantId, request.params.id), request.query),
  );

  r.post(
    '/shots/:id/resubmit',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags: ['variants'],
        operationId: 'resubmitShot',
        summary: 'Send a held shot to its provider again, accepting a possible second charge',
        description:
          'A shot is held, as a variant is, when its create may have reached the provider and nobody can tell. The variants waiting for it failed with shot_held; after this call, POST /v1/runs/{id}/retry assembles them once the shot is ready. 409 when the shot is not held.',
        params: shotParams,
        body: resubmitBody,
        response: { 200: shotSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      if (request.body.accept_possible_duplicate_charge !== true)
        throw problems.unprocessable(
          'A held shot may already have been rendered and billed: resubmitting it may pay twice.',
          [{ path: 'body.accept_possible_duplicate_charge', message: 'must be true' }],
        );
      const tenantId = authOf(request).tenantId;
      const shot = await load(tenantId, request.params.id);
      const moved = await deps.db.transaction((tx) => resubmitHeldShot(tx, shot.id));
      if (!moved)
        throw problems.conflict(`Only a held shot can be resubmitted; this one is ${shot.status}.`);
      try {
        // The job that held it finished but keeps its id (= the shot id): remove it first.
        await deps.queues
          .get(renderQueueOf(shot.provider))
          .remove(shot.id)
          .catch(() => 0);
        await enqueueRenders(deps.queues, [{ id: shot.id, provider: shot.provider, shot: true }]);
      } catch (err) {
        deps.onEnqueueError(err);
      }
      return present(await load(tenantId, shot.id), { limit: 50 });
    },
  );
}
