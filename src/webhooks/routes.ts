import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../http/auth.ts';
import { decodeCursor, pageSchema, paginationQuery, toPage } from '../http/pagination.ts';
import { errorResponses } from '../http/problem.ts';
import {
  attemptSchema,
  createEndpointBody,
  endpointSchema,
  endpointWithSecretSchema,
  eventSchema,
  idParams,
  listAttemptsQuery,
  listEventsQuery,
  replayBody,
  replayResponse,
  updateEndpointBody,
} from './schemas.ts';
import {
  toAttemptResponse,
  toEndpointResponse,
  toEventResponse,
  type WebhookService,
} from './service.ts';

export async function webhookRoutes(app: FastifyInstance, deps: { webhooks: WebhookService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { webhooks } = deps;
  const tags = ['webhooks'];
  const config = { scope: 'webhooks:manage' } as const;

  r.post(
    '/webhook-endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'createWebhookEndpoint',
        summary: 'Register an endpoint; the signing secret is in this response only',
        description:
          'Events (run and variant state changes) are POSTed to the URL as Standard Webhooks, signed with the secret returned here once. URLs resolving to private addresses are refused.',
        body: createEndpointBody,
        response: { 201: endpointWithSecretSchema, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => {
      const { row, secret } = await webhooks.create(authOf(request).tenantId, request.body);
      return reply.code(201).send({ ...toEndpointResponse(row), secret });
    },
  );

  r.get(
    '/webhook-endpoints',
    {
      config,
      schema: {
        tags,
        operationId: 'listWebhookEndpoints',
        summary: 'List endpoints',
        description: "The tenant's endpoints, newest first; secrets are never shown again.",
        querystring: paginationQuery,
        response: { 200: pageSchema(endpointSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await webhooks.list(authOf(request).tenantId, {
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      return toPage(rows, limit, toEndpointResponse);
    },
  );

  r.get(
    '/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags,
        operationId: 'getWebhookEndpoint',
        summary: 'Get an endpoint, with why it was disabled if it was',
        description:
          'One endpoint; disabled_reason says why it was disabled after repeated failures.',
        params: idParams,
        response: { 200: endpointSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toEndpointResponse(await webhooks.get(authOf(request).tenantId, request.params.id)),
  );

  r.patch(
    '/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags,
        operationId: 'updateWebhookEndpoint',
        summary: 'Change the URL, the events, the description, or enable/disable',
        description:
          'Changes only the fields sent; enabling a disabled endpoint clears disabled_reason and restarts its failure clock.',
        params: idParams,
        body: updateEndpointBody,
        response: { 200: endpointSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) =>
      toEndpointResponse(
        await webhooks.update(authOf(request).tenantId, request.params.id, request.body),
      ),
  );

  r.delete(
    '/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags,
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete an endpoint and its delivery log',
        description: 'Stops deliveries to it at once and deletes its attempt log.',
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(authOf(request).tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      config,
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary:
          'New signing secret (shown once); the old one stays valid for the overlap, both signatures are sent',
        description:
          'Returns the new secret once. During the overlap both secrets sign each delivery, so receivers can switch without dropping events.',
        params: idParams,
        response: { 200: endpointWithSecretSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const { row, secret } = await webhooks.rotate(authOf(request).tenantId, request.params.id);
      return { ...toEndpointResponse(row), secret };
    },
  );

  r.get(
    '/webhook-endpoints/:id/attempts',
    {
      config,
      schema: {
        tags,
        operationId: 'listWebhookAttempts',
        summary: 'The delivery log: every attempt with its outcome, status, duration and excerpt',
        description:
          'Every delivery attempt to the endpoint, oldest first, optionally for one event: outcome, HTTP status, duration and the start of the response.',
        params: idParams,
        querystring: listAttemptsQuery,
        response: { 200: pageSchema(attemptSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, cursor, event_id } = request.query;
      const after = decodeCursor(cursor);
      const rows = await webhooks.attempts(authOf(request).tenantId, request.params.id, {
        eventId: event_id,
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      return toPage(rows, limit, toAttemptResponse);
    },
  );

  r.get(
    '/events',
    {
      config,
      schema: {
        tags,
        operationId: 'listEvents',
        summary: 'List events (what webhooks carry), oldest first',
        description:
          "The tenant's events in the order they happened, optionally of one type; a page at a time.",
        querystring: listEventsQuery,
        response: { 200: pageSchema(eventSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor, type } = request.query;
      const after = decodeCursor(cursor);
      const rows = await webhooks.listEvents(authOf(request).tenantId, {
        type,
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      return toPage(rows, limit, toEventResponse);
    },
  );

  r.get(
    '/events/:id',
    {
      config,
      schema: {
        tags,
        operationId: 'getEvent',
        summary: 'Get an event',
        description: 'One event with the payload webhooks carried.',
        params: idParams,
        response: { 200: eventSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toEventResponse(await webhooks.event(authOf(request).tenantId, request.params.id)),
  );

  r.post(
    '/events/:id/replay',
    {
      config,
      schema: {
        tags,
        operationId: 'replayEvent',
        summary: 'Send an event again (same webhook-id) to its endpoints, or to one',
        description:
          'Queues the event again, with the same webhook-id so receivers can deduplicate, to every enabled endpoint subscribed to it or to the one given.',
        params: idParams,
        body: replayBody,
        response: { 202: replayResponse, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const result = await webhooks.replay(authOf(request).tenantId, request.params.id, {
        endpointId: request.body?.endpoint_id,
      });
      return reply.code(202).send(result);
    },
  );
}
