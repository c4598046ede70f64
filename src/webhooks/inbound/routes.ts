import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, problems } from '../../http/problem.ts';
import { FAL_APP_HEADER } from '../../providers/fal/webhook.ts';
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

  r.post(
    '/providers/openai/webhook',
    {
      config: { public: true, idempotency: 'off', rateLimit: false },
      schema: {
        tags: ['providers'],
        operationId: 'receiveOpenaiWebhook',
        summary: 'Inbound Standard Webhooks from an OpenAI-compatible video provider',
        description:
          'Called by the video provider, not by clients: the signature is verified against the configured webhook secret before anything is done, and a finished render is picked up at once instead of at the next poll.',
        security: [],
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
      const action = await deps.inbound.receive(
        'openai',
        request.body,
        flatHeaders(request.headers),
      );
      return { received: true as const, action };
    },
  );

  // fal signs nothing that names the app a request ran on, yet status and result need it: the
  // adapter registers `<route>/<owner>/<app>` as the webhook URL and the path hands it over.
  r.post(
    '/providers/fal/webhook/:owner/:app',
    {
      config: { public: true, idempotency: 'off', rateLimit: false },
      schema: {
        tags: ['providers'],
        operationId: 'receiveFalWebhook',
        summary: 'Inbound webhooks from fal.ai (Ed25519-signed, JWKS)',
        description:
          "Called by fal.ai, not by clients: the signature is verified against fal's published keys before the body is read; deliveries are deduplicated on the request id.",
        security: [],
        params: z.object({
          owner: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
          app: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
        }),
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
      const headers = flatHeaders(request.headers);
      headers[FAL_APP_HEADER] = `${request.params.owner}/${request.params.app}`;
      const action = await deps.inbound.receive('fal', request.body, headers);
      return { received: true as const, action };
    },
  );
}
