import { z } from 'zod';
import { providerNames } from '../../providers/catalog.ts';

/** Dimension keys become `{{key}}` placeholders and `levels[key]=` query names, hence ASCII. */
export const DIMENSION_KEY_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
/**
 * IDs are opaque per the API contract, so only the type prefix and a safe alphabet are checked;
 * whether the asset exists and belongs to the tenant is the service's job.
 */
export const ASSET_ID_PATTERN = /^ast_[0-9A-Za-z]{1,64}$/;
export const STANDARD_DIMENSIONS = ['setting', 'tone', 'city', 'partner'] as const;

const LEVEL_KEY_MAX = 64;
const LABEL_MAX = 200;
const PROMPT_MAX = 500;
const METADATA_MAX_BYTES = 2048;

// Line/paragraph separators are included because they break lines in logs and CSV exports.
const NO_CONTROL = /^[^\p{Cc}\p{Zl}\p{Zp}]*$/u;
// Prompt fragments may span lines, so tab/CR/LF are allowed there.
const NO_CONTROL_EXCEPT_WHITESPACE = /^(?:[\t\n\r]|[^\p{Cc}\p{Zl}\p{Zp}])*$/u;

function dimensionKeyMessage(input: unknown): string {
  if (typeof input !== 'string') return 'dimension key must be a string';
  const shown = JSON.stringify(input);
  const hint = DIMENSION_KEY_PATTERN.test(input.toLowerCase())
    ? ` (did you mean "${input.toLowerCase()}"?)`
    : '';
  return `dimension key ${shown} must start with a lowercase letter and contain only lowercase letters, digits and "_" (at most 32 characters)${hint}`;
}

const dimensionKey = z.string().regex(DIMENSION_KEY_PATTERN, {
  error: (iss) => dimensionKeyMessage(iss.input),
});

/** Trimmed and NFC-normalized so that keys typed on different systems compare equal. */
const levelKey = z
  .string()
  .trim()
  .normalize('NFC')
  .min(1, { error: 'level key is empty' })
  .max(LEVEL_KEY_MAX, { error: `level key is longer than ${LEVEL_KEY_MAX} characters` })
  .regex(NO_CONTROL, { error: 'level key contains control characters' });

const label = z
  .string()
  .trim()
  .max(LABEL_MAX, { error: `label is longer than ${LABEL_MAX} characters` })
  .regex(NO_CONTROL, { error: 'label contains control characters' });

const prompt = z
  .string()
  .trim()
  .max(PROMPT_MAX, { error: `prompt is longer than ${PROMPT_MAX} characters` })
  .regex(NO_CONTROL_EXCEPT_WHITESPACE, { error: 'prompt contains control characters' })
  // Placeholders are resolved once, in the campaign's template; a fragment that carried its own
  // would render differently depending on substitution order.
  .refine((s) => !s.includes('{{') && !s.includes('}}'), {
    error: 'prompt must not contain "{{" or "}}" (placeholders belong in the prompt template)',
  });

const assetId = z.string().regex(ASSET_ID_PATTERN, {
  error: (iss) =>
    `asset_id must be an asset id like "ast_…", got ${JSON.stringify(String(iss.input))}`,
});

const metadataScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const metadata = z
  .record(
    z.string(),
    z.union([metadataScalar, z.array(metadataScalar)], {
      error: 'metadata values must be strings, numbers, booleans, null, or arrays of those',
    }),
  )
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= METADATA_MAX_BYTES, {
    error: `metadata is larger than ${METADATA_MAX_BYTES} bytes as JSON`,
  });

const levelVideo = z.strictObject({
  provider: z.enum(providerNames, {
    error: (iss) =>
      `provider must be one of ${providerNames.join(', ')}, got ${JSON.stringify(String(iss.input))}`,
  }),
  model: z
    .string()
    .trim()
    .min(1, { error: 'model is empty' })
    .max(100, { error: 'model is longer than 100 characters' })
    .regex(NO_CONTROL, { error: 'model contains control characters' })
    .optional()
    .describe("Defaults to the provider's default model"),
});

export const levelInputSchema = z.strictObject({
  key: levelKey.describe('Unique within its dimension, ignoring case. 1–64 characters, trimmed.'),
  label: label.optional().describe('Human-readable name; defaults to the key.'),
  prompt: prompt.optional().describe('Fragment substituted for {{dimension}} in the template.'),
  asset_id: assetId
    .optional()
    .describe(
      "Logo composited onto this level's videos. One dimension per matrix may carry logos, whatever its key; it need not appear in prompt_template.",
    ),
  background_asset_id: assetId
    .optional()
    .describe(
      "An image the built-in renderer (local motion-v1) draws behind this level's videos, in place of the level's palette. One dimension per matrix may carry backgrounds, as for logos.",
    ),
  metadata: metadata.optional().describe('Free-form flat JSON object, at most 2 KB.'),
  video: levelVideo
    .optional()
    .describe(
      "The generator for this level's variants, over the campaign's video settings (seconds and size stay the campaign's): the generator as a variable. One dimension per matrix may carry these, whatever its key; it need not appear in prompt_template.",
    ),
});

export const dimensionInputSchema = z.strictObject({
  key: dimensionKey.describe('Used as the {{key}} placeholder: ^[a-z][a-z0-9_]{0,31}$.'),
  label: label.optional().describe('Human-readable name; defaults to the key.'),
  levels: z.array(levelInputSchema).describe('In order; the first level is the reference level.'),
});

export const constraintInputSchema = z.strictObject({
  exclude: z
    .record(z.string(), z.union([z.string(), z.array(z.string())]))
    .describe(
      'Dimension key → level key or keys. A combination matching every term is excluded, e.g. {"city": "paris", "tone": ["serious", "calm"]}.',
    ),
});

export const matrixInputSchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .max(LABEL_MAX, { error: `name is longer than ${LABEL_MAX} characters` })
      .optional(),
    dimensions: z
      .array(dimensionInputSchema)
      .describe('Variables of the A/B test; standard keys: setting, tone, city, partner.'),
    constraints: z.array(constraintInputSchema).optional(),
  })
  .describe('A matrix of variables; each combination of one level per dimension is a variant.');

export type MatrixInput = z.input<typeof matrixInputSchema>;
export type ConstraintInput = z.input<typeof constraintInputSchema>;
