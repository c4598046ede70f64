import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../db/client.ts';
import { authOf } from '../http/auth.ts';
import { errorResponses, problems } from '../http/problem.ts';
import type { Storage } from '../media/storage.ts';
import { variantVideoKey } from './repository.ts';
import {
  provenanceReportSchema,
  provenanceUploadBody,
  provenanceVariantParams,
  variantProvenanceSchema,
} from './schemas.ts';
import type { Provenance } from './service.ts';

async function bytesOf(stream: Readable, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function provenanceRoutes(
  app: FastifyInstance,
  deps: { db: Db; storage: Storage; provenance: Provenance; maxBytes: number },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['provenance'];

  r.get(
    '/variants/:id/provenance',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getVariantProvenance',
        summary: "The variant's C2PA content credentials, read back from its video and validated",
        description:
          'The manifest store embedded in the composited MP4 (source type, actions, ingredients, the campaign and variant ids) and whether its signature and hashes validate. 404 until the variant is rendered.',
        params: provenanceVariantParams,
        response: { 200: variantProvenanceSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const key = await variantVideoKey(deps.db, {
        tenantId: authOf(request).tenantId,
        id: request.params.id,
      });
      if (!key) throw problems.notFound(key === null ? 'rendered video yet' : 'variant');
      // Our own output: bounded by what compositing wrote, read whole as c2pa-rs needs.
      const bytes = await bytesOf(await deps.storage.open(key), Number.MAX_SAFE_INTEGER);
      const report = await deps.provenance.verify(bytes!);
      const signer = await deps.provenance.status();
      return { ...report, signer: { source: signer.source, trusted: signer.trusted } };
    },
  );

  r.post(
    '/provenance/verify',
    {
      // Reads and writes nothing: a repeat is harmless, so a key is neither needed nor stored.
      config: { scope: 'campaigns:read', idempotency: 'off' },
      schema: {
        tags,
        operationId: 'verifyProvenance',
        summary: "Check an MP4's content credentials before publishing it",
        description: `One MP4 in the multipart field \`file\`, at most the configured PROVENANCE_MAX_BYTES: its C2PA manifest is read and validated (signature, certificate chain, the file's hashes). A file changed after signing is \`invalid\`; one without credentials is \`absent\`.`,
        body: { content: { 'multipart/form-data': { schema: provenanceUploadBody } } },
        response: { 200: provenanceReportSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (request, reply) => {
      const part = await request.file({ limits: { fileSize: deps.maxBytes, files: 1, fields: 0 } });
      if (part?.fieldname !== 'file') {
        throw problems.badRequest('Send the MP4 as a multipart field named "file".', [
          { path: part?.fieldname ?? 'file', message: 'expected one file field named "file"' },
        ]);
      }
      const bytes = await bytesOf(part.file, deps.maxBytes);
      if (!bytes || part.file.truncated) {
        reply.header('connection', 'close');
        throw problems.payloadTooLarge(`Files to verify may be at most ${deps.maxBytes} bytes.`);
      }
      return deps.provenance.verify(bytes);
    },
  );
}
