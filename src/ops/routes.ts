import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { errorResponses, type FieldError, problems } from '../http/problem.ts';

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function opsRoutes(
  app: FastifyInstance,
  deps: { pool: pg.Pool; redis: Redis; registry: Registry; readinessTimeoutMs?: number },
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

  r.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Postgres and Redis answer',
        description:
          'Readiness: 200 when Postgres and Redis answer within the deadline, else 503 naming the failed check in errors.',
        response: {
          200: z.object({
            status: z.literal('ready'),
            checks: z.record(z.string(), z.literal('ok')),
          }),
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      const checks = {
        postgres: withDeadline(deps.pool.query('SELECT 1'), timeoutMs),
        redis: withDeadline(deps.redis.ping(), timeoutMs),
      };
      const results = await Promise.allSettled(Object.values(checks));
      const failed: FieldError[] = [];
      Object.keys(checks).forEach((name, i) => {
        const result = results[i];
        if (result?.status === 'rejected') {
          request.log.warn({ err: result.reason, check: name }, 'readiness check failed');
          failed.push({ path: name, message: 'unreachable' });
        }
      });
      if (failed.length) {
        const names = failed.map((f) => f.path).join(', ');
        throw problems.unavailable(`Not ready: ${names} unreachable.`, failed);
      }
      return {
        status: 'ready' as const,
        checks: { postgres: 'ok' as const, redis: 'ok' as const },
      };
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(deps.registry.contentType);
    return deps.registry.metrics();
  });
}
