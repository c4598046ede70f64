import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { authOf } from '../http/auth.ts';
import { errorResponses } from '../http/problem.ts';
import { variantParams } from '../variants/schemas.ts';
import { toVariantResponse, type VariantService } from '../variants/service.ts';
import {
  bulkReviewBody,
  bulkReviewResponse,
  reviewBody,
  reviewedVariantSchema,
} from './schemas.ts';
import type { ReviewService } from './service.ts';

export async function reviewRoutes(
  app: FastifyInstance,
  deps: { reviews: ReviewService; variants: VariantService; baseUrl: string },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['variants'];

  r.post(
    '/variants/:id/review',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'reviewVariant',
        summary: 'Approve or reject a ready variant (campaigns with require_approval need this)',
        description:
          'Records an approval or rejection with an optional note. Only a ready variant can be reviewed (409 otherwise).',
        params: variantParams,
        body: reviewBody,
        response: { 200: reviewedVariantSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const auth = authOf(request);
      const review = await deps.reviews.review(auth, request.params.id, request.body);
      const row = await deps.variants.get(auth.tenantId, request.params.id);
      return { ...toVariantResponse(row, deps.baseUrl), review };
    },
  );

  r.post(
    '/variants/review',
    {
      config: { scope: 'campaigns:write' },
      schema: {
        tags,
        operationId: 'reviewVariants',
        summary:
          'Approve or reject every ready variant of a run or campaign matching the levels, e.g. {"tone": "playful"}',
        description:
          'Reviews in one call every ready variant of the run or campaign whose levels match; answers how many moved.',
        body: bulkReviewBody,
        response: { 200: bulkReviewResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => deps.reviews.bulk(authOf(request), request.body),
  );
}
