import { neverSent, retryAfterMsFrom } from '../openai-errors.ts';
import { AMBIGUOUS_CREATE, ProviderError } from '../types.ts';

export type Operation = 'create' | 'read';

/** What fal answered, read once: the error body is JSON (`{detail}`) or text. */
interface FalHttpError {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export async function readError(res: Response): Promise<FalHttpError> {
  const text = await res.text().catch(() => '');
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body, text };
}

/** `detail` is a string, or FastAPI's `[{loc, msg, type}]`. */
export function detailOf(body: unknown): { type?: string; message: string } {
  const d = (body as { detail?: unknown } | null)?.detail;
  if (typeof d === 'string') return { message: d };
  if (Array.isArray(d) && d.length > 0) {
    const first = d[0] as { type?: unknown; msg?: unknown };
    return {
      type: typeof first.type === 'string' ? first.type : undefined,
      message: d
        .map((x: { msg?: unknown }) => (typeof x?.msg === 'string' ? x.msg : JSON.stringify(x)))
        .join('; '),
    };
  }
  return { message: '' };
}

/** A transport failure (no answer): connection refused is safe to repeat; anything else on create is not. */
export function transportError(err: unknown, op: Operation, what: string): ProviderError {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (neverSent(err)) {
    return new ProviderError(message, { kind: 'transient', code: 'unreachable', cause: err });
  }
  if (op === 'create') {
    // Timeout, reset, an abort mid-request: the body may have arrived and a render be paid for.
    return new ProviderError(`create may have gone through: ${message}`, {
      kind: 'transient',
      code: AMBIGUOUS_CREATE,
      cause: err,
    });
  }
  const name = (err as { name?: string } | null)?.name;
  const code =
    name === 'TimeoutError' ? 'timeout' : name === 'AbortError' ? 'aborted' : 'connection_error';
  return new ProviderError(message, { kind: 'transient', code, cause: err });
}

/** An HTTP error answer of a queue call (not a model's failure: see the adapter's result). */
export function httpError(e: FalHttpError, op: Operation, what: string): ProviderError {
  const requestId = e.headers.get('x-fal-request-id') ?? undefined;
  const detail = detailOf(e.body);
  const message = `${what} answered ${e.status}${detail.message ? `: ${detail.message}` : ''}`;
  const base = { status: e.status, requestId, retryAfterMs: retryAfterMsFrom(e.headers) };
  if (e.status === 429)
    return new ProviderError(message, { ...base, kind: 'rate_limited', code: 'rate_limited' });
  if (e.status >= 500 || e.status === 408) {
    // fal never bills a 5xx, but a proxy's 502/504 says nothing about whether fal queued it.
    if (op === 'create') {
      return new ProviderError(`create may have gone through: ${message}`, {
        ...base,
        kind: 'transient',
        code: AMBIGUOUS_CREATE,
      });
    }
    const code = e.headers.get('x-fal-error-type') ?? 'server_error';
    return new ProviderError(message, { ...base, kind: 'transient', code });
  }
  if (detail.type === 'content_policy_violation') {
    return new ProviderError(message, { ...base, kind: 'permanent', code: 'moderation_blocked' });
  }
  const code =
    e.status === 401
      ? 'unauthorized'
      : e.status === 403
        ? 'forbidden'
        : e.status === 404
          ? 'not_found'
          : e.status === 422
            ? 'unprocessable_entity'
            : `http_${e.status}`;
  return new ProviderError(message, { ...base, kind: 'permanent', code });
}
