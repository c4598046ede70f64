import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { decodeCursor, pageSchema, paginationQuery, toPage } from '../http/pagination.ts';
import { errorResponses } from '../http/problem.ts';
import {
  campaignParams,
  campaignSchema,
  campaignWithWarningsSchema,
  createCampaignBody,
  updateCampaignBody,
} from './schemas.ts';
import { type CampaignService, toCampaignResponse } from './service.ts';

export async function campaignRoutes(app: FastifyInstance, deps: { campaigns: CampaignService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['campaigns'];

  r.post(
    '/campaigns',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'createCampaign',
        summary: 'Create a campaign (the base brief)',
        description:
          'A campaign holds the brief, the prompt template with {{dimension}} placeholders, the video settings (provider, model, seconds, size) and an optional budget. Matrices and runs hang off it.',
        body: createCampaignBody,
        response: {
          201: campaignWithWarningsSchema,
          ...errorResponses(400, 401, 403, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const row = await deps.campaigns.create(authOf(request).tenantId, request.body);
      const warnings = await deps.campaigns.glyphWarnings(row);
      return reply.code(201).send({ ...toCampaignResponse(row), warnings });
    },
  );

  r.get(
    '/campaigns',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'listCampaigns',
        summary: 'List campaigns',
        description:
          "The tenant's campaigns, newest first, a page at a time: pass next_cursor as cursor for the next page.",
        querystring: paginationQuery,
        response: { 200: pageSchema(campaignSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await deps.campaigns.list(authOf(request).tenantId, {
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      return toPage(rows, limit, toCampaignResponse);
    },
  );

  r.get(
    '/campaigns/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getCampaign',
        summary: 'Get a campaign',
        description: "One campaign of the calling tenant; another tenant's id is a 404.",
        params: campaignParams,
        response: { 200: campaignSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toCampaignResponse(await deps.campaigns.get(authOf(request).tenantId, request.params.id)),
  );

  r.patch(
    '/campaigns/:id',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'updateCampaign',
        summary: 'Update a campaign (nested objects merge)',
        description: 'Changes only the fields sent; brief, video and overlay merge field by field.',
        params: campaignParams,
        body: updateCampaignBody,
        response: {
          200: campaignWithWarningsSchema,
          ...errorResponses(400, 401, 403, 404, 422),
        },
      },
    },
    async (request) => {
      const row = await deps.campaigns.update(
        authOf(request).tenantId,
        request.params.id,
        request.body,
      );
      return { ...toCampaignResponse(row), warnings: await deps.campaigns.glyphWarnings(row) };
    },
  );
}
