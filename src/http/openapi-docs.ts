import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openapiTransform, openapiTransformObject } from './openapi.ts';

interface OpenapiDocsOptions {
  publicUrl: string | undefined;
}

/**
 * The OpenAPI document (/openapi.json) and its UI (/docs). Not encapsulated: the document lists
 * every route registered after it, /v1 and the console alike.
 */
export const openapiDocsPlugin = fp(async (app: FastifyInstance, opts: OpenapiDocsOptions) => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'admatrix API',
        version: '0.1.0',
        description:
          'One ad brief plus a matrix of variables in; generated, tracked and reported video variants out. Errors are RFC 9457 problem+json.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative without PUBLIC_URL: clients resolve it against wherever they fetched the document.
      servers: [{ url: opts.publicUrl ?? '/' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'amx_… API key' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: openapiTransform,
    transformObject: openapiTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
