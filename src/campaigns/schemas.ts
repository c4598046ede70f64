import { z } from 'zod';

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

const size = z.string().regex(/^\d{2,4}x\d{2,4}$/, 'must be WIDTHxHEIGHT, e.g. 720x1280');

export const videoInputSchema = z.object({
  provider: z
    .enum(['local', 'openai'])
    .optional()
    .describe('Defaults to the deployment default (local)'),
  model: z.string().min(1).max(100).optional(),
  seconds: z.number().int().min(1).max(60),
  size,
});

export const overlaySchema = z.object({
  logo_position: z
    .enum(['top-left', 'top-right', 'bottom-left', 'bottom-right'])
    .default('bottom-right'),
  text_template: z.string().max(300).optional().describe('e.g. "Now in {{city}}"'),
});

export const createCampaignBody = z.object({
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
});

export const updateCampaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    brief: briefSchema.partial(),
    prompt_template: z.string().min(1).max(4000),
    video: videoInputSchema.partial(),
    budget_usd: z.number().positive().max(10_000_000).nullable(),
    require_approval: z.boolean(),
    overlay: overlaySchema.partial(),
  })
  .partial();

export const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    brief: briefSchema,
    prompt_template: z.string(),
    video: z.object({
      provider: z.string(),
      model: z.string(),
      seconds: z.number(),
      size: z.string(),
    }),
    budget_usd: z.number().nullable(),
    require_approval: z.boolean(),
    overlay: z.object({ logo_position: z.string(), text_template: z.string().optional() }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Campaign' });

export const campaignParams = z.object({ id: z.string().min(1).max(64) });

export type CreateCampaignBody = z.infer<typeof createCampaignBody>;
export type UpdateCampaignBody = z.infer<typeof updateCampaignBody>;
