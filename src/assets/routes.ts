import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { sendMedia } from '../http/media-reply.ts';
import { fileResponse } from '../http/openapi.ts';
import { errorResponses } from '../http/problem.ts';
import { assetParams, assetSchema, assetUploadBody, signedAssetQuery } from './schemas.ts';
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
        operationId: 'uploadAsset',
        summary:
          'Upload a logo (PNG, JPEG or WebP) or an audio bed (MP3, AAC, WAV, Ogg); the bytes decide, not the name',
        description:
          'One file per request, in the multipart field `file`: a second file or any other field is a 400. ' +
          'A logo may be at most 4096 px on a side, checked from its header before it is decoded. ' +
          "Audio (kind `audio`, for a spot's `audio.asset_id`) is ffprobed and decoded whole; over ASSET_AUDIO_MAX_BYTES or ASSET_AUDIO_MAX_SECONDS, corrupt, or a codec its container should not hold is a 422 naming why. " +
          'Uploading the same bytes again returns the existing asset with 200.',
        body: { content: { 'multipart/form-data': { schema: assetUploadBody } } },
        response: {
          200: assetSchema,
          201: assetSchema,
          ...errorResponses(400, 401, 403, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      try {
        const { row, created } = await deps.assets.upload(authOf(request).tenantId, {
          // Room for one part past what is accepted, so the service sees it and names it.
          parts: request.parts({
            limits: { fileSize: deps.uploadLimitBytes, files: 2, fields: 1, parts: 2 },
          }),
          limitBytes: deps.uploadLimitBytes,
        });
        return reply.code(created ? 201 : 200).send(toAssetResponse(row));
      } catch (err) {
        // A form refused at its second part is still arriving, and nothing reads it any more:
        // the client would stall sending it on a kept-alive connection. Close after the answer.
        if (!request.raw.readableEnded) reply.header('connection', 'close');
        throw err;
      }
    },
  );

  r.get(
    '/assets/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getAsset',
        summary: 'Get an asset',
        description:
          "An uploaded logo's kind, size and dimensions; use its id as a level's asset_id to draw it on that level's videos.",
        params: assetParams,
        response: { 200: assetSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toAssetResponse(await deps.assets.get(authOf(request).tenantId, request.params.id)),
  );

  r.get(
    '/media/assets/:id',
    {
      // A run's renders all fetch the same link (HEAD then GET each) from the provider's few
      // addresses: the per-address budget would refuse the tail of a large run. Only a valid
      // signature reaches storage, and only links the worker handed to a provider exist.
      config: { public: true, rateLimit: false },
      schema: {
        tags,
        operationId: 'downloadSignedAsset',
        summary: 'An asset behind a signed link, for video providers fetching a first frame',
        description:
          "Minted by the worker when PUBLIC_URL is HTTPS, so Runway and fal can fetch a campaign's reference image by URL. Needs no API key, only an unexpired expires and signature; answers HEAD and GET with Content-Type and Content-Length and never redirects.",
        security: [],
        params: assetParams,
        querystring: signedAssetQuery,
        response: {
          200: fileResponse('The image', ['image/png', 'image/jpeg', 'image/webp']),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const media = await deps.assets.openSigned({ id: request.params.id, ...request.query });
      return sendMedia(reply, media, { cacheSeconds: 300, ranges: false });
    },
  );
}
