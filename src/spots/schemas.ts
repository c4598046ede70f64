import { z } from 'zod';
import { ASSET_ID_PATTERN } from '../matrices/parse/schema.ts';
import { providerNames } from '../providers/catalog.ts';

const shotSchema = z.object({
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
      'An image asset as the first frame, for models that take one. previous_last_frame is not supported yet (422)',
    ),
});

/**
 * A multi-shot spot. end_card, audio and formats are named so that a request using them is
 * refused with a 422 naming the field, rather than silently rendered without them.
 */
export const spotInputSchema = z
  .object({
    shots: z.array(shotSchema).min(1).max(10),
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
    formats: z.unknown().optional().describe('Not supported yet: 422'),
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
      first_frame: z.object({ asset_id: z.string() }).nullable(),
    }),
  ),
  transition: z.object({ type: z.enum(['cut', 'fade']), seconds: z.number() }),
});
