import { z } from 'zod';
import { renditionFormats, variantStatuses } from '../db/schema.ts';
import { withDeepObjects } from '../http/openapi.ts';
import { paginationQuery } from '../http/pagination.ts';
import { DIMENSION_KEY_PATTERN } from '../matrices/parse/schema.ts';
import { aiDisclosureFields } from '../provenance/schemas.ts';
import { variantShotSchema } from '../spots/schemas.ts';

export const variantSchema = z
  .object({
    id: z.string(),
    run_id: z.string(),
    campaign_id: z.string(),
    levels: z.record(z.string(), z.string()),
    prompt: z.string(),
    provider_prompt: z
      .string()
      .nullable()
      .describe('What was sent when the prompt writer rewrote the prompt'),
    status: z.enum(variantStatuses),
    provider: z.string(),
    model: z.string(),
    seconds: z.number().int().positive(),
    size: z.string().meta({ examples: ['720x1280'] }),
    provider_job_id: z.string().nullable(),
    attempts: z.number().int().nonnegative().describe('Render attempts so far'),
    progress: z.number().int().describe('Percent rendered, as the provider reports it'),
    error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    cost_usd: z.number(),
    actual_cost_usd: z.number(),
    video: z
      .object({
        url: z.string(),
        content_type: z.literal('video/mp4'),
        bytes: z.number().int(),
        sha256: z.string(),
        duration_s: z.number(),
        width: z.number().int(),
        height: z.number().int(),
      })
      .nullable(),
    thumbnail_url: z.string().nullable(),
    ...aiDisclosureFields,
    disclosure: z
      .string()
      .nullable()
      .describe(
        'The visible AI label drawn on the video (campaign overlay.disclosure); null when none',
      ),
    deliveries: z.array(z.record(z.string(), z.unknown())),
    shots: z
      .array(variantShotSchema)
      .describe("A spot's variant: the shots it is assembled from, in order (empty for one clip)"),
    renditions: z
      .array(
        z.object({
          format: z.enum(renditionFormats),
          url: z.string().describe('The MP4 (supports Range)'),
          width: z.number().int(),
          height: z.number().int(),
          duration_seconds: z.number(),
          bytes: z.number().int(),
          sha256: z.string(),
        }),
      )
      .describe(
        "The variant in the spot's other formats, each a file of its own; empty without formats",
      ),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({
    id: 'Variant',
    examples: [
      {
        id: 'var_01jbz7h1n3q4v5w6x7y8z9a0b1',
        run_id: 'run_01jbz7h1n3q4v5w6x7y8z9a0b1',
        campaign_id: 'cmp_01jbz7h1n3q4v5w6x7y8z9a0b1',
        levels: { tone: 'playful', city: 'paris' },
        prompt: 'A playful 8-second vertical ad for Aurora running sneakers in Paris',
        provider_prompt: null,
        status: 'ready',
        provider: 'local',
        model: 'card-v1',
        seconds: 8,
        size: '720x1280',
        provider_job_id: 'job_1f2e3d',
        attempts: 1,
        progress: 100,
        error: null,
        cost_usd: 0,
        actual_cost_usd: 0,
        video: {
          url: '/v1/variants/var_01jbz7h1n3q4v5w6x7y8z9a0b1/video',
          content_type: 'video/mp4',
          bytes: 482113,
          sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
          duration_s: 8,
          width: 720,
          height: 1280,
        },
        thumbnail_url: '/v1/variants/var_01jbz7h1n3q4v5w6x7y8z9a0b1/thumbnail',
        ai_generated: false,
        digital_source_type: 'http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia',
        disclosure: null,
        deliveries: [],
        shots: [],
        renditions: [],
        created_at: '2026-03-02T09:31:00.000Z',
        updated_at: '2026-03-02T09:31:40.000Z',
      },
    ],
  });

export const listVariantsQuery = withDeepObjects(
  paginationQuery
    .extend({
      run_id: z.string().max(64).optional(),
      campaign_id: z.string().max(64).optional(),
      status: z.enum(variantStatuses).optional(),
    })
    // levels[<dimension>]=<level>; the handler checks the names.
    .catchall(z.string().max(200)),
  {
    levels: z.record(z.string().regex(DIMENSION_KEY_PATTERN), z.string().max(200)).meta({
      description:
        'Variants whose level for each given dimension is the one given: levels[tone]=playful&levels[city]=Paris',
      examples: [{ tone: 'playful' }],
    }),
  },
);

export const variantParams = z.object({ id: z.string().min(1).max(64) });

export const renditionParams = variantParams.extend({ format: z.enum(renditionFormats) });

/** A boolean by schema (else 400); anything but true is refused with a 422 naming it. */
export const resubmitBody = z.object({
  accept_possible_duplicate_charge: z
    .boolean()
    .optional()
    .describe(
      'Must be true: the lost create may have rendered (and been billed) at the provider, so a resubmit may pay twice',
    ),
});
