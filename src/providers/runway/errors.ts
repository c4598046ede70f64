import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@runwayml/sdk';
import { neverSent, retryAfterMsFrom } from '../openai-errors.ts';
import { AMBIGUOUS_CREATE, ProviderError } from '../types.ts';

/** `create` is the one call where "did it happen?" costs money; everything else is a read. */
export type Operation = 'create' | 'read';

/** Runway's cap on generations per model per rolling day answers 429 too; it says so in words. */
const DAILY_CAP = /\bdaily\b|\bper day\b|24[- ]hour/i;

const DERIVED_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  422: 'unprocessable_entity',
  429: 'rate_limited',
};

/** Runway's error body is `{"error": "Invalid parameter 'promptText'"}`; keep its words. */
function runwayMessage(err: APIError): string {
  const body = err.error as { error?: unknown; message?: unknown } | undefined;
  if (typeof body?.error === 'string' && body.error !== '') return body.error;
  if (typeof body?.message === 'string' && body.message !== '') return body.message;
  return err.message;
}

/**
 * Runway has no list endpoint, so a create that may have reached it cannot be looked for: the
 * error is permanent, and the pipeline parks the variant `held` instead of paying twice.
 */
function ambiguous(
  message: string,
  err: unknown,
  extra: { status?: number | undefined } = {},
): ProviderError {
  return new ProviderError(`create may have gone through: ${message}`, {
    kind: 'permanent',
    code: AMBIGUOUS_CREATE,
    status: extra.status,
    cause: err,
  });
}

/** Maps anything `@runwayml/sdk` throws to a ProviderError. */
export function classify(err: unknown, op: Operation): ProviderError {
  if (err instanceof ProviderError) return err;
  const message = err instanceof Error ? err.message : String(err);

  // Connection errors, timeouts and aborts are APIErrors without a status: test them first.
  if (err instanceof APIUserAbortError) {
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'aborted', cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) {
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'timeout', cause: err });
  }
  if (err instanceof APIConnectionError) {
    // Refused, unresolvable, unreachable: not a byte left, so even a create may be repeated.
    if (neverSent(err))
      return new ProviderError(message, { kind: 'transient', code: 'unreachable', cause: err });
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'connection_error', cause: err });
  }
  if (!(err instanceof APIError) || err.status === undefined) {
    // E.g. a 200 whose body does not parse: the task may well exist.
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'unexpected_error', cause: err });
  }

  const status = err.status;
  const text = runwayMessage(err);
  const base = {
    status,
    retryAfterMs: retryAfterMsFrom(err.headers),
    requestId: err.headers?.get('x-request-id') ?? undefined,
    cause: err,
  };
  if (status === 429) {
    const code = DAILY_CAP.test(text) ? 'daily_limit' : 'rate_limited';
    return new ProviderError(text, { ...base, kind: 'rate_limited', code });
  }
  if (status >= 500 || status === 408) {
    // A 5xx or 408 says nothing about whether Runway stored the task before failing.
    if (op === 'create') return ambiguous(text, err, { status });
    return new ProviderError(text, {
      ...base,
      kind: 'transient',
      code: DERIVED_CODES[status] ?? 'server_error',
    });
  }
  return new ProviderError(text, {
    ...base,
    kind: 'permanent',
    code: DERIVED_CODES[status] ?? `http_${status}`,
  });
}
