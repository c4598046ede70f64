import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { campaignParams } from '../campaigns/schemas.ts';
import { authOf } from '../http/auth.ts';
import { decodeCursor, pageSchema, paginationQuery, toPage } from '../http/pagination.ts';
import { errorResponses, problems } from '../http/problem.ts';
import type { ConstraintInput } from './parse/index.ts';
import { previewBody, previewSchema } from './preview-schemas.ts';
import { createdMatrixSchema, createMatrixBody, matrixParams, matrixSchema } from './schemas.ts';
import { type MatrixService, type MatrixSource, toMatrixResponse } from './service.ts';

const zipMagic = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const oleMagic = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/**
 * A .csv or .xlsx file plus optional name and constraints fields, in any order. Read in
 * preValidation, before the Idempotency-Key is claimed, with the file hashed as it streams: the
 * key's fingerprint includes the file, so the same key with another file is a 422, not a replay.
 */
async function readMultipart(request: FastifyRequest, maxFileBytes: number): Promise<MatrixSource> {
  let file: Buffer | undefined;
  let fileSha256 = '';
  let name: string | undefined;
  let constraints: ConstraintInput[] | undefined;
  for await (const part of request.parts({
    limits: { fileSize: maxFileBytes, files: 1, fields: 5 },
  })) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        hash.update(chunk);
        chunks.push(chunk);
      }
      file = Buffer.concat(chunks);
      fileSha256 = hash.digest('hex');
      if (part.file.truncated)
        throw problems.payloadTooLarge(`Matrix files may be at most ${maxFileBytes} bytes.`);
    } else if (part.fieldname === 'name') {
      name = String(part.value).slice(0, 200);
    } else if (part.fieldname === 'constraints') {
      try {
        constraints = JSON.parse(String(part.value)) as ConstraintInput[];
      } catch {
        throw problems.badRequest('The constraints field must be a JSON array.', [
          { path: 'constraints', message: 'invalid JSON' },
        ]);
      }
      if (!Array.isArray(constraints)) {
        throw problems.badRequest('The constraints field must be a JSON array.', [
          { path: 'constraints', message: 'not an array' },
        ]);
      }
    }
  }
  if (!file)
    throw problems.badRequest('Send the matrix as a multipart field named "file".', [
      { path: 'file', message: 'required' },
    ]);
  request.bodyFingerprint = JSON.stringify({ file: fileSha256, name, constraints });
  const head = file.subarray(0, 4);
  const extra = { ...(name ? { name } : {}), ...(constraints ? { constraints } : {}) };
  // The bytes decide: an .xlsx is a ZIP, a legacy .xls an OLE file (which the XLSX reader names).
  if (head.equals(zipMagic) || head.equals(oleMagic))
    return { kind: 'xlsx', buffer: file, ...extra };
  return { kind: 'csv', text: file, ...extra };
}

export async function matrixRoutes(
  app: FastifyInstance,
  deps: { matrices: MatrixService; maxFileBytes: number },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['matrices'];
  const uploads = new WeakMap<FastifyRequest, MatrixSource>();

  r.post(
    '/campaigns/:id/matrices',
    {
      config: { scope: 'campaigns:write' },
      bodyLimit: deps.maxFileBytes + 64 * 1024,
      preValidation: async (request) => {
        if (request.isMultipart())
          uploads.set(request, await readMultipart(request, deps.maxFileBytes));
      },
      schema: {
        tags,
        operationId: 'createMatrix',
        summary: 'Add a variable matrix to a campaign (JSON, CSV, or a multipart .csv/.xlsx)',
        description:
          'Dimensions (e.g. tone, city), their levels and exclusion constraints. Send JSON, a CSV (wide: a column per dimension; long: dimension,level,label,prompt,asset_id,background_asset_id,provider,model), or a multipart upload of a .csv or .xlsx. Every problem names its row and column.',
        params: campaignParams,
        body: createMatrixBody,
        response: {
          201: createdMatrixSchema,
          ...errorResponses(400, 401, 403, 404, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = authOf(request);
      const source: MatrixSource = request.isMultipart()
        ? (uploads.get(request) as MatrixSource)
        : typeof request.body === 'string'
          ? { kind: 'csv', text: request.body }
          : { kind: 'json', body: request.body };
      const { row, warnings } = await deps.matrices.create(tenantId, request.params.id, source);
      return reply.code(201).send({ ...toMatrixResponse(row), warnings });
    },
  );

  r.get(
    '/campaigns/:id/matrices',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'listMatrices',
        summary: "List a campaign's matrices",
        description: "The campaign's matrices, newest first, a page at a time.",
        params: campaignParams,
        querystring: paginationQuery,
        response: { 200: pageSchema(matrixSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await deps.matrices.list(authOf(request).tenantId, request.params.id, {
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      return toPage(rows, limit, toMatrixResponse);
    },
  );

  r.get(
    '/matrices/:id',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'getMatrix',
        summary: 'Get a matrix',
        description:
          'A matrix with its dimensions, levels, constraints and exact combination counts.',
        params: matrixParams,
        response: { 200: matrixSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) =>
      toMatrixResponse(await deps.matrices.get(authOf(request).tenantId, request.params.id)),
  );

  r.post(
    '/matrices/:id/preview',
    {
      config: { scope: 'campaigns:read' },
      schema: {
        tags,
        operationId: 'previewMatrix',
        summary:
          'Quote a design: count, cost, design quality and rendered prompts. Writes nothing.',
        description:
          'Plans the design as a run would (same budget and limits, counting what earlier runs spent or reserved) and returns the variant count, cost, design_stats and a sample of rendered prompts, without writing anything.',
        params: matrixParams,
        body: previewBody,
        response: { 200: previewSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) =>
      deps.matrices.preview(authOf(request).tenantId, request.params.id, request.body),
  );
}
