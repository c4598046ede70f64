import http, {
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import {
  BLOCKED_ADDRESS_PUBLIC,
  BlockedAddressError,
  deniedAddressReason,
  guardLookup,
} from './address-policy.ts';
import { hostMatches, normalizeHost, urlShapeProblems } from './url.ts';

export type AttemptOutcome = 'delivered' | 'failed' | 'blocked' | 'gone' | 'throttled';

export interface AttemptResult {
  outcome: AttemptOutcome;
  status?: number;
  durationMs: number;
  /** At most maxResponseBytes of the response body, decoded as UTF-8 (NULs removed). */
  responseExcerpt?: string;
  error?: string;
  /** Operators only (server log, never the tenant's attempt log): e.g. which address was blocked. */
  detail?: string;
  /** Set with `throttled`: how long the receiver asked us to wait. */
  retryAfterMs?: number;
}

export interface WebhookSenderOptions {
  /** Hosts (names or IPs, matched against the URL's host) exempt from the SSRF filter. */
  allowHosts?: readonly string[];
  /** `true`: http to any host (development only); a list: http only to these hosts. */
  allowHttp?: boolean | readonly string[];
  /** Whole attempt: connect, response headers and the excerpt. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** DNS resolver to guard; defaults to dns.lookup. Lets tests resolve names without real DNS. */
  lookup?: LookupFunction;
}

export interface SendInput {
  url: string;
  headers: Readonly<Record<string, string>>;
  /** The exact bytes that were signed. */
  body: string;
  signal?: AbortSignal;
}

export interface WebhookSender {
  send(input: SendInput): Promise<AttemptResult>;
}

// The shape of request-filtering-agent's refusals; only reachable if our own checks missed one.
export const AGENT_REFUSAL = /^DNS lookup .* is not allowed/;

/** Parses Retry-After (delta-seconds or an HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts almost anything ("1" is a year); HTTP-dates all end in GMT.
  if (!text.endsWith('GMT')) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function outcomeForStatus(
  status: number,
  headers: IncomingHttpHeaders,
): Pick<AttemptResult, 'outcome' | 'error' | 'retryAfterMs'> {
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  if (status === 410) return { outcome: 'gone' };
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    if (retryAfterMs !== undefined) return { outcome: 'throttled', retryAfterMs };
  }
  if (status >= 300 && status < 400) {
    const location = headers.location?.slice(0, 200);
    return {
      outcome: 'failed',
      error: `redirect not followed${location ? ` (to ${location})` : ''}`,
    };
  }
  return { outcome: 'failed' };
}

function errorResult(err: Error): Pick<AttemptResult, 'outcome' | 'error' | 'detail'> {
  if (err instanceof BlockedAddressError || AGENT_REFUSAL.test(err.message))
    return { outcome: 'blocked', error: BLOCKED_ADDRESS_PUBLIC, detail: err.message };
  const code = (err as NodeJS.ErrnoException).code;
  return {
    outcome: 'failed',
    error: code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message,
  };
}

// Framing is ours to set from the body we actually send; a stray caller value would conflict.
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);

function requestHeaders(headers: SendInput['headers'], length: number): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!FRAMING_HEADERS.has(name.toLowerCase())) result[name] = value;
  }
  result['content-length'] = String(length);
  return result;
}

export function createWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const { allowHosts, allowHttp, timeoutMs = 15_000, maxResponseBytes = 2048 } = options;
  if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  // No keep-alive: each attempt is a fresh connection whose address is checked; pooled sockets
  // would also outlive the excerpt we cut short.
  const filtered = {
    http: new RequestFilteringHttpAgent({ keepAlive: false }),
    https: new RequestFilteringHttpsAgent({ keepAlive: false }),
  };
  const exempt = {
    http: new http.Agent({ keepAlive: false }),
    https: new https.Agent({ keepAlive: false }),
  };
  const guardedLookup = guardLookup(options.lookup);
  const exemptLookup = options.lookup ? { lookup: options.lookup } : {};

  function send(input: SendInput): Promise<AttemptResult> {
    const started = performance.now();
    const done = (result: Omit<AttemptResult, 'durationMs'>): AttemptResult => ({
      ...result,
      durationMs: Math.round(performance.now() - started),
    });

    const problems = urlShapeProblems(input.url, { allowHttp });
    if (problems.length > 0)
      return Promise.resolve(done({ outcome: 'blocked', error: problems.join('; ') }));
    if (input.signal?.aborted)
      return Promise.resolve(done({ outcome: 'failed', error: 'aborted' }));

    const url = new URL(input.url);
    const host = normalizeHost(url.hostname);
    const isExempt = hostMatches(host, allowHosts);
    // An IP literal never goes through DNS, so the lookup guard would not see it.
    if (!isExempt && isIP(host)) {
      const reason = deniedAddressReason(host);
      if (reason)
        return Promise.resolve(
          done({
            outcome: 'blocked',
            error: BLOCKED_ADDRESS_PUBLIC,
            detail: new BlockedAddressError(host, reason).message,
          }),
        );
    }

    const secure = url.protocol === 'https:';
    const agents = isExempt ? exempt : filtered;
    const requestFn = secure ? https.request : http.request;
    const body = Buffer.from(input.body, 'utf8');

    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      let received = 0;
      const chunks: Buffer[] = [];
      let response: IncomingMessage | undefined;
      let req: ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;

      const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        input.signal?.removeEventListener('abort', onAbort);
        // Whatever is left of the body is not wanted; this also frees the socket.
        req?.destroy();
        resolve(done(result));
      };
      const onAbort = () => finish({ outcome: 'failed', error: 'aborted' });
      const excerpt = () => {
        if (received === 0) return undefined;
        // stream: true drops a multi-byte character cut in half by the byte cap.
        const text = new TextDecoder().decode(Buffer.concat(chunks), { stream: true });
        // Postgres text columns reject NUL.
        return text.replaceAll('\0', '');
      };
      const finishWithResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const responseExcerpt = excerpt();
        finish({
          status,
          ...outcomeForStatus(status, res.headers),
          ...(responseExcerpt === undefined ? {} : { responseExcerpt }),
        });
      };
      const onResponse = (res: IncomingMessage) => {
        response = res;
        res.on('error', () => finishWithResponse(res));
        res.on('end', () => finishWithResponse(res));
        if (maxResponseBytes <= 0) return finishWithResponse(res);
        res.on('data', (chunk: Buffer) => {
          const room = maxResponseBytes - received;
          if (room > 0) chunks.push(chunk.subarray(0, room));
          received += Math.min(chunk.length, room);
          if (received >= maxResponseBytes) finishWithResponse(res);
        });
      };

      try {
        req = requestFn(
          url,
          {
            method: 'POST',
            agent: secure ? agents.https : agents.http,
            headers: requestHeaders(input.headers, body.length),
            ...(isExempt ? exemptLookup : { lookup: guardedLookup }),
          },
          onResponse,
        );
      } catch (err) {
        // e.g. a header value with a newline: Node throws before any I/O.
        return finish({ outcome: 'failed', error: (err as Error).message });
      }
      timer = setTimeout(() => {
        // Once the status line is in, the receiver has answered; a slow body does not undo that.
        if (response) finishWithResponse(response);
        else finish({ outcome: 'failed', error: `timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      input.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => finish(errorResult(err)));
      req.end(body);
    });
  }

  return { send };
}
