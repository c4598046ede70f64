import { z } from 'zod';
import { ASSET_ID_PATTERN } from '../matrices/parse/schema.ts';
import { disclosureSchema } from '../provenance/schemas.ts';
import { providerNames } from '../providers/catalog.ts';
import { spotInputSchema, spotSchema } from '../spots/schemas.ts';

export const briefSchema = z.object({
  product: z.string().trim().min(1).max(200),
  key_message: z.string().trim().min(1).max(500),
  audience: z.string().trim().max(300).optional(),
  call_to_action: z.string().trim().max(120).optional(),
  brand_guidelines: z.string().trim().max(2000).optional(),
  avoid: z
    .array(z.string().trim().min(1).max(120))
    .max(30)
    .optional()
    .describe('Things the video must not show'),
  style: z.string().trim().max(300).optional(),
});

const size = z
  .string()
  .regex(/^\d{2,4}x\d{2,4}$/, 'must be WIDTHxHEIGHT, e.g. 720x1280')
  .meta({
    description:
      'WIDTHxHEIGHT in pixels; the provider and model decide which (local: 320x180 to 1920x1080 in 16:9, 9:16 and 1:1; sora-2: 720x1280, 1280x720), else 422 listing them',
    examples: ['720x1280', '1280x720'],
  });

const referenceAssetId = z
  .string()
  .regex(ASSET_ID_PATTERN, 'must be an asset id like "ast_…"')
  .nullable()
  .optional()
  .describe(
    'An image asset of the tenant (POST /v1/assets) used as the first frame by models that take one (image to video); required by image-only models such as runway gen4_turbo, refused by a campaign model that takes none. null removes it.',
  );

const videoInputSchema = z.object({
  provider: z
    .enum(providerNames)
    .optional()
    .describe(
      'Defaults to the deployment default (local). Must be configured on this deployment (GET /v1/providers), else 422',
    ),
  model: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe("Defaults to the provider's default model; GET /v1/providers lists them"),
  reference_asset_id: referenceAssetId,
  seconds: z
    .number()
    .int()
    .min(1)
    .max(60)
    .describe('Clip length; the model decides which lengths it renders')
    .meta({ examples: [8] }),
  size,
});

const overlaySchema = z.object({
  logo_position: z
    .enum(['top-left', 'top-right', 'bottom-left', 'bottom-right'])
    .default('bottom-right'),
  text_template: z.string().max(300).optional().describe('e.g. "Now in {{city}}"'),
  disclosure: disclosureSchema.optional(),
});

const campaignExample = {
  name: 'Aurora sneakers, spring',
  brief: {
    product: 'Aurora running sneakers',
    key_message: 'Light enough to forget you are wearing them',
    audience: 'Urban runners, 25–40',
    call_to_action: 'Shop the spring drop',
  },
  prompt_template:
    'A {{tone}} 8-second vertical ad for {{brief.product}} in {{city}}: {{brief.key_message}}',
  video: { provider: 'local', seconds: 8, size: '720x1280' },
  budget_usd: 50,
};

export const createCampaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    brief: briefSchema,
    prompt_template: z
      .string()
      .min(1)
      .max(4000)
      .describe('Uses {{dimension}} and {{brief.field}} placeholders'),
    video: videoInputSchema,
    budget_usd: z.number().positive().max(10_000_000).optional(),
    require_approval: z.boolean().default(false),
    overlay: overlaySchema.optional(),
    spot: spotInputSchema.optional(),
  })
  .meta({ examples: [campaignExample] });

export const updateCampaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    brief: briefSchema.partial(),
    prompt_template: z.string().min(1).max(4000),
    video: videoInputSchema.partial(),
    budget_usd: z.number().positive().max(10_000_000).nullable(),
    require_approval: z.boolean(),
    overlay: overlaySchema.partial(),
    spot: spotInputSchema.nullable().describe('Replaces the spot whole; null removes it'),
  })
  .partial()
  .meta({ examples: [{ budget_usd: 80, video: { seconds: 6 } }] });

export const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    brief: briefSchema,
    prompt_template: z.string(),
    video: z.object({
      provider: z.string().meta({ examples: ['local'] }),
      model: z.string().meta({ examples: ['card-v1'] }),
      seconds: z.number().int().positive(),
      size,
      reference_asset_id: z.string().nullable(),
    }),
    budget_usd: z.number().nullable(),
    require_approval: z.boolean(),
    overlay: z.object({
      logo_position: z.string(),
      text_template: z.string().optional(),
      disclosure: disclosureSchema.optional(),
    }),
    spot: spotSchema.nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({
    id: 'Campaign',
    examples: [
      {
        id: 'cmp_01jbz7h1n3q4v5w6x7y8z9a0b1',
        ...campaignExample,
        video: {
          provider: 'local',
          model: 'card-v1',
          seconds: 8,
          size: '720x1280',
          reference_asset_id: null,
        },
        require_approval: false,
        overlay: { logo_position: 'bottom-right' },
        spot: null,
        created_at: '2026-03-02T09:30:00.000Z',
        updated_at: '2026-03-02T09:30:00.000Z',
      },
    ],
  });

/**
 * What a create or patch answers: the campaign as stored, plus what it noticed without
 * refusing the write.
 */
export const campaignWithWarningsSchema = campaignSchema
  // Extended, not an allOf of Campaign: both sides close additionalProperties, so an allOf
  // would match no object at all.
  .extend({
    warnings: z
      .array(
        z
          .object({
            code: z.literal('missing_glyphs'),
            path: z
              .string()
              .describe(
                'The field: overlay.text_template, spot.end_card.text_template, overlay.disclosure.text, or a brief field they or the built-in renderer draw (brief.call_to_action)',
              ),
            characters: z.array(z.string()).describe('Each character no caption font draws, once'),
            message: z.string(),
          })
          .meta({ id: 'CampaignWarning' }),
      )
      .describe(
        "The campaign's own caption text that no shipped font covers (drawn as empty boxes); level labels are checked at matrix upload",
      ),
  })
  .meta({ id: 'CampaignWithWarnings' });

export const campaignParams = z.object({ id: z.string().min(1).max(64) });

export type CreateCampaignBody = z.infer<typeof createCampaignBody>;
export type UpdateCampaignBody = z.infer<typeof updateCampaignBody>;
