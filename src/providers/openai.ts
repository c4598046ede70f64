import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { Video, VideoSeconds, VideoSize } from 'openai/resources/videos';
import { classify } from './openai-errors.ts';
import {
  AMBIGUOUS_CREATE,
  type CallOptions,
  type DownloadVariant,
  type FindExistingOptions,
  ProviderError,
  type ProviderStatus,
  type RenderImage,
  type RenderSpec,
  type VideoProvider,
  type WebhookEvent,
} from './types.ts';

export { classify, retryAfterMsFrom } from './openai-errors.ts';

interface OpenAIProviderOptions {
  client: OpenAI;
  /** `whsec_…`; without it the provider has no `verifyWebhook` and the pipeline just polls. */
  webhookSecret?: string | undefined;
  /** Videos `findExisting` examines before it gives up; default 1000. */
  listScanLimit?: number | undefined;
  /** Page size of that scan; default 100, the API's maximum. */
  listPageSize?: number | undefined;
  /** How far the provider's clock may run behind ours; default 2 minutes. */
  clockSkewMs?: number | undefined;
  /** Our clock, for telling an expired download from one not ready yet. */
  now?: (() => number) | undefined;
}

/** The SDK's event union lacks the video events, so they are recognised here. */
interface VideoWebhookEvent {
  id: string;
  object: 'event';
  created_at: number;
  type: 'video.completed' | 'video.failed';
  data: { id: string };
}

function isVideoWebhookEvent(event: unknown): event is VideoWebhookEvent {
  if (!event || typeof event !== 'object') return false;
  const e = event as { type?: unknown; data?: unknown };
  if (e.type !== 'video.completed' && e.type !== 'video.failed') return false;
  const data = e.data as { id?: unknown } | null | undefined;
  return typeof data?.id === 'string' && data.id !== '';
}

/** Codes gateways use for a moderation refusal; the pipeline only needs to know one. */
const MODERATION_CODES = new Set([
  'moderation_blocked',
  'content_policy_violation',
  'content_filter',
  'safety_violation',
]);

function failure(video: Video): { code: string; message: string } {
  const raw = video.error?.code;
  const code = raw && MODERATION_CODES.has(raw) ? 'moderation_blocked' : raw || 'render_failed';
  return { code, message: video.error?.message || 'The provider reported the render as failed.' };
}

function toStatus(video: Video): ProviderStatus {
  const progress = Math.max(0, Math.min(100, Number(video.progress) || 0));
  switch (video.status) {
    case 'queued':
    case 'in_progress':
      return { state: video.status, progress };
    case 'completed':
      return { state: 'completed', progress: 100 };
    case 'failed':
      return { state: 'failed', progress, error: failure(video) };
    default:
      // A status outside the protocol: neither success nor failure can be assumed.
      throw new ProviderError(`unknown video status ${JSON.stringify(video.status)}`, {
        kind: 'transient',
        code: 'unknown_status',
      });
  }
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/** `input_reference` is a multipart file whose pixel size equals `size` (fitted by the pipeline). */
function referenceFile(image: RenderImage) {
  const ext = EXTENSIONS[image.contentType] ?? 'png';
  return toFile(Buffer.from(image.bytes), `first-frame.${ext}`, { type: image.contentType });
}

const DATED_SNAPSHOT = /^-\d{4}-\d{2}-\d{2}$/;

/** Gateways may answer with the dated snapshot of the alias we asked for (`sora-2-2025-10-06`). */
function sameModel(answered: string, asked: string): boolean {
  return (
    answered === asked ||
    (answered.startsWith(asked) && DATED_SNAPSHOT.test(answered.slice(asked.length)))
  );
}

function sameShape(video: Video, spec: RenderSpec): boolean {
  return (
    video.remixed_from_video_id == null &&
    String(video.seconds) === String(spec.seconds) &&
    video.size === spec.size &&
    typeof video.model === 'string' &&
    sameModel(video.model, spec.model)
  );
}

function requireWebhookSecret(secret: string): void {
  // A malformed secret would make every delivery look forged, which verifyWebhook reports as
  // null, so it is refused here where the mistake is visible.
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
  if (secret === '' || key.length === 0) {
    throw new TypeError('webhookSecret must be a non-empty `whsec_<base64>` or plain string');
  }
}

export function createOpenAIProvider(options: OpenAIProviderOptions): VideoProvider {
  const { client, webhookSecret } = options;
  const scanLimit = options.listScanLimit ?? 1000;
  const pageSize = options.listPageSize ?? 100;
  const skewMs = options.clockSkewMs ?? 120_000;
  const now = options.now ?? Date.now;
  if (webhookSecret !== undefined) requireWebhookSecret(webhookSecret);

  async function submit(spec: RenderSpec, opts: CallOptions = {}): Promise<{ jobId: string }> {
    if (opts.signal?.aborted) {
      // Nothing was sent yet, so unlike an abort mid-request this one is not ambiguous.
      throw new ProviderError('submit aborted before the request', {
        kind: 'transient',
        code: 'aborted',
        cause: opts.signal.reason,
      });
    }
    let video: Video;
    try {
      video = await client.videos.create(
        {
          prompt: spec.prompt,
          model: spec.model,
          seconds: String(spec.seconds) as VideoSeconds,
          size: spec.size as VideoSize,
          ...(spec.image ? { input_reference: await referenceFile(spec.image) } : {}),
        },
        // The SDK sends no idempotency key: a retry inside it could start a second paid render.
        { maxRetries: 0, signal: opts.signal },
      );
    } catch (err) {
      throw classify(err, 'create');
    }
    if (typeof video?.id !== 'string' || video.id === '') {
      throw new ProviderError('create answered without a video id', {
        kind: 'transient',
        code: AMBIGUOUS_CREATE,
      });
    }
    return { jobId: video.id };
  }

  /**
   * The SDK sends the prompt in a multipart body, whose encoding turns every LF and lone CR
   * into CRLF, so a gateway stores (and lists) a multi-line prompt with other line endings
   * than we sent: compared raw, the lost render is missed and created again, paid twice.
   */
  const lineEnds = /\r\n|\r|\n/g;
  const sameText = (listed: string, sent: string) =>
    listed === sent || listed.replace(lineEnds, '\n') === sent.replace(lineEnds, '\n');

  async function findExisting(
    spec: RenderSpec,
    { since, exclude }: FindExistingOptions,
  ): Promise<{ jobId: string } | null> {
    const floorSec = (since.getTime() - skewMs) / 1000;
    let oldest: string | undefined;
    let scanned = 0;
    let complete = true;
    let unverifiable = 0;
    try {
      // Newest first, so the scan can stop at the first object older than the window.
      for await (const video of client.videos.list({ order: 'desc', limit: pageSize })) {
        if (video.created_at < floorSec) break;
        if (scanned >= scanLimit) {
          complete = false;
          break;
        }
        scanned++;
        if (exclude?.has(video.id) || !sameShape(video, spec)) continue;
        if (typeof video.prompt !== 'string') unverifiable++;
        else if (sameText(video.prompt, spec.prompt)) oldest = video.id;
      }
    } catch (err) {
      throw classify(err, 'read');
    }
    // Even from a partial scan, any match is a render we already pay for: adopt it.
    if (oldest !== undefined) return { jobId: oldest };
    if (!complete) {
      throw new ProviderError(
        `no render found among the newest ${scanLimit} videos and the window reaches further back`,
        { kind: 'permanent', code: 'existing_scan_incomplete' },
      );
    }
    if (unverifiable > 0) {
      throw new ProviderError(
        `${unverifiable} render(s) in the window carry no prompt, so a lost create cannot be ruled out`,
        { kind: 'permanent', code: 'existing_render_unverifiable' },
      );
    }
    return null;
  }

  async function status(jobId: string, opts: CallOptions = {}): Promise<ProviderStatus> {
    let video: Video;
    try {
      video = await client.videos.retrieve(jobId, { signal: opts.signal });
    } catch (err) {
      throw classify(err, 'read');
    }
    return toStatus(video);
  }

  /** `/content` 404s both before completion and after expiry; the video object tells which. */
  async function explainMissingContent(
    jobId: string,
    notFound: ProviderError,
    signal: AbortSignal | undefined,
  ): Promise<ProviderError> {
    let video: Video;
    try {
      video = await client.videos.retrieve(jobId, { signal });
    } catch (err) {
      const e = classify(err, 'read');
      return e.status === 404 ? e : notFound;
    }
    const fields = { status: 404, requestId: notFound.requestId, cause: notFound };
    if (video.status !== 'completed') {
      return new ProviderError(`video ${jobId} is ${video.status}, not completed`, {
        ...fields,
        kind: 'permanent',
        code: 'not_ready',
      });
    }
    if (video.expires_at != null && video.expires_at * 1000 <= now()) {
      return new ProviderError(`the content of video ${jobId} has expired`, {
        ...fields,
        kind: 'permanent',
        code: 'expired',
      });
    }
    // Completed and not expired, yet missing: a gateway whose storage lags its status.
    return new ProviderError(`video ${jobId} is completed but its content is not served yet`, {
      ...fields,
      kind: 'transient',
      code: 'content_unavailable',
    });
  }

  async function download(
    jobId: string,
    what: DownloadVariant,
    opts: CallOptions = {},
  ): Promise<Readable> {
    let res: Response;
    try {
      res = await client.videos.downloadContent(jobId, { variant: what }, { signal: opts.signal });
    } catch (err) {
      const e = classify(err, 'read');
      if (e.status === 404) throw await explainMissingContent(jobId, e, opts.signal);
      throw e;
    }
    if (!res.body) {
      throw new ProviderError(`empty body downloading ${what} of ${jobId}`, {
        kind: 'transient',
        code: 'empty_body',
      });
    }
    // Videos run to hundreds of MB: hand the body on as a stream, never as a buffer.
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  const provider: VideoProvider = {
    name: 'openai',
    searchable: true,
    // The protocol takes `input_reference` on every model; a gateway model that cannot use it
    // answers 400, which fails the variant before anything is paid.
    takesImage: () => true,
    imageMustMatchSize: true,
    submit,
    findExisting,
    status,
    download,
  };
  if (webhookSecret !== undefined) {
    provider.verifyWebhook = async (rawBody, headers): Promise<WebhookEvent | null> => {
      let event: unknown;
      try {
        event = await client.webhooks.unwrap(rawBody, headers, webhookSecret);
      } catch {
        // Bad or missing signature, stale timestamp, or a body that is not JSON: not ours.
        return null;
      }
      if (!isVideoWebhookEvent(event)) {
        const type = (event as { type?: unknown } | null)?.type;
        return { event: 'other', type: typeof type === 'string' ? type : 'unknown' };
      }
      return {
        jobId: event.data.id,
        event: event.type === 'video.completed' ? 'completed' : 'failed',
      };
    };
  }
  return provider;
}
