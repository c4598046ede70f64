import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  AMBIGUOUS_CREATE,
  type CallOptions,
  type DownloadVariant,
  ProviderError,
  type ProviderStatus,
  type RenderImage,
  type RenderSpec,
  type SubmitResult,
  type VideoProvider,
} from '../types.ts';
import { appOf, type FalCatalog, falCatalog, falInput } from './catalog.ts';
import { detailOf, httpError, type Operation, readError, transportError } from './errors.ts';
import { createFalWebhookVerifier, falJobId, parseFalJobId } from './webhook.ts';

interface FalProviderOptions {
  /** `FAL_KEY`. */
  key: string;
  /** Default `https://queue.fal.run`. */
  queueUrl?: string | undefined;
  /** Default fal's; without it (or with `verifyWebhooks: false`) there is no `verifyWebhook`. */
  jwksUrl?: string | undefined;
  /**
   * Our inbound route (`<PUBLIC_URL>/v1/providers/fal/webhook`); the adapter appends the app so
   * the delivery can be matched to a job. Without it fal is polled only.
   */
  webhookUrl?: string | undefined;
  catalog?: FalCatalog | undefined;
  /** Per-call timeout of queue calls (not of the media body); default 30 s. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
}

/**
 * fal's runner downloads a URL itself, so our signed link works only where fal can reach it:
 * a public HTTPS PUBLIC_URL. Without one the bytes go inline as a data URI, which fal takes in
 * its file fields (its docs: URLs everywhere, data URIs for "some models"; Pika's image field
 * among them by third-party reports). fal's CDN upload would be the other way: a second host
 * (rest.alpha.fal.ai), a two-step upload and a copy of the product image kept on fal's CDN for
 * a lifetime we do not set, for an image that is at most UPLOAD_LIMIT_BYTES anyway.
 */
function falImageUrl(image: RenderImage | undefined): string | undefined {
  if (!image) return undefined;
  if (image.url?.startsWith('https://')) return image.url;
  return `data:${image.contentType};base64,${Buffer.from(image.bytes).toString('base64')}`;
}

/** Media URLs seen in results, so a download right after completion needs no second result call. */
const MEDIA_CACHE_MAX = 1000;

export function createFalProvider(options: FalProviderOptions): VideoProvider {
  const queueUrl = (options.queueUrl ?? 'https://queue.fal.run').replace(/\/$/, '');
  const catalog = options.catalog ?? falCatalog;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const auth = { authorization: `Key ${options.key}` };
  const media = new Map<string, string>();

  const signalFor = (opts: CallOptions) =>
    opts.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);

  async function call(
    url: string,
    init: RequestInit,
    op: Operation,
    what: string,
    opts: CallOptions,
  ): Promise<Response> {
    try {
      return await doFetch(url, { ...init, signal: signalFor(opts), redirect: 'error' });
    } catch (err) {
      throw transportError(err, op, what);
    }
  }

  async function submit(spec: RenderSpec, opts: CallOptions = {}): Promise<SubmitResult> {
    if (opts.signal?.aborted) {
      throw new ProviderError('submit aborted before the request', {
        kind: 'transient',
        code: 'aborted',
        cause: opts.signal.reason,
      });
    }
    const model = catalog[spec.model];
    if (!model) {
      throw new ProviderError(`fal has no model ${spec.model} in the catalog`, {
        kind: 'permanent',
        code: 'unknown_model',
      });
    }
    const built = falInput(model, { ...spec, imageUrl: falImageUrl(spec.image) });
    if ('problem' in built) {
      throw new ProviderError(built.problem.message, { kind: 'permanent', ...built.problem });
    }
    const app = appOf(model.id);
    let url = `${queueUrl}/${model.id}`;
    if (options.webhookUrl) {
      url += `?fal_webhook=${encodeURIComponent(`${options.webhookUrl.replace(/\/$/, '')}/${app}`)}`;
    }
    const headers: Record<string, string> = { ...auth, 'content-type': 'application/json' };
    if (spec.deadlineSeconds !== undefined && spec.deadlineSeconds > 0) {
      // A request still queued at the deadline fails with 504 instead of rendering too late.
      headers['x-fal-request-timeout'] = String(Math.ceil(spec.deadlineSeconds));
    }
    // One plain POST: @fal-ai/client's queue.submit retries with its own setting whatever the
    // client was configured with, and fal takes no idempotency key, so a retry is a second render.
    const res = await call(
      url,
      { method: 'POST', headers, body: JSON.stringify(built.input) },
      'create',
      `submit to ${model.id}`,
      opts,
    );
    if (!res.ok) throw httpError(await readError(res), 'create', `submit to ${model.id}`);
    let body: { request_id?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw transportError(err, 'create', `submit to ${model.id}`);
    }
    const requestId = body.request_id ?? res.headers.get('x-fal-request-id');
    if (typeof requestId !== 'string' || requestId === '') {
      throw new ProviderError('submit answered without a request_id', {
        kind: 'transient',
        code: AMBIGUOUS_CREATE,
      });
    }
    return { jobId: falJobId(app, requestId) };
  }

  function parse(jobId: string) {
    const parsed = parseFalJobId(jobId);
    if (!parsed) {
      throw new ProviderError(`${jobId} is not a fal job id (owner/app|request_id)`, {
        kind: 'permanent',
        code: 'bad_job_id',
      });
    }
    return { ...parsed, base: `${queueUrl}/${parsed.app}/requests/${parsed.requestId}` };
  }

  function remember(jobId: string, url: string) {
    if (media.size >= MEDIA_CACHE_MAX) media.delete(media.keys().next().value as string);
    media.set(jobId, url);
  }

  /**
   * A COMPLETED request's result: the output, or the model's error. fal has no FAILED status, so
   * this is where a render's failure shows.
   */
  async function result(jobId: string, opts: CallOptions): Promise<ProviderStatus> {
    const { base } = parse(jobId);
    const res = await call(base, { headers: auth }, 'read', `result of ${jobId}`, opts);
    if (res.ok) {
      const out = (await res.json().catch(() => null)) as { video?: { url?: unknown } } | null;
      const url = out?.video?.url;
      if (typeof url !== 'string' || url === '') {
        return failed('no_video', 'fal completed the request without a video', 'COMPLETED');
      }
      remember(jobId, url);
      return { state: 'completed', progress: 100, raw: { status: 'COMPLETED' } };
    }
    const e = await readError(res);
    const errorType = e.headers.get('x-fal-error-type') ?? undefined;
    if (e.status === 504 && e.headers.get('x-fal-request-timeout-type') === 'user') {
      // Our own x-fal-request-timeout fired: final, asking again only returns the same 504.
      return failed(
        'request_timeout',
        'fal dropped the request at its deadline',
        'COMPLETED',
        errorType,
      );
    }
    if (e.status >= 500 || e.status === 429 || e.status === 408)
      throw httpError(e, 'read', `result of ${jobId}`);
    if (e.status === 401 || e.status === 403) throw httpError(e, 'read', `result of ${jobId}`);
    const detail = detailOf(e.body);
    if (detail.type === 'content_policy_violation') {
      // Keep fal's words (and categories) on the variant: `moderation_blocked` parks it `blocked`.
      return failed(
        'moderation_blocked',
        e.text.slice(0, 2000) || detail.message,
        'COMPLETED',
        detail.type,
      );
    }
    if (e.status === 404) {
      // Results are kept an hour after completion.
      return failed('result_expired', `the result of ${jobId} is gone (${e.status})`, 'COMPLETED');
    }
    return failed(
      detail.type ?? `http_${e.status}`,
      detail.message || e.text.slice(0, 500),
      'COMPLETED',
      detail.type,
    );
  }

  function failed(code: string, message: string, status: string, rawCode?: string): ProviderStatus {
    return {
      state: 'failed',
      progress: 0,
      error: { code, message },
      raw: { status, code: rawCode ?? code },
    };
  }

  async function status(jobId: string, opts: CallOptions = {}): Promise<ProviderStatus> {
    const { base } = parse(jobId);
    const res = await call(`${base}/status`, { headers: auth }, 'read', `status of ${jobId}`, opts);
    if (!res.ok) throw httpError(await readError(res), 'read', `status of ${jobId}`);
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    switch (body?.status) {
      case 'IN_QUEUE':
        return { state: 'queued', progress: 0, raw: { status: 'IN_QUEUE' } };
      case 'IN_PROGRESS':
        return { state: 'in_progress', progress: 0, raw: { status: 'IN_PROGRESS' } };
      case 'COMPLETED':
        // Fetched at once: results expire within the hour (6 minutes for small payloads).
        return result(jobId, opts);
      default:
        throw new ProviderError(`unknown fal status ${JSON.stringify(body?.status)}`, {
          kind: 'transient',
          code: 'unknown_status',
        });
    }
  }

  async function mediaUrl(jobId: string, opts: CallOptions): Promise<string> {
    const cached = media.get(jobId);
    if (cached) return cached;
    const s = await result(jobId, opts);
    const url = media.get(jobId);
    if (s.state !== 'completed' || !url) {
      throw new ProviderError(`no video for ${jobId}: ${s.error?.message ?? s.state}`, {
        kind: 'permanent',
        code: s.error?.code ?? 'not_ready',
      });
    }
    return url;
  }

  async function download(
    jobId: string,
    what: DownloadVariant,
    opts: CallOptions = {},
  ): Promise<Readable> {
    if (what !== 'video') {
      throw new ProviderError('fal serves no thumbnail; make one from the video', {
        kind: 'permanent',
        code: 'not_available',
      });
    }
    const url = await mediaUrl(jobId, opts);
    let res: Response;
    try {
      // The CDN is another host: no key. Only the headers are under the timeout, not the body.
      res = await doFetch(url, { signal: opts.signal ?? null });
    } catch (err) {
      throw transportError(err, 'read', `video of ${jobId}`);
    }
    if (res.status === 404 || res.status === 403 || res.status === 410) {
      media.delete(jobId);
      await res.body?.cancel();
      throw new ProviderError(`the video of ${jobId} has expired (${res.status})`, {
        kind: 'permanent',
        code: 'expired',
        status: res.status,
      });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ProviderError(`video of ${jobId} answered ${res.status}`, {
        kind: 'transient',
        code: 'media_unavailable',
        status: res.status,
      });
    }
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  async function cancel(jobId: string, opts: CallOptions = {}): Promise<void> {
    const { base } = parse(jobId);
    const res = await call(
      `${base}/cancel`,
      { method: 'PUT', headers: auth },
      'read',
      `cancel of ${jobId}`,
      opts,
    );
    // 400 ALREADY_COMPLETED and 404 NOT_FOUND: nothing left to stop.
    if (res.ok || res.status === 400 || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw httpError(await readError(res), 'read', `cancel of ${jobId}`);
  }

  const provider: VideoProvider = {
    name: 'fal',
    searchable: false,
    takesImage: (model: string) => Object.hasOwn(catalog, model) && catalog[model]!.mode === 'i2v',
    submit,
    async findExisting() {
      throw new ProviderError('fal has no way to list requests: an ambiguous create is held', {
        kind: 'permanent',
        code: 'not_searchable',
      });
    },
    status,
    download,
    cancel,
  };
  if (options.jwksUrl) {
    provider.verifyWebhook = createFalWebhookVerifier({
      jwksUrl: options.jwksUrl,
      fetch: options.fetch,
      now: options.now,
    });
  }
  return provider;
}
