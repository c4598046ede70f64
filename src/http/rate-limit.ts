import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { problems } from './problem.ts';

export interface KeyRateLimit {
  /** Requests per API key per minute. */
  max: number;
  redis: Redis;
  prefix: string;
}

/**
 * RATE_LIMIT_PER_MINUTE per API key, in Redis: /v1 and the console register it with the same
 * namespace, so a key has one budget whether it calls the API or signs in to the console.
 * After authentication (preHandler), so the budget is the key's rather than a proxy address's.
 */
export async function registerKeyRateLimit(
  app: FastifyInstance,
  limit: KeyRateLimit,
  keyOf: (request: FastifyRequest) => string | undefined,
) {
  await app.register(fastifyRateLimit, {
    hook: 'preHandler',
    max: limit.max,
    timeWindow: 60_000,
    redis: limit.redis,
    // Under the deployment's prefix, like every other key admatrix writes.
    nameSpace: `${limit.prefix}:rate-limit:`,
    skipOnError: true,
    keyGenerator: (request) => keyOf(request) ?? request.ip,
    errorResponseBuilder: (_request, ctx) =>
      problems.rateLimited(Math.max(1, Math.ceil(ctx.ttl / 1000))),
  });
}
