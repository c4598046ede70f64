import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../http/problem.ts';
import { providerListSchema } from './schemas.ts';
import type { ProviderDirectory } from './service.ts';

export async function providerRoutes(app: FastifyInstance, deps: { providers: ProviderDirectory }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/providers',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags: ['providers'],
        operationId: 'listProviders',
        summary: 'List the configured video providers and their models',
        description:
          "The providers this deployment can render on, each model's capabilities (text or image to video, seconds, sizes per mode, audio, prompt limit) and price per second by size, this deployment's limits, and where the provider reports them (Runway) its credit balance and tier limits. Account figures are fetched with a short deadline and cached briefly; a provider that does not answer shows account: null with account_error. Campaigns and matrix levels naming a provider listed in not_configured are refused with 422.",
        response: { 200: providerListSchema, ...errorResponses(401, 403) },
      },
    },
    async () => deps.providers.list(),
  );
}
