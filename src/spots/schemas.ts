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

const endCardInputSchema = z
  .object({
    seconds: z.number().min(0.5).max(10).describe('How long the card holds after the last shot'),
    text_template: z
      .string()
      .max(500)
      .describe(
        "The call to action: dimension placeholders take the variant's level labels, {{brief.field}} the brief's; one line per newline, none with an empty template",
      ),
    logo: z
      .boolean()
      .describe(
        "Draws the logo of the variant's level (the logo dimension's asset), when it has one",
      ),
    background: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour')
      .default('#000000')
      .describe('A #rrggbb colour; black unless set'),
  })
  .describe(
    "A card rendered after the last shot with a cut: logo, the call to action and the campaign overlay's legal line",
  );

const audioInputSchema = z
  .object({
    asset_id: z
      .string()
      .regex(ASSET_ID_PATTERN, 'must be an asset id')
      .describe('An uploaded audio asset (MP3, AAC, WAV or Ogg)'),
    gain_db: z
      .number()
      .min(-30)
      .max(30)
      .default(0)
      .describe('Applied before loudness normalisation, so it shapes what the limiter sees'),
  })
  .describe(
    'One audio bed across the whole spot: looped or trimmed to its length, faded out over the last second, normalised to -14 LUFS integrated and at most -1 dBTP true peak',
  );

/**
 * A multi-shot spot: shots, how they join, an optional end card, audio bed and renditions.
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
    end_card: endCardInputSchema.optional(),
    audio: audioInputSchema.optional(),
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
  end_card: z
    .object({
      seconds: z.number(),
      text_template: z.string(),
      logo: z.boolean(),
      background: z.string(),
    })
    .optional(),
  audio: z.object({ asset_id: z.string(), gain_db: z.number() }).optional(),
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
