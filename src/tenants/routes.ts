import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../http/auth.ts';
import { errorResponses } from '../http/problem.ts';

export async function tenantRoutes(app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/me',
    {
      schema: {
        tags: ['keys'],
        operationId: 'getMe',
        summary: 'The tenant and scopes of the calling API key',
        description:
          'Which tenant the Authorization key belongs to and what it may do; a cheap way to check a key.',
        response: {
          200: z.object({
            tenant_id: z.string(),
            key_id: z.string(),
            key_prefix: z.string(),
            scopes: z.array(z.string()),
          }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const auth = authOf(request);
      return {
        tenant_id: auth.tenantId,
        key_id: auth.keyId,
        key_prefix: auth.keyPrefix,
        scopes: [...auth.scopes].sort(),
      };
    },
  );
}
