import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Scope } from '../tenants/scopes.ts';
import type { AuthContext, TenantService } from '../tenants/service.ts';
import {
  type AuthFailureLimiter,
  createAuthFailureLimiter,
  negativeKeyCache,
  tooManyFailures,
} from './auth-failures.ts';
import { problems } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** The scope the route needs; a route without one needs just a valid key. */
    scope?: Scope;
    /** Skips authentication (e.g. inbound provider webhooks, which carry their own signature). */
    public?: boolean;
  }
}

interface AuthOptions {
  /** Failed authentications allowed per client address per window; 0 = unlimited. */
  failuresPerWindow: number;
  windowMs: number;
  /** How long an unknown key is remembered without asking Postgres again; 0 = off. */
  negativeCacheMs: number;
  /** Where the failure counters live: under the deployment's Redis prefix. */
  prefix: string;
}

/**
 * Registered inside the /v1 scope only, so health, metrics and docs stay open while every API
 * route needs a key unless it opts out explicitly.
 * Failed keys are limited per client address and unknown ones remembered briefly
 * (src/http/auth-failures.ts): without that, random keys cost a Postgres lookup each.
 */
export async function registerAuth(
  app: FastifyInstance,
  deps: {
    tenants: Pick<TenantService, 'authenticate'>;
    redis: Redis;
    logger: Logger;
    options: AuthOptions;
  },
) {
  const { options } = deps;
  const limiter: AuthFailureLimiter | null =
    options.failuresPerWindow > 0
      ? createAuthFailureLimiter({
          redis: deps.redis,
          prefix: options.prefix,
          max: options.failuresPerWindow,
          windowMs: options.windowMs,
          logger: deps.logger,
        })
      : null;
  const unknownKeys = negativeKeyCache(options.negativeCacheMs);

  async function failed(request: FastifyRequest, detail?: string): Promise<never> {
    const blockedMs = (await limiter?.recordFailure(request.ip)) ?? 0;
    if (blockedMs > 0) throw tooManyFailures(blockedMs);
    throw problems.unauthorized(detail);
  }

  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const header = request.headers.authorization;
    // No credential at all costs nothing and guesses nothing: not counted.
    if (!header) throw problems.unauthorized();
    const blockedMs = limiter?.blockedFor(request.ip) ?? 0;
    if (blockedMs > 0) throw tooManyFailures(blockedMs);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const key = match?.[1];
    if (!key) return failed(request);
    const unknown = 'The API key is unknown or revoked.';
    if (unknownKeys.isKnownBad(key)) return failed(request, unknown);
    const auth = await deps.tenants.authenticate(key);
    if (!auth) {
      unknownKeys.rememberBad(key);
      return failed(request, unknown);
    }
    request.auth = auth;
    if (config.scope && !auth.scopes.has(config.scope)) throw problems.forbidden(config.scope);
  });
}

/** The tenant of an authenticated request; every repository call is scoped by it. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw problems.unauthorized();
  return request.auth;
}
