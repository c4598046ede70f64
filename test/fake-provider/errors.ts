import type { FastifyReply } from 'fastify';
import type { ErrorOverride, Outcome, ResolvedBehaviour } from './types.ts';

export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** A refusal in the OpenAI error shape, thrown by handlers and rendered by the error handler. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    body: Partial<ErrorBody> & { message: string },
    headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.status = status;
    this.body = {
      message: body.message,
      type: body.type ?? defaultType(status),
      param: body.param ?? null,
      code: body.code ?? null,
    };
    this.headers = headers;
  }
}

function defaultType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function invalid(message: string, param: string | null = null, code: string | null = null) {
  return new ApiError(400, { message, param, code });
}

export function notFound(message: string, param: string | null = null) {
  return new ApiError(404, { message, param });
}

/** Both headers: the SDK prefers `retry-after-ms`, other clients only know `Retry-After`. */
export function rateLimited(message: string, retryAfterMs: number, override?: ErrorOverride) {
  const ms = Math.max(0, Math.ceil(retryAfterMs));
  return withOverride(429, { message, code: 'rate_limit_exceeded' }, override, {
    'retry-after-ms': String(ms),
    'retry-after': String(Math.ceil(ms / 1000)),
  });
}

export function withOverride(
  status: number,
  fallback: Partial<ErrorBody> & { message: string },
  override?: ErrorOverride,
  headers: Record<string, string> = {},
): ApiError {
  // Only fields the override actually sets replace the fallback's.
  const set = Object.fromEntries(
    Object.entries(override ?? {}).filter(([, v]) => v !== undefined),
  ) as ErrorOverride;
  return new ApiError(
    status,
    { ...fallback, ...set, message: set.message ?? fallback.message },
    headers,
  );
}

export function sendApiError(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply
    .code(err.status)
    .headers(err.headers)
    .type('application/json')
    .send({ error: err.body });
}

/** The error a create-time outcome answers with; undefined for outcomes that accept the render. */
export function refusal(outcome: Outcome, b: ResolvedBehaviour): ApiError | undefined {
  switch (outcome) {
    case 'reject_400':
      // Input moderation is the usual 400 for a well-formed request.
      return withOverride(
        b.httpStatus ?? 400,
        {
          message: 'Your request was blocked by our moderation system.',
          code: 'moderation_blocked',
        },
        b.error,
      );
    case 'error_5xx':
      return withOverride(
        b.httpStatus ?? 500,
        { message: 'The server had an error while processing your request. Sorry about that!' },
        b.error,
      );
    case 'rate_limit_429':
      return rateLimited(
        'Rate limit reached for requests. Please try again later.',
        b.retryAfterMs,
        b.error,
      );
    default:
      return undefined;
  }
}
