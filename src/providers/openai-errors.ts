import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AMBIGUOUS_CREATE, ProviderError } from './types.ts';

/** `create` is the one call where "did it happen?" costs money; everything else is a read. */
type Operation = 'create' | 'read';

/**
 * Failures while connecting, before a byte of the request left: the provider cannot have seen
 * it, so a create that failed this way is safe to repeat without looking first.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const DERIVED_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  422: 'unprocessable_entity',
  429: 'rate_limited',
};

/** `retry-after-ms` first (what the SDK itself honours), else `Retry-After` seconds or HTTP date. */
export function retryAfterMsFrom(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms) {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** Walks `cause` (and AggregateError's `errors`, from happy-eyeballs connects) for a syscall code. */
function systemCodes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((x) => systemCodes(x, depth + 1)) : [];
  return [...own, ...nested, ...systemCodes(e.cause, depth + 1)];
}

/** True when every syscall code in the chain says the request never left this machine. */
export function neverSent(err: unknown): boolean {
  const codes = systemCodes(err);
  return codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c));
}

function ambiguous(
  message: string,
  err: unknown,
  extra: {
    status?: number;
    retryAfterMs?: number | undefined;
    requestId?: string | undefined;
  } = {},
): ProviderError {
  return new ProviderError(`create may have gone through: ${message}`, {
    kind: 'transient',
    code: AMBIGUOUS_CREATE,
    status: extra.status,
    retryAfterMs: extra.retryAfterMs,
    requestId: extra.requestId,
    cause: err,
  });
}

/**
 * Maps anything the SDK throws to a ProviderError. For `create`, whatever is not a clear refusal
 * is ambiguous: a false "ambiguous" costs one list scan, a false "refused" can cost a render.
 */
export function classify(err: unknown, op: Operation): ProviderError {
  if (err instanceof ProviderError) return err;
  const message = err instanceof Error ? err.message : String(err);

  // Connection errors, timeouts and aborts are APIErrors without a status: test them first.
  if (err instanceof APIUserAbortError) {
    // The abort may have landed after the request body was sent.
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'aborted', cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) {
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'timeout', cause: err });
  }
  if (err instanceof APIConnectionError) {
    if (neverSent(err)) {
      return new ProviderError(message, {
        kind: 'transient',
        code: 'unreachable',
        cause: err,
      });
    }
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'connection_error', cause: err });
  }
  if (!(err instanceof APIError) || err.status === undefined) {
    // E.g. a 200 whose body does not parse: the render may well exist.
    if (op === 'create') return ambiguous(message, err);
    return new ProviderError(message, { kind: 'transient', code: 'unexpected_error', cause: err });
  }

  const status = err.status;
  const requestId = err.requestID ?? undefined;
  const retryAfterMs = retryAfterMsFrom(err.headers);
  const providerCode = typeof err.code === 'string' && err.code !== '' ? err.code : undefined;
  const code =
    providerCode ?? DERIVED_CODES[status] ?? (status >= 500 ? 'server_error' : `http_${status}`);
  const base = { status, requestId, retryAfterMs, cause: err };

  if (status === 429) {
    // OpenAI answers an exhausted balance with 429 too; waiting does not refill it.
    if (code === 'insufficient_quota')
      return new ProviderError(message, { ...base, kind: 'permanent', code });
    return new ProviderError(message, { ...base, kind: 'rate_limited', code });
  }
  if (status >= 500 || status === 408) {
    // Gateways answer 502/504 (and LiteLLM 408) when *their* upstream call timed out, which
    // says nothing about whether the upstream created the render.
    if (op === 'create') return ambiguous(message, err, base);
    return new ProviderError(message, { ...base, kind: 'transient', code });
  }
  if (status === 409) return new ProviderError(message, { ...base, kind: 'transient', code });
  return new ProviderError(message, { ...base, kind: 'permanent', code });
}
