import { z } from 'zod';
import { matrixInputSchema } from './parse/index.ts';

const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1)
  .optional()
  .describe('Same seed, same variants');

export const designSchema = z
  .discriminatedUnion('type', [
    z
      .object({ type: z.literal('full') })
      .describe('Every allowed combination (the full factorial minus the constraints).'),
    z
      .object({ type: z.literal('pairwise'), seed })
      .describe(
        'Few variants in which every allowed pair of levels of any two dimensions appears at least once (a covering array).',
      ),
    z
      .object({
        type: z.literal('balanced'),
        n: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .optional()
          .describe('Variants to make; default: the main-effects minimum, rounded up to balance'),
        seed,
      })
      .describe(
        'n variants in which each level of each dimension appears equally often (±1) and every two dimensions are crossed as evenly as possible: the design for estimating per-level effects.',
      ),
    z
      .object({
        type: z.literal('sample'),
        n: z.number().int().min(1).max(1_000_000).describe('Variants to draw'),
        seed,
      })
      .describe('n distinct allowed combinations drawn uniformly at random.'),
    z
      .object({
        type: z.literal('explicit'),
        combinations: z
          .array(z.record(z.string(), z.string()))
          .min(1)
          .max(100_000)
          .describe('Dimension key → level key, one object per variant, every dimension named'),
      })
      .describe('Exactly the combinations listed, in order; each must be allowed.'),
  ])
  .meta({
    id: 'Design',
    description: 'Which combinations of the matrix become variants.',
    examples: [
      { type: 'pairwise', seed: 7 },
      { type: 'balanced', n: 12 },
      { type: 'explicit', combinations: [{ tone: 'playful', city: 'paris' }] },
    ],
  });

export type DesignInput = z.infer<typeof designSchema>;

const levelSchema = z.object({
  key: z.string(),
  label: z.string(),
  prompt: z.string().optional(),
  asset_id: z.string().optional(),
  background_asset_id: z
    .string()
    .optional()
    .describe('The built-in renderer draws this image behind the level'),
  video: z
    .object({ provider: z.string(), model: z.string().optional() })
    .optional()
    .describe("This level's generator, over the campaign's"),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const matrixSchema = z
  .object({
    id: z.string(),
    campaign_id: z.string(),
    name: z.string().nullable(),
    source: z.enum(['json', 'csv', 'xlsx']),
    dimensions: z.array(
      z.object({ key: z.string(), label: z.string(), levels: z.array(levelSchema) }),
    ),
    constraints: z.array(z.object({ exclude: z.record(z.string(), z.array(z.string())) })),
    full_factorial_count: z.string().describe('Exact decimal: it can exceed 2^53'),
    allowed_count: z.string().describe('Combinations left after constraints, exact decimal'),
    created_at: z.iso.datetime(),
  })
  .meta({
    id: 'Matrix',
    examples: [
      {
        id: 'mtx_01jbz7h1n3q4v5w6x7y8z9a0b1',
        campaign_id: 'cmp_01jbz7h1n3q4v5w6x7y8z9a0b1',
        name: 'Tone by city',
        source: 'json',
        dimensions: [
          {
            key: 'tone',
            label: 'tone',
            levels: [
              { key: 'playful', label: 'playful', prompt: 'playful, bright colours' },
              { key: 'serious', label: 'serious' },
            ],
          },
          {
            key: 'city',
            label: 'city',
            levels: [
              { key: 'paris', label: 'Paris' },
              { key: 'rome', label: 'rome' },
            ],
          },
        ],
        constraints: [{ exclude: { tone: ['serious'], city: ['rome'] } }],
        full_factorial_count: '4',
        allowed_count: '3',
        created_at: '2026-03-02T09:30:30.000Z',
      },
    ],
  });

const glyphWarningSchema = z
  .object({
    code: z.literal('missing_glyphs'),
    path: z.string().describe('The level label, e.g. dimensions[1].levels[3].label'),
    dimension: z.string(),
    level: z.string(),
    characters: z.array(z.string()).describe('Each character no caption font draws, once'),
    message: z.string(),
  })
  .meta({ id: 'MatrixWarning' });

/** The created matrix plus what the upload noticed without refusing it. */
export const createdMatrixSchema = matrixSchema
  .extend({
    warnings: z
      .array(glyphWarningSchema)
      .describe('Levels whose text captions cannot draw (no shipped font has the characters)'),
  })
  .meta({ id: 'CreatedMatrix' });

export const matrixParams = z.object({ id: z.string().min(1).max(64) });

/** Documentation of the three accepted bodies; the handler parses CSV and multipart itself. */
export const createMatrixBody = {
  content: {
    'application/json': {
      schema: matrixInputSchema.meta({
        examples: [
          {
            name: 'Tone by city',
            dimensions: [
              {
                key: 'tone',
                levels: [{ key: 'playful', prompt: 'playful, bright colours' }, { key: 'serious' }],
              },
              { key: 'city', levels: [{ key: 'paris', label: 'Paris' }, { key: 'rome' }] },
            ],
            constraints: [{ exclude: { tone: 'serious', city: 'rome' } }],
          },
        ],
      }),
    },
    'text/csv': {
      schema: z
        .string()
        .describe(
          "Wide form (a column per dimension) or long form (dimension,level,label,prompt,asset_id,background_asset_id,provider,model; asset_id is the level's logo, background_asset_id its background on the built-in renderer, provider and model its generator)",
        )
        .meta({ examples: ['tone,city\nplayful,paris\nserious,rome\n'] }),
    },
    'multipart/form-data': {
      schema: z
        .custom<unknown>(() => true)
        .meta({
          type: 'object',
          properties: {
            file: { type: 'string', format: 'binary', description: '.csv or .xlsx' },
            name: { type: 'string' },
            constraints: { type: 'string', description: 'JSON array of {exclude: {...}} rules' },
          },
          required: ['file'],
        }),
    },
  },
};
