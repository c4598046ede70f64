import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { sendMedia } from '../http/media-reply.ts';
import { fileResponse } from '../http/openapi.ts';
import { decodeCursor, pageSchema, toPage } from '../http/pagination.ts';
import { errorResponses } from '../http/problem.ts';
import { variantParams } from '../variants/schemas.ts';
import type { LinkService } from './links.ts';
import {
  createDeliveryBody,
  deliverySchema,
  linkBody,
  linkSchema,
  listDeliveriesQuery,
  mediaParams,
  mediaQuery,
} from './schemas.ts';
import { type DeliveryService, toDeliveryResponse } from './service.ts';

export async function deliveryRoutes(
  app: FastifyInstance,
  deps: { deliveries: DeliveryService; links: LinkService; baseUrl: string },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['deliveries'];
  // Links leave the building: without PUBLIC_URL they name the host the caller reached.
  const origin = (request: FastifyRequest) =>
    deps.baseUrl || `${request.protocol}://${request.host}`;

  r.post(
    '/variants/:id/deliveries',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'createDelivery',
        summary:
          'Record that a variant reached a destination; repeating destination and external_id returns the first record',
        description:
          'A delivery receipt: where the variant went (destination) and its id there (external_id), so reports can join performance back. Repeating destination and external_id answers 200 with the first record.',
        params: variantParams,
        body: createDeliveryBody,
        response: {
          200: deliverySchema.describe('Already recorded'),
          201: deliverySchema,
          ...errorResponses(400, 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { row, created } = await deps.deliveries.deliver(
        authOf(request).tenantId,
        request.params.id,
        request.body,
      );
      return reply.code(created ? 201 : 200).send(toDeliveryResponse(row));
    },
  );

  r.get(
    '/deliveries',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'listDeliveries',
        summary: 'List delivery receipts by campaign, run, variant or destination',
        description:
          'Delivery receipts, a page at a time, filtered by campaign, run, variant or destination.',
        querystring: listDeliveriesQuery,
        response: { 200: pageSchema(deliverySchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, cursor, campaign_id, run_id, variant_id, destination } = request.query;
      const rows = await deps.deliveries.list(authOf(request).tenantId, {
        campaignId: campaign_id,
        runId: run_id,
        variantId: variant_id,
        destination,
        after: decodeCursor(cursor),
        limit: limit + 1,
      });
      return toPage(rows, limit, toDeliveryResponse);
    },
  );

  r.post(
    '/variants/:id/links',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'createDownloadLinks',
        summary: 'Time-limited signed URLs to the video and thumbnail that need no API key',
        description:
          'Signed URLs to hand to a tool or person without an API key; they stop working at expires_at. The variant must have been rendered (409 otherwise).',
        params: variantParams,
        body: linkBody,
        response: { 200: linkSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      deps.links.create(authOf(request).tenantId, request.params.id, {
        baseUrl: origin(request),
        ...(request.body?.expires_in ? { ttlSeconds: request.body.expires_in } : {}),
      }),
  );

  r.get(
    '/media/variants/:id/:what',
    {
      config: { public: true, storeRedirect: true },
      schema: {
        tags,
        operationId: 'downloadSignedMedia',
        summary: 'A signed download link (from POST /variants/{id}/links); supports Range',
        description:
          'Serves the file a signed link points at; needs no API key, only an unexpired expires and signature. The video answers Range requests with 206.',
        security: [],
        params: mediaParams,
        querystring: mediaQuery,
        response: {
          200: fileResponse('The video (MP4) or thumbnail (JPEG)', ['video/mp4', 'image/jpeg']),
          206: fileResponse('The requested byte range of the video', ['video/mp4']),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, what } = request.params;
      const { media, remaining } = await deps.links.open(
        { id, what, ...request.query },
        request.headers.range,
      );
      return sendMedia(reply, media, {
        cacheSeconds: Math.min(remaining, 3600),
        ranges: what === 'video',
      });
    },
  );
}
