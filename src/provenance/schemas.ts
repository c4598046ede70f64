import { z } from 'zod';

/** What a campaign tool copies into each platform's AI label (README: Provenance). */
export const aiDisclosureFields = {
  ai_generated: z
    .boolean()
    .describe(
      "Made with a trained generative model: set the platform's AI label (Meta AI info, TikTok AI-generated content, YouTube altered or synthetic content)",
    ),
  digital_source_type: z
    .string()
    .describe(
      "IPTC digital source type, as in the video's C2PA manifest (compositeWithTrainedAlgorithmicMedia, trainedAlgorithmicMedia, algorithmicMedia)",
    ),
};

export const disclosureSchema = z
  .object({
    visible: z.boolean().default(true),
    text: z.string().trim().min(1).max(60).default('AI-generated'),
    position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right']).default('top-left'),
    seconds: z
      .number()
      .positive()
      .max(600)
      .nullable()
      .default(null)
      .describe('Shown from the start for this long; null: the whole video'),
  })
  .describe(
    'The visible AI label on videos a trained model made (never on local): on unless visible is false. The C2PA manifest marks them either way.',
  );

export const provenanceVariantParams = z.object({ id: z.string().min(1).max(64) });

export const provenanceReportSchema = z
  .object({
    state: z
      .enum(['trusted', 'valid', 'invalid', 'absent'])
      .describe(
        'trusted: signature valid and the chain ends at a C2PA_TRUST_ANCHORS root; valid: signature and hashes check out, signer not on a trust list (the development chain always is); invalid: tampered or broken; absent: no manifest',
      ),
    trusted: z.boolean(),
    digital_source_type: z
      .string()
      .nullable()
      .describe('IPTC digital source type declared by the c2pa.created action'),
    ai_generated: z.boolean().nullable(),
    failures: z.array(z.object({ code: z.string(), explanation: z.string().optional() })),
    manifest_store: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('The C2PA manifest store as c2pa-rs reads it (certificates left out)'),
  })
  .meta({ id: 'ProvenanceReport' });

export const variantProvenanceSchema = provenanceReportSchema
  .extend({
    signer: z.object({
      source: z
        .enum(['configured', 'development'])
        .describe('development: a local CA made by this deployment, not trusted by anyone else'),
      trusted: z.boolean(),
    }),
  })
  .meta({ id: 'VariantProvenance' });

export const provenanceUploadBody = z
  .custom<unknown>(() => true)
  .meta({
    type: 'object',
    properties: { file: { type: 'string', format: 'binary', description: 'An MP4' } },
    required: ['file'],
  });
