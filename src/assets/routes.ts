import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { errorResponses, problems } from '../http/problem.ts';
import { assetParams, assetSchema, assetUploadBody } from './schemas.ts';
import { type AssetService, toAssetResponse } from './service.ts';

export async function assetRoutes(
  app: FastifyInstance,
  deps: { assets: AssetService; uploadLimitBytes: number },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['assets'];

  r.post(
    '/assets',
    {
      // Idempotent by content (the same bytes return the same asset), so a retry needs no key.
      // Honouring one would mean holding the whole upload before the claim, where it now streams
      // to storage; ignoring it would let the same key store two different files. Refused.
      config: { scope: 'campaigns:write', idempotency: 'refused' },
      schema: {
        tags,
        summary: 'Upload a partner logo (PNG, JPEG or WebP; the bytes decide, not the name)',
        description: 'Uploading the same bytes again returns the existing asset with 200.',
        body: { content: { 'multipart/form-data': { schema: assetUploadBody } } },
        response: {
          200: assetSchema,
          201: assetSchema,
          ...errorResponses(400, 401, 403, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const part = await request.file({
        limits: { fileSize: deps.uploadLimitBytes, files: 1, fields: 5 },
      });
      if (part?.fieldname !== 'file') {
        throw problems.badRequest('Send the logo as a multipart field named "file".', [
          { path: 'file', message: 'required' },
        ]);
      }
      const { row, created } = await deps.assets.upload(authOf(request).tenantId, {
        stream: part.file,
        filename: part.filename,
        limitBytes: deps.uploadLimitBytes,
      });
      return reply.code(created ? 201 : 200).send(toAssetResponse(row));
    },
  );

  r.get(
    '/assets/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        summary: 'Get an asset',
        params: assetParams,
        response: { 200: assetSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toAssetResponse(await deps.assets.get(authOf(request).tenantId, request.params.id)),
  );
}
