import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { errorResponses, type FieldError, problems } from '../http/problem.ts';
import { servesRenders, type WorkerDirectory, workersSeenSchema } from './heartbeat.ts';
import { metricsAccess } from './metrics.ts';

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function opsRoutes(
  app: FastifyInstance,
  deps: {
    pool: pg.Pool;
    redis: Redis;
    registry: Registry;
    workers?: WorkerDirectory;
    readinessTimeoutMs?: number;
    /** METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
    metricsToken?: string | undefined;
  },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const timeoutMs = deps.readinessTimeoutMs ?? 2_000;

  r.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getHealth',
        summary: 'The process is up',
        description:
          'Liveness: answers 200 while the process runs, without touching Postgres or Redis.',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  // The api's readiness does not include workers by default: an orchestrator would take the api
  // out of service whenever the workers are down, turning a rendering pause (runs wait in
  // Postgres and resume) into a total outage. ?workers=1 is for a deploy check or an alert.
  r.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        description:
          'Readiness: 200 when Postgres and Redis answer within the deadline, else 503 naming the failed check in errors. With `?workers=1`, also 503 when no render worker has sent a heartbeat.',
        summary: 'Postgres and Redis answer (and, with ?workers=1, a render worker is alive)',
        querystring: z.object({
          workers: z
            .enum(['1', '0', 'true', 'false'])
            .optional()
            .describe('Also require a live render worker heartbeat (503 when none)'),
        }),
        response: {
          200: z.object({
            status: z.literal('ready'),
            checks: z.record(z.string(), z.literal('ok')),
            workers: workersSeenSchema.optional(),
          }),
          ...errorResponses(400, 503),
        },
      },
    },
    async (request) => {
      const wantWorkers =
        (request.query.workers === '1' || request.query.workers === 'true') && !!deps.workers;
      const checks: Record<string, Promise<unknown>> = {
        postgres: withDeadline(deps.pool.query('SELECT 1'), timeoutMs),
        redis: withDeadline(deps.redis.ping(), timeoutMs),
      };
      if (wantWorkers && deps.workers)
        checks.workers = withDeadline(deps.workers.seen(servesRenders), timeoutMs);
      const results = await Promise.allSettled(Object.values(checks));
      const failed: FieldError[] = [];
      let workers: z.infer<typeof workersSeenSchema> | undefined;
      Object.keys(checks).forEach((name, i) => {
        const result = results[i];
        if (result?.status === 'rejected') {
          request.log.warn({ err: result.reason, check: name }, 'readiness check failed');
          failed.push({ path: name, message: 'unreachable' });
        } else if (name === 'workers') {
          workers = result?.value as z.infer<typeof workersSeenSchema>;
          if (workers.alive === 0) {
            const since = workers.last_seen_at ? `last seen ${workers.last_seen_at}` : 'never seen';
            failed.push({ path: 'workers', message: `no render worker alive (${since})` });
          }
        }
      });
      if (failed.length) {
        const what = failed.map((f) => `${f.path} ${f.message}`).join('; ');
        throw problems.unavailable(`Not ready: ${what}.`, failed);
      }
      return {
        status: 'ready' as const,
        checks: Object.fromEntries(Object.keys(checks).map((name) => [name, 'ok' as const])),
        ...(workers ? { workers } : {}),
      };
    },
  );

  const allowed = metricsAccess(deps.metricsToken);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!allowed(request.headers.authorization))
      throw problems.unauthorized('/metrics wants METRICS_TOKEN: Authorization: Bearer …');
    reply.type(deps.registry.contentType);
    return deps.registry.metrics();
  });
}
