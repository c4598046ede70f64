import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { charsetOf } from '../csv/decode.ts';
import { authOf } from '../http/auth.ts';
import { errorResponses, problems } from '../http/problem.ts';
import { XLSX_TYPE } from '../reports/schemas.ts';
import { ingestResultSchema, metricsBody, metricsQuery } from './schemas.ts';
import type { MetricsService, MetricsSource } from './service.ts';

// An .xlsx body is told apart from a CSV by its bytes, not by this list.
const STREAMED_TYPES = ['text/csv', 'text/plain', XLSX_TYPE] as const;

async function* once(text: string) {
  yield text;
}

export async function metricRoutes(
  app: FastifyInstance,
  deps: { metrics: MetricsService; maxBytes: number },
) {
  // Inside this plugin only, CSV bodies arrive as the request stream instead of one string,
  // so an upload is decoded and parsed as it arrives; the size limit is enforced while reading.
  app.removeContentTypeParser(['text/csv', 'text/plain']);
  app.addContentTypeParser([...STREAMED_TYPES], (_request, payload, done) => done(null, payload));

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/metrics',
    {
      // A streamed body cannot be hashed before the handler reads it; the upsert on
      // (variant, date, platform) makes a repeated upload a no-op anyway (reported as unchanged).
      config: { scope: 'metrics:write', idempotency: 'off' },
      bodyLimit: deps.maxBytes,
      // Rows are checked by the service so that every problem is a 422 naming its row (and
      // column), listed up to 100, the same for JSON and CSV; the schema documents the shape.
      // The query string is validated as usual.
      validatorCompiler: (part) =>
        part.httpPart === 'body'
          ? (data: unknown) => ({ value: data })
          : validatorCompiler(part as unknown as Parameters<typeof validatorCompiler>[0]),
      schema: {
        tags: ['metrics'],
        operationId: 'uploadMetrics',
        summary:
          'Upload daily performance per variant, date and platform (JSON rows, CSV, XLSX, or a multipart .csv/.xlsx); upserts, all or nothing',
        description:
          "Rows of impressions, clicks, conversions, spend and video views per variant, date and platform. A row names its variant by variant_id or by external_id, the platform's ad id recorded with a delivery (both: they must agree). CSV columns that are not metric fields are ignored and listed in the answer. decimal and date_format say how text cells spell numbers and dates. A repeated row updates the numbers; any bad row fails the whole upload with a 422 naming its row and column; a row naming no variant of yours does too, unless unmatched=skip, which refuses and lists it.",
        querystring: metricsQuery,
        body: metricsBody,
        response: {
          200: ingestResultSchema,
          ...errorResponses(400, 401, 403, 413, 415, 422),
        },
      },
    },
    async (request) => {
      const { tenantId } = authOf(request);
      const { decimal, date_format, unmatched } = request.query;
      const options = { format: { decimal, dateFormat: date_format }, unmatched };
      const body: unknown = request.body;
      let source: MetricsSource;
      if (request.isMultipart()) {
        // One byte over the limit, so the reader's own limit trips with its clearer message.
        const part = await request.file({ limits: { fileSize: deps.maxBytes + 1, files: 1 } });
        if (part?.fieldname !== 'file') {
          part?.file.resume();
          throw problems.badRequest('Send the metrics as a multipart field named "file".', [
            { path: 'file', message: 'required' },
          ]);
        }
        source = { kind: 'csv', stream: part.file };
      } else if (body instanceof Readable) {
        source = { kind: 'csv', stream: body, charset: charsetOf(request.headers['content-type']) };
      } else if (typeof body === 'string') {
        source = { kind: 'csv', stream: once(body) };
      } else {
        source = { kind: 'json', body };
      }
      return deps.metrics.ingest(tenantId, source, options);
    },
  );
}
