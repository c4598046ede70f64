import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, problems } from '../../http/problem.ts';
import type { AnyPlugin } from '../../providers/plugin.ts';
import { providerPlugins } from '../../providers/registry.ts';
import type { InboundWebhookService } from './service.ts';

function flatHeaders(headers: Record<string, string | string[] | undefined>) {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Provider → us. Public (the signature is the authentication) and exempt from the per-caller
 * rate limit (a provider sends one per render from a few addresses). The signature covers the
 * exact bytes, so this scope parses no body: it hands the raw text to the verifier.
 */
export async function inboundWebhookRoutes(
  app: FastifyInstance,
  deps: { inbound: InboundWebhookService },
) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const r = app.withTypeProvider<ZodTypeProvider>();

  for (const plugin of providerPlugins) {
    const route = (plugin as AnyPlugin).webhookRoute;
    if (!route) continue;
    r.post(
      `/providers/${plugin.name}/webhook${route.suffix ?? ''}`,
      {
        config: { public: true, idempotency: 'off', rateLimit: false },
        schema: {
          tags: ['providers'],
          operationId: route.operationId,
          summary: route.summary,
          description: route.description,
          security: [],
          ...(route.params ? { params: route.params } : {}),
          response: {
            200: z.object({
              received: z.literal(true),
              action: z.enum(['promoted', 'enqueued', 'running', 'none', 'duplicate']),
            }),
            ...errorResponses(400, 404, 413),
          },
        },
      },
      async (request) => {
        if (typeof request.body !== 'string' || request.body === '')
          throw problems.badRequest('The webhook body is empty.');
        const headers = {
          ...flatHeaders(request.headers),
          // After the request's own: a caller cannot stand in for what the path says.
          ...route.headers?.(request.params as Record<string, string>),
        };
        const action = await deps.inbound.receive(plugin.name, request.body, headers);
        return { received: true as const, action };
      },
    );
  }
}
