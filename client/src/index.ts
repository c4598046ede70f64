/**
 * A typed client for the admatrix REST API: openapi-fetch over types generated from the
 * committed openapi/openapi.json (npm run generate), plus the three things every integration
 * otherwise writes by hand: idempotent retries, problem+json errors, and cursor pagination.
 */
import createClient, { type Client } from 'openapi-fetch';
import { keyedPosts } from './keyed-posts.ts';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
export type Schemas = components['schemas'];

/** A field, row or column the server named in a problem's `errors`. */
export interface ProblemField {
  path?: string;
  message: string;
  [extra: string]: unknown;
}

/** An RFC 9457 problem the server answered with, thrown by `unwrap`. */
export class AdmatrixProblem extends Error {
  override readonly name = 'AdmatrixProblem';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: ProblemField[];
  readonly requestId: string | undefined;
  /** The whole body, for fields this class does not name. */
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    const detail = typeof body.detail === 'string' ? body.detail : undefined;
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.type = typeof body.type === 'string' ? body.type : 'about:blank';
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(body.errors) ? (body.errors as ProblemField[]) : [];
    this.requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
    this.body = body;
  }
}

export interface ClientOptions {
  /** e.g. https://admatrix.example.com (no /v1: paths carry it). */
  baseUrl: string;
  apiKey: string;
  /** Attempts per request on network errors, 429, 502, 503 and 504 (default 3; 1 = no retry). */
  attempts?: number;
  /** Longest wait between attempts, whatever Retry-After says (default 30 s). */
  maxDelayMs?: number;
  /** The transport (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Stored by content hash: the same upload twice is the same asset. */
const CONTENT_IDEMPOTENT = new Set(['/v1/assets']);

/**
 * Every POST that takes an Idempotency-Key carries one (the caller's, or a fresh UUID), so the
 * server acts once however often the request is sent; only then is it safe to retry one whose
 * answer was lost. The others (uploads) are idempotent by content. Retries back off
 * exponentially and honour Retry-After.
 */
function retryingFetch(opts: ClientOptions) {
  const send = opts.fetch ?? ((request: Request) => globalThis.fetch(request));
  const attempts = Math.max(1, opts.attempts ?? 3);
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  return async (request: Request): Promise<Response> => {
    const retryable =
      SAFE_METHODS.has(request.method) ||
      request.headers.has('idempotency-key') ||
      CONTENT_IDEMPOTENT.has(new URL(request.url).pathname);
    for (let attempt = 1; ; attempt++) {
      const last = !retryable || attempt >= attempts;
      let response: Response;
      try {
        response = await send(last ? request : request.clone());
      } catch (err) {
        if (last || !(err instanceof TypeError)) throw err; // fetch's network failures
        await wait(backoff(attempt, null, maxDelayMs));
        continue;
      }
      if (last || !RETRYABLE.has(response.status)) return response;
      await response.body?.cancel();
      await wait(backoff(attempt, response.headers.get('retry-after'), maxDelayMs));
    }
  };
}

function backoff(attempt: number, retryAfter: string | null, maxDelayMs: number): number {
  const asked = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : null;
  const exponential = 250 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
  return Math.min(asked ?? exponential, maxDelayMs);
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A page of any list route: `data` and the cursor of the next page. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface AdmatrixClient extends Client<paths> {
  /** The data of a call, or an AdmatrixProblem thrown for any non-2xx answer. */
  unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T>;
  /** Every item of a list, a page at a time: `pages((cursor) => c.unwrap(c.GET(…cursor…)))`. */
  pages<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T>;
}

export function createAdmatrixClient(opts: ClientOptions): AdmatrixClient {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/$/, ''),
    fetch: retryingFetch(opts),
  });
  client.use({
    onRequest({ request, schemaPath }) {
      request.headers.set('authorization', `Bearer ${opts.apiKey}`);
      const keyed = request.method === 'POST' && keyedPosts.has(schemaPath);
      if (keyed && !request.headers.has('idempotency-key'))
        request.headers.set('idempotency-key', crypto.randomUUID());
      return request;
    },
  });
  return Object.assign(client, {
    async unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>) {
      const { data, error, response } = await call;
      if (!response.ok) {
        const body =
          error && typeof error === 'object'
            ? (error as Record<string, unknown>)
            : {
                title: `HTTP ${response.status}`,
                detail: typeof error === 'string' ? error : undefined,
              };
        throw new AdmatrixProblem(response.status, body);
      }
      return data as T;
    },
    async *pages<T>(page: (cursor: string | undefined) => Promise<Page<T>>) {
      let cursor: string | undefined;
      do {
        const { data, next_cursor } = await page(cursor);
        yield* data;
        cursor = next_cursor ?? undefined;
      } while (cursor);
    },
  });
}
