import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../db/client.ts';
import { authOf } from '../http/auth.ts';
import { decodeCursor, paginationQuery, toPage } from '../http/pagination.ts';
import { errorResponses, problems } from '../http/problem.ts';
import { findShot, variantsOfShot } from './repository.ts';
import { shotParams, shotSchema } from './schemas.ts';

const iso = (d: Date | string) => new Date(d).toISOString();

export async function shotRoutes(app: FastifyInstance, deps: { db: Db }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
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
    async (request) => {
      const shot = await findShot(deps.db, {
        tenantId: authOf(request).tenantId,
        id: request.params.id,
      });
      if (!shot) throw problems.notFound('shot');
      const { limit, cursor } = request.query;
      const rows = await variantsOfShot(deps.db, {
        shotId: shot.id,
        after: decodeCursor(cursor),
        limit: limit + 1,
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
        variants: toPage(rows, limit, (v) => v),
      };
    },
  );
}
