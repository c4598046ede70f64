import { z } from 'zod';

export interface FieldError {
  /** XLSX uploads: the worksheet the row and column are on. */
  sheet?: string;
  path?: string;
  row?: number;
  column?: string;
  message: string;
}

interface ProblemInit {
  status: number;
  slug: string;
  title: string;
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** Thrown anywhere below a route; the one error handler turns it into RFC 9457 problem+json. */
export class ProblemError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = 'ProblemError';
    this.status = init.status;
    this.slug = init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.headers = init.headers ?? {};
  }
}

export const problemTypeBase = 'https://admatrix.dev/problems/';

export const problems = {
  badRequest: (detail: string, errors?: FieldError[]) =>
    new ProblemError({
      status: 400,
      slug: 'malformed-request',
      title: 'Malformed request',
      detail,
      errors,
    }),
  unauthorized: (detail = 'A valid API key is required: Authorization: Bearer amx_…') =>
    new ProblemError({
      status: 401,
      slug: 'unauthorized',
      title: 'Unauthorized',
      detail,
      headers: { 'www-authenticate': 'Bearer' },
    }),
  forbidden: (scope: string) =>
    new ProblemError({
      status: 403,
      slug: 'missing-scope',
      title: 'Forbidden',
      detail: `This API key lacks the scope ${scope}.`,
    }),
  notFound: (what = 'resource') =>
    new ProblemError({
      status: 404,
      slug: 'not-found',
      title: 'Not found',
      detail: `No such ${what}.`,
    }),
  conflict: (detail: string) =>
    new ProblemError({ status: 409, slug: 'conflict', title: 'Conflict', detail }),
  payloadTooLarge: (detail: string) =>
    new ProblemError({
      status: 413,
      slug: 'payload-too-large',
      title: 'Payload too large',
      detail,
    }),
  unsupportedMediaType: (detail: string) =>
    new ProblemError({
      status: 415,
      slug: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail,
    }),
  unprocessable: (detail: string, errors?: FieldError[]) =>
    new ProblemError({
      status: 422,
      slug: 'unprocessable',
      title: 'Unprocessable request',
      detail,
      errors,
    }),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemError({
      status: 429,
      slug: 'rate-limited',
      title: 'Too many requests',
      detail: `Rate limit exceeded; retry in ${retryAfterSeconds} s.`,
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  unavailable: (detail: string, errors?: FieldError[]) =>
    new ProblemError({
      status: 503,
      slug: 'service-unavailable',
      title: 'Service unavailable',
      detail,
      errors,
      headers: { 'retry-after': '5' },
    }),
};

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string(),
    request_id: z.string(),
    errors: z
      .array(
        z.object({
          sheet: z.string().optional(),
          path: z.string().optional(),
          row: z.number().int().min(1).optional(),
          column: z.string().optional(),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .meta({
    id: 'Problem',
    description:
      'RFC 9457 problem details; errors names each field (path), or row and column of an upload',
    examples: [
      {
        type: 'https://admatrix.dev/problems/unprocessable',
        title: 'Unprocessable request',
        status: 422,
        detail: 'The upload has 1 invalid row.',
        instance: '/v1/metrics',
        request_id: 'req_01jbz7h1n3q4v5w6x7y8z9a0b1',
        errors: [{ row: 3, column: 'clicks', message: 'clicks (120) exceeds impressions (100)' }],
      },
    ],
  });

/** What each status means here; the OpenAPI transform declares them from this too. */
export const errorDescriptions: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or unknown API key',
  403: 'The API key lacks a scope',
  404: 'Not found, or owned by another tenant',
  409: 'Conflict (e.g. the same Idempotency-Key is still in flight)',
  413: 'Body too large',
  414: 'A path parameter over 100 characters',
  415: 'Unsupported media type',
  416: 'The Range is outside the file',
  422: 'Well-formed but unacceptable (or an Idempotency-Key reused with another request)',
  429: 'Rate limited; see Retry-After',
  431: 'The URL or headers are over 16 KB',
  503: 'A backing service is unavailable',
};

/** Documents error responses in OpenAPI; the handler sends the bodies as pre-serialized strings. */
export function errorResponses(...codes: number[]) {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      {
        description: errorDescriptions[code] ?? 'Error',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  );
}
