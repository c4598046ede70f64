import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { sendMedia } from '../http/media-reply.ts';
import { fileResponse } from '../http/openapi.ts';
import { decodeCursor, pageSchema, toPage } from '../http/pagination.ts';
import { errorResponses, problems } from '../http/problem.ts';
import {
  listVariantsQuery,
  renditionParams,
  resubmitBody,
  variantParams,
  variantSchema,
} from './schemas.ts';
import { toVariantResponse, type VariantService } from './service.ts';

const mediaTypes = { video: 'video/mp4', thumbnail: 'image/jpeg' } as const;
const levelFilter = /^levels\[([a-z][a-z0-9_]{0,31})\]$/;

export async function variantRoutes(
  app: FastifyInstance,
  deps: { variants: VariantService; baseUrl: string },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['variants'];
  const respond = (row: Parameters<typeof toVariantResponse>[0]) =>
    toVariantResponse(row, deps.baseUrl);

  r.get(
    '/variants',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'listVariants',
        summary: 'List variants by run, campaign, status and levels (levels[tone]=playful)',
        description:
          'Filter by run_id, campaign_id, status, and by level with the deepObject parameter levels (levels[tone]=playful&levels[city]=Paris; with curl use -g). A page at a time.',
        querystring: listVariantsQuery,
        response: { 200: pageSchema(variantSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor, run_id, campaign_id, status, ...rest } = request.query;
      const levels: Record<string, string> = {};
      for (const [key, value] of Object.entries(rest)) {
        const m = levelFilter.exec(key);
        if (!m?.[1])
          throw problems.badRequest(`Unknown query parameter ${key}.`, [
            { path: `query.${key}`, message: 'unknown parameter' },
          ]);
        levels[m[1]] = String(value);
      }
      const after = decodeCursor(cursor);
      const rows = await deps.variants.list(authOf(request).tenantId, {
        runId: run_id,
        campaignId: campaign_id,
        status,
        levels,
        after,
        limit: limit + 1,
      });
      return toPage(rows, limit, respond);
    },
  );

  r.get(
    '/variants/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getVariant',
        summary:
          'A variant with its lineage: levels, prompt, provider job, attempts, cost and media',
        description:
          'Everything about one variant: its levels, the prompt (and what was sent), provider job, attempts, cost, review, deliveries and media links.',
        params: variantParams,
        response: { 200: variantSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      respond(await deps.variants.get(authOf(request).tenantId, request.params.id)),
  );

  r.post(
    '/variants/:id/resubmit',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'resubmitVariant',
        summary: 'Send a held variant to its provider again, accepting a possible second charge',
        description:
          'A variant is held when its create may have reached the provider and nobody can tell whether it did: Runway and fal cannot be searched, and an OpenAI-shaped gateway is held when its list cannot rule the render out. Sending it again could pay twice, so only this call does, and only with accept_possible_duplicate_charge set to true. 409 when the variant is not held.',
        params: variantParams,
        body: resubmitBody,
        response: { 200: variantSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      if (request.body.accept_possible_duplicate_charge !== true)
        throw problems.unprocessable(
          'A held variant may already have been rendered and billed: resubmitting it may pay twice.',
          [{ path: 'body.accept_possible_duplicate_charge', message: 'must be true' }],
        );
      return respond(await deps.variants.resubmit(authOf(request).tenantId, request.params.id));
    },
  );

  for (const what of ['video', 'thumbnail'] as const) {
    r.get(
      `/variants/:id/${what}`,
      {
        config: { scope: 'campaigns:read', storeRedirect: true },
        schema: {
          tags,
          operationId: what === 'video' ? 'getVariantVideo' : 'getVariantThumbnail',
          summary:
            what === 'video' ? 'Stream the composited MP4 (supports Range)' : 'The JPEG thumbnail',
          description:
            what === 'video'
              ? 'The rendered video with the logo and text overlay composited; one bytes= Range is answered with 206. 404 until the variant is rendered.'
              : 'A still from the rendered video. 404 until the variant is rendered.',
          params: variantParams,
          response: {
            200: fileResponse(what === 'video' ? 'The MP4' : 'The JPEG', [mediaTypes[what]]),
            ...(what === 'video'
              ? { 206: fileResponse('The requested byte range', [mediaTypes.video]) }
              : {}),
            ...errorResponses(401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const media = await deps.variants.media(
          authOf(request).tenantId,
          request.params.id,
          what,
          request.headers.range,
          { redirect: true },
        );
        return sendMedia(reply, media, { cacheSeconds: 3600, ranges: what === 'video' });
      },
    );
  }

  r.get(
    '/variants/:id/renditions/:format',
    {
      config: { scope: 'campaigns:read', storeRedirect: true },
      schema: {
        tags,
        operationId: 'getVariantRendition',
        summary: "Stream the variant in one of its spot's formats (supports Range)",
        description:
          "The composited MP4 fitted to the format's frame (9:16, 1:1 or 16:9, as listed in the variant's renditions); one bytes= Range is answered with 206. 404 for a format the variant was not rendered in, or not yet.",
        params: renditionParams,
        response: {
          200: fileResponse('The MP4', [mediaTypes.video]),
          206: fileResponse('The requested byte range', [mediaTypes.video]),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const media = await deps.variants.media(
        authOf(request).tenantId,
        request.params.id,
        { format: request.params.format },
        request.headers.range,
        { redirect: true },
      );
      return sendMedia(reply, media, { cacheSeconds: 3600, ranges: true });
    },
  );
}
