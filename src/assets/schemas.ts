import { z } from 'zod';

export const assetSchema = z
  .object({
    id: z.string(),
    kind: z.literal('logo'),
    content_type: z.enum(['image/png', 'image/jpeg', 'image/webp']),
    width: z.number().int().positive().describe('Pixels, at most 4096'),
    height: z.number().int().positive().describe('Pixels, at most 4096'),
    bytes: z.number().int().positive(),
    sha256: z.string().describe('Of the bytes: uploading them again returns this asset'),
    filename: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({
    id: 'Asset',
    examples: [
      {
        id: 'ast_01jbz7h1n3q4v5w6x7y8z9a0b1',
        kind: 'logo',
        content_type: 'image/png',
        width: 512,
        height: 512,
        bytes: 18422,
        sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
        filename: 'partner-logo.png',
        created_at: '2026-03-02T09:29:00.000Z',
      },
    ],
  });

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

export const signedAssetQuery = z.object({
  expires: z.coerce.number().int().positive(),
  signature: z.string().min(1).max(200),
});
