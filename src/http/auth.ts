import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Scope } from '../tenants/scopes.ts';
import type { AuthContext, TenantService } from '../tenants/service.ts';
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

/**
 * Registered inside the /v1 scope only, so health, metrics and docs stay open while every API
 * route needs a key unless it opts out explicitly.
 */
export async function registerAuth(
  app: FastifyInstance,
  deps: { tenants: Pick<TenantService, 'authenticate'> },
) {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw problems.unauthorized();
    const auth = await deps.tenants.authenticate(match[1]);
    if (!auth) throw problems.unauthorized('The API key is unknown or revoked.');
    request.auth = auth;
    if (config.scope && !auth.scopes.has(config.scope)) throw problems.forbidden(config.scope);
  });
}

/** The tenant of an authenticated request; every repository call is scoped by it. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw problems.unauthorized();
  return request.auth;
}
