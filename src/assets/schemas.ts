import { z } from 'zod';

export const assetSchema = z
  .object({
    id: z.string(),
    kind: z.literal('logo'),
    content_type: z.enum(['image/png', 'image/jpeg', 'image/webp']),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string(),
    filename: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Asset' });

export const assetParams = z.object({ id: z.string().min(1).max(64) });

/**
 * The handler streams the file itself, so nothing is validated here; the metadata is what the
 * OpenAPI document shows.
 */
export const assetUploadBody = z
  .custom<unknown>(() => true)
  .meta({
    type: 'object',
    properties: {
      file: { type: 'string', format: 'binary', description: 'PNG, JPEG or WebP, at most 5 MB' },
    },
    required: ['file'],
  });
