import { z } from 'zod';
import { renditionFormats } from '../db/schema.ts';
import { ASSET_ID_PATTERN } from '../matrices/parse/schema.ts';
import { providerNames } from '../providers/catalog.ts';

const shotInputSchema = z.object({
  key: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be lower-case letters, digits and _')
    .describe('Names the shot in lineage and errors; unique within the spot'),
  prompt_template: z
    .string()
    .min(1)
    .max(4000)
    .describe(
      'Names only the dimensions this shot depends on ({{dimension}}, {{brief.field}}): the fewer, the more variants share its render',
    ),
  seconds: z
    .number()
    .int()
    .min(1)
    .max(60)
    .describe("A length the shot's model renders, else 422 listing them"),
  video: z
    .object({ provider: z.enum(providerNames), model: z.string().min(1).max(100) })
    .optional()
    .describe("The shot's generator; the campaign's video provider and model unless set"),
  first_frame: z
    .union([
      z.literal('previous_last_frame'),
      z.object({ asset_id: z.string().regex(ASSET_ID_PATTERN, 'must be an asset id') }),
    ])
    .optional()
    .describe(
      'An image asset as the first frame, for models that take one; previous_last_frame starts from the last frame of the shot before (not the first shot), so this shot is sent once that one is ready',
    ),
});

/**
 * A multi-shot spot. end_card and audio are named so that a request using them is
 * refused with a 422 naming the field, rather than silently rendered without them.
 */
export const spotInputSchema = z
  .object({
    shots: z.array(shotInputSchema).min(1).max(10),
    transition: z
      .object({
        type: z.enum(['cut', 'fade']),
        seconds: z.number().min(0).max(5).default(0),
      })
      .default({ type: 'cut', seconds: 0 })
      .describe(
        'fade crossfades neighbours over `seconds` (shorter than every shot); cut joins them',
      ),
    end_card: z.unknown().optional().describe('Not supported yet: 422'),
    audio: z.unknown().optional().describe('Not supported yet: 422'),
    formats: z
      .array(z.enum(renditionFormats))
      .max(renditionFormats.length)
      .optional()
      .describe(
        "One more file of each variant per format, fitted from the campaign's size (its shorter side kept) with the overlay laid out for that frame; the campaign's size stays the main video",
      ),
  })
  .describe(
    'Optional. Each variant is assembled from these shots; each distinct shot is rendered once per campaign and shared',
  );

export type SpotInput = z.infer<typeof spotInputSchema>;

export const spotSchema = z.object({
  shots: z.array(
    z.object({
      key: z.string(),
      prompt_template: z.string(),
      seconds: z.number().int(),
      video: z.object({ provider: z.string(), model: z.string() }),
      first_frame: z
        .union([z.object({ asset_id: z.string() }), z.literal('previous_last_frame')])
        .nullable(),
    }),
  ),
  transition: z.object({ type: z.enum(['cut', 'fade']), seconds: z.number() }),
  formats: z.array(z.enum(renditionFormats)),
});

/** A shot as a variant lists it: its part in the variant's lineage. */
export const variantShotSchema = z.object({
  id: z.string(),
  key: z.string(),
  prompt: z.string(),
  provider: z.string(),
  model: z.string(),
  seconds: z.number().int(),
  status: z.string(),
  provider_job_id: z.string().nullable(),
  cost_usd: z.number().describe("The shot's price; paid once, whichever variant needed it first"),
  actual_cost_usd: z.number(),
  reused: z
    .boolean()
    .describe('Rendered for an earlier variant: this one was assembled from it at no cost'),
});

export const shotParams = z.object({ id: z.string().regex(/^sht_[0-9a-z]{26}$/) });

export const shotSchema = z
  .object({
    id: z.string(),
    campaign_id: z.string(),
    key: z.string(),
    prompt: z.string(),
    provider: z.string(),
    model: z.string(),
    seconds: z.number().int(),
    size: z.string(),
    status: z.string(),
    provider_job_id: z.string().nullable(),
    attempts: z.number().int(),
    cost_usd: z.number(),
    actual_cost_usd: z.number(),
    error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    created_at: z.iso.datetime(),
    ready_at: z.iso.datetime().nullable(),
    variants: z
      .object({
        data: z.array(
          z.object({
            id: z.string(),
            run_id: z.string(),
            status: z.string(),
            levels: z.record(z.string(), z.string()),
          }),
        ),
        next_cursor: z.string().nullable(),
      })
      .describe('The variants assembled from this shot, a page at a time (limit, cursor)'),
  })
  .meta({ id: 'Shot' });
