import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import RunwayML from '@runwayml/sdk';
import type { ImageToVideoCreateParams } from '@runwayml/sdk/resources/image-to-video';
import type { TaskRetrieveResponse } from '@runwayml/sdk/resources/tasks';
import type { TextToVideoCreateParams } from '@runwayml/sdk/resources/text-to-video';
import {
  AMBIGUOUS_CREATE,
  type CallOptions,
  type DownloadVariant,
  ProviderError,
  type ProviderStatus,
  type RenderSpec,
  type SubmitResult,
  type VideoProvider,
} from '../types.ts';
import {
  checkRunwayRequest,
  modeFor,
  RUNWAY_MODELS,
  type RunwayCatalog,
  sizeToRatio,
  USD_PER_CREDIT,
} from './catalog.ts';
import { classify } from './errors.ts';
import { runwayImageInput } from './image.ts';

type RunwayTask = TaskRetrieveResponse;

export interface RunwayProviderOptions {
  /** A client to derive ours from (tests, custom fetch); else `apiKey` and `baseURL` make one. */
  client?: RunwayML | undefined;
  apiKey?: string | undefined;
  /** Without `/v1`: the SDK's paths carry it. Default Runway's own. */
  baseURL?: string | undefined;
  catalog?: RunwayCatalog | undefined;
  /** SDK retries for reads (status, cancel, organization); create always runs with none. */
  readRetries?: number | undefined;
  /** Per-request timeout; a create that times out is ambiguous. Default the SDK's 60 s. */
  timeoutMs?: number | undefined;
  /** Ask audio-capable models (Veo) for a soundtrack; priced `withAudio`. Default off. */
  audio?: boolean | undefined;
  /** How long an output download may take to answer with headers; the body then streams. */
  downloadHeadersTimeoutMs?: number | undefined;
}

export interface RunwayAccount {
  creditBalance: number;
  balanceUsd: number;
  maxMonthlyCreditSpend: number;
  maxMonthlySpendUsd: number;
  /** Per model: tier limits (`null` = unlimited) and generations in the past rolling day. */
  models: Record<
    string,
    { maxConcurrent: number | null; maxDaily: number | null; dailyUsed: number }
  >;
}

export interface RunwayProvider extends VideoProvider {
  /** `GET /v1/organization`: the credit balance and tier limits, for `GET /v1/providers`. */
  account(opts?: CallOptions): Promise<RunwayAccount>;
}

const usd = (credits: unknown): number | undefined =>
  typeof credits === 'number' && Number.isFinite(credits)
    ? Math.round(credits * USD_PER_CREDIT * 1e6) / 1e6
    : undefined;

/**
 * Codes a Runway failure gets on our side. Moderation uses the one code the pipeline turns into
 * `blocked` today; Runway's own code (`SAFETY.INPUT.TEXT`, ...) is kept in `raw.code`.
 */
export const RUNWAY_FAILURE_CODES = {
  moderation: 'moderation_blocked',
  assetInvalid: 'asset_invalid',
  /**
   * `INTERNAL*`: Runway's side failed and billed nothing; a fresh create may well succeed. A
   * status, not a transient throw: the task is final, so polling it again would only repeat
   * FAILED. Today the pipeline settles it `failed`; a retry is a new create after a backoff.
   */
  internal: 'provider_internal',
  cancelled: 'cancelled',
  other: 'render_failed',
} as const;

/** Failures worth a new create after a backoff (the failed task itself is final). */
export const RUNWAY_RETRYABLE_FAILURES: ReadonlySet<string> = new Set([
  RUNWAY_FAILURE_CODES.internal,
]);

function failureCodeOf(runwayCode: string | undefined): string {
  if (!runwayCode) return RUNWAY_FAILURE_CODES.other;
  if (runwayCode.startsWith('SAFETY')) return RUNWAY_FAILURE_CODES.moderation;
  if (runwayCode.startsWith('ASSET')) return RUNWAY_FAILURE_CODES.assetInvalid;
  if (runwayCode.startsWith('INTERNAL')) return RUNWAY_FAILURE_CODES.internal;
  return RUNWAY_FAILURE_CODES.other;
}

/** Runway reports progress 0–1 (one report says so; a 0–100 value is taken as it is). */
function percent(progress: unknown): number {
  const p = Number(progress);
  if (!Number.isFinite(p) || p <= 0) return 0;
  return Math.min(100, Math.round(p <= 1 ? p * 100 : p));
}

export function toStatus(task: RunwayTask): ProviderStatus {
  const raw = { status: task.status };
  switch (task.status) {
    case 'PENDING':
    case 'THROTTLED':
      return { state: 'queued', progress: 0, raw };
    case 'RUNNING':
      return { state: 'in_progress', progress: percent(task.progress), raw };
    case 'SUCCEEDED':
      return { state: 'completed', progress: 100, costUsd: usd(task.cost?.credits), raw };
    case 'FAILED': {
      const code = failureCodeOf(task.failureCode);
      return {
        state: 'failed',
        progress: 0,
        error: { code, message: task.failure || 'Runway reported the task as failed.' },
        costUsd: usd(task.cost?.credits),
        raw: { status: task.status, code: task.failureCode },
      };
    }
    case 'CANCELLED':
      return {
        state: 'failed',
        progress: 0,
        error: { code: RUNWAY_FAILURE_CODES.cancelled, message: 'the task was cancelled' },
        costUsd: usd(task.cost?.credits),
        raw,
      };
    default:
      // A status outside the protocol: neither success nor failure can be assumed.
      throw new ProviderError(
        `unknown task status ${JSON.stringify((task as { status?: unknown }).status)}`,
        { kind: 'transient', code: 'unknown_status' },
      );
  }
}

export function createRunwayClient(opts: {
  apiKey: string;
  baseURL?: string | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
}): RunwayML {
  return new RunwayML({
    apiKey: opts.apiKey,
    // Always explicit: the SDK would otherwise read RUNWAYML_BASE_URL from process.env itself.
    baseURL: opts.baseURL ?? 'https://api.dev.runwayml.com',
    maxRetries: opts.maxRetries ?? 2,
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
  });
}

export async function runwayAccount(
  client: RunwayML,
  opts: CallOptions = {},
): Promise<RunwayAccount> {
  let org: Awaited<ReturnType<RunwayML['organization']['retrieve']>>;
  try {
    org = await client.organization.retrieve({ signal: opts.signal });
  } catch (err) {
    throw classify(err, 'read');
  }
  const models: RunwayAccount['models'] = {};
  for (const [name, limits] of Object.entries(org.tier?.models ?? {})) {
    models[name] = {
      maxConcurrent: limits.maxConcurrentGenerations ?? null,
      maxDaily: limits.maxDailyGenerations ?? null,
      dailyUsed: org.usage?.models?.[name]?.dailyGenerations ?? 0,
    };
  }
  return {
    creditBalance: org.creditBalance,
    balanceUsd: usd(org.creditBalance) ?? 0,
    maxMonthlyCreditSpend: org.tier?.maxMonthlyCreditSpend ?? 0,
    maxMonthlySpendUsd: usd(org.tier?.maxMonthlyCreditSpend) ?? 0,
    models,
  };
}

/** The signed HTTPS URL when Runway can fetch it, else a data URI (≤5 MB); see image.ts. */
function imageOf(spec: RenderSpec): string | undefined {
  if (!spec.image) return undefined;
  const input = runwayImageInput(spec.image);
  return 'url' in input ? input.url : input.dataUri;
}

export function createRunwayProvider(options: RunwayProviderOptions): RunwayProvider {
  if (!options.client && !options.apiKey) throw new TypeError('runway: apiKey or client required');
  const catalog: RunwayCatalog = options.catalog ?? RUNWAY_MODELS;
  const base =
    options.client ??
    createRunwayClient({
      apiKey: options.apiKey ?? '',
      baseURL: options.baseURL,
      timeoutMs: options.timeoutMs,
    });
  const timeout = options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs };
  // The SDK sends no idempotency key and retries a failed POST: create gets a client that can't.
  const createClient = base.withOptions({ maxRetries: 0, ...timeout });
  const readClient = base.withOptions({ maxRetries: options.readRetries ?? 2, ...timeout });
  const headersTimeoutMs = options.downloadHeadersTimeoutMs ?? 60_000;

  async function submit(spec: RenderSpec, opts: CallOptions = {}): Promise<SubmitResult> {
    if (opts.signal?.aborted) {
      // Nothing was sent yet, so unlike an abort mid-request this one is not ambiguous.
      throw new ProviderError('submit aborted before the request', {
        kind: 'transient',
        code: 'aborted',
        cause: opts.signal.reason,
      });
    }
    const image = imageOf(spec);
    // Refused here, for free, rather than by Runway's 400 (or, worse, rendered wrong).
    const problems = checkRunwayRequest(catalog, {
      model: spec.model,
      seconds: spec.seconds,
      size: spec.size,
      hasImage: image !== undefined,
      promptLength: spec.prompt.length,
    });
    const model = catalog[spec.model];
    const mode = model ? modeFor(model, image !== undefined) : null;
    if (problems.length || !model || !mode) {
      throw new ProviderError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), {
        kind: 'permanent',
        code: 'invalid_request',
      });
    }
    const body = {
      model: spec.model,
      promptText: spec.prompt,
      ratio: sizeToRatio(spec.size),
      duration: spec.seconds,
      ...(model.audio ? { audio: options.audio ?? false } : {}),
      ...(image === undefined ? {} : { promptImage: image }),
    };
    const requestOptions = { maxRetries: 0, signal: opts.signal };
    let created: { id?: unknown; estimatedCost?: { credits?: unknown } };
    try {
      created =
        mode === 'image_to_video'
          ? await createClient.imageToVideo.create(
              body as unknown as ImageToVideoCreateParams,
              requestOptions,
            )
          : await createClient.textToVideo.create(
              body as unknown as TextToVideoCreateParams,
              requestOptions,
            );
    } catch (err) {
      throw classify(err, 'create');
    }
    if (typeof created?.id !== 'string' || created.id === '') {
      throw new ProviderError('create answered without a task id', {
        kind: 'permanent',
        code: AMBIGUOUS_CREATE,
      });
    }
    return { jobId: created.id, reservedUsd: usd(created.estimatedCost?.credits) };
  }

  async function retrieve(jobId: string, signal: AbortSignal | undefined): Promise<RunwayTask> {
    try {
      return await readClient.tasks.retrieve(jobId, { signal });
    } catch (err) {
      throw classify(err, 'read');
    }
  }

  async function status(jobId: string, opts: CallOptions = {}): Promise<ProviderStatus> {
    return toStatus(await retrieve(jobId, opts.signal));
  }

  /** A fresh GET of the task mints fresh output URLs: never trust one stored earlier. */
  async function outputUrl(jobId: string, signal: AbortSignal | undefined): Promise<string> {
    const task = await retrieve(jobId, signal);
    if (task.status !== 'SUCCEEDED') {
      throw new ProviderError(`task ${jobId} is ${task.status}, not SUCCEEDED`, {
        kind: 'permanent',
        code: 'not_ready',
      });
    }
    const url = task.output?.[0];
    if (!url) {
      throw new ProviderError(`task ${jobId} succeeded without an output URL`, {
        kind: 'transient',
        code: 'no_output',
      });
    }
    return url;
  }

  async function fetchOutput(url: string, signal: AbortSignal | undefined): Promise<Response> {
    // The timer covers the headers only: once they are in, a long body may take its time.
    const headers = new AbortController();
    const timer = setTimeout(
      () => headers.abort(new Error(`no answer within ${headersTimeoutMs} ms`)),
      headersTimeoutMs,
    );
    try {
      return await fetch(url, {
        signal: signal ? AbortSignal.any([signal, headers.signal]) : headers.signal,
      });
    } catch (err) {
      throw new ProviderError(`downloading the output failed: ${(err as Error).message}`, {
        kind: 'transient',
        code: 'download_failed',
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function download(
    jobId: string,
    what: DownloadVariant,
    opts: CallOptions = {},
  ): Promise<Readable> {
    if (what !== 'video') {
      // Runway serves only the video; the pipeline cuts its own thumbnail.
      throw new ProviderError(`runway serves no ${what}`, {
        kind: 'permanent',
        code: 'no_thumbnail',
      });
    }
    for (let attempt = 0; ; attempt++) {
      const res = await fetchOutput(await outputUrl(jobId, opts.signal), opts.signal);
      if (res.ok && res.body) {
        // Videos run to hundreds of MB: hand the body on as a stream, never as a buffer.
        return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      }
      await res.body?.cancel().catch(() => {});
      // Signed output URLs expire (403/404 from the output host): re-mint once. A URL minted a
      // moment ago and refused all the same means the output is gone: permanent, the variant
      // ends at once. Any other answer may pass: transient.
      const expired = res.status === 403 || res.status === 404;
      if (expired && attempt === 0) continue;
      throw new ProviderError(`output of task ${jobId} answered ${res.status}`, {
        kind: expired ? 'permanent' : 'transient',
        code: expired ? 'output_expired' : 'download_failed',
        status: res.status,
      });
    }
  }

  async function cancel(jobId: string, opts: CallOptions = {}): Promise<void> {
    // DELETE on a finished task deletes it and its output: only cancel one still working.
    const task = await retrieve(jobId, opts.signal);
    if (task.status !== 'PENDING' && task.status !== 'THROTTLED' && task.status !== 'RUNNING')
      return;
    try {
      await readClient.tasks.delete(jobId, { signal: opts.signal });
    } catch (err) {
      const e = classify(err, 'read');
      if (e.status === 404) return;
      throw e;
    }
  }

  return {
    name: 'runway',
    searchable: false,
    takesImage: (model: string) => Object.hasOwn(catalog, model) && catalog[model]!.imageToVideo,
    checkImage: (image) => {
      runwayImageInput(image);
    },
    submit,
    findExisting: async () => {
      throw new ProviderError(
        'runway has no list endpoint: a create that may have gone through cannot be looked for',
        { kind: 'permanent', code: 'not_searchable' },
      );
    },
    status,
    download,
    cancel,
    account: (opts) => runwayAccount(readClient, opts),
  };
}
