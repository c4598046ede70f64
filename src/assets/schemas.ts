import { z } from 'zod';

export const assetSchema = z
  .object({
    id: z.string(),
    kind: z
      .enum(['logo', 'audio'])
      .describe("logo: an image, a level's logo or a first frame; audio: a spot's audio bed"),
    content_type: z.enum([
      'image/png',
      'image/jpeg',
      'image/webp',
      'audio/mpeg',
      'audio/aac',
      'audio/mp4',
      'audio/wav',
      'audio/ogg',
    ]),
    width: z.number().int().positive().nullable().describe('Pixels, at most 4096; null for audio'),
    height: z.number().int().positive().nullable().describe('Pixels, at most 4096; null for audio'),
    duration_s: z.number().nullable().describe('Audio only: its length as ffprobe measured it'),
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
        duration_s: null,
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
      file: {
        type: 'string',
        format: 'binary',
        description:
          'A logo (PNG, JPEG or WebP, at most UPLOAD_LIMIT_BYTES) or an audio bed (MP3, AAC as ADTS or M4A, WAV or Ogg, at most ASSET_AUDIO_MAX_BYTES and ASSET_AUDIO_MAX_SECONDS)',
      },
    },
    required: ['file'],
  });

export const signedAssetQuery = z.object({
  expires: z.coerce.number().int().positive(),
  signature: z.string().min(1).max(200),
});
