import type { ReceivedImage } from '../fake-provider/image.ts';
import type { MediaSpec } from '../fake-provider/media.ts';

/**
 * What happens to a submission, by prompt marker or `when()` rule.
 * `completed`; `content_policy` (COMPLETED, result 422 content_policy_violation); `timeout_504`
 * (COMPLETED, result 504 request_timeout); `model_error` (COMPLETED, result 422 of another
 * type); `never_finish` (IN_PROGRESS for ever, holding its slot); `drop_reply` (queued, then
 * the socket is destroyed before the answer); `submit_500` / `submit_429` (refused, nothing
 * queued: fal bills no 5xx).
 */
export type FalOutcome =
  | 'completed'
  | 'content_policy'
  | 'timeout_504'
  | 'model_error'
  | 'never_finish'
  | 'drop_reply'
  | 'submit_500'
  | 'submit_429';

export interface FalBehaviour {
  outcome?: FalOutcome;
  queuedMs?: number;
  renderMs?: number;
  /** `Retry-After` seconds of `submit_429`. Default 7. */
  retryAfterSec?: number;
}

export const MARKERS: Record<string, FalOutcome> = {
  '[content-policy]': 'content_policy',
  '[504]': 'timeout_504',
  '[model-error]': 'model_error',
  '[never]': 'never_finish',
  '[drop]': 'drop_reply',
  '[submit-500]': 'submit_500',
  '[429]': 'submit_429',
};

export interface FakeFalOptions {
  host?: string;
  port?: number;
  /** When set, only `Key <key>` is accepted; any `Key …` otherwise. */
  key?: string;
  /** Default 20 ms queued, 60 ms rendering. */
  defaults?: { queuedMs?: number; renderMs?: number };
  /**
   * No processing time (for overhead benches): a submission with zero queue and render time
   * is COMPLETED before its answer is sent, and every video is a tiny 64x64 1 s MP4.
   */
  instant?: boolean;
  /** Requests IN_PROGRESS at once; the rest wait IN_QUEUE (fal queues, never refuses). Default 2. */
  maxConcurrent?: number;
  /** Result answers 404 this long after completion. Default 1 h. */
  resultTtlMs?: number;
  /** Media URL answers 404 this long after completion. Default 1 h. */
  mediaTtlMs?: number;
  /** Webhook attempts after a failure, and the pause between. Default 3, 50 ms. */
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
  /** Deliver every webhook twice, as fal's at-least-once delivery sometimes does. */
  duplicateWebhooks?: boolean;
  userId?: string;
  /** How fal's runner fetches an `image_url` that is a URL; default plain `fetch`. */
  fetchImage?: (url: string) => Promise<Response>;
}

/** A first frame as the fake received it (`image_url`): inline bytes or fetched from the URL. */
export interface FalReceivedImage extends ReceivedImage {
  source: 'data_uri' | 'url';
  url?: string | undefined;
}

/**
 * Image-to-video endpoints and the field that carries their first frame, from fal's model
 * pages (independently of src/providers/fal/catalog.ts); any `.../image-to-video` takes
 * `image_url`.
 */
export function imageFieldOf(endpoint: string): string | null {
  return endpoint.endsWith('/image-to-video') ? 'image_url' : null;
}

export interface FalCreateCall {
  at: number;
  endpoint: string;
  /** Image-to-video: what arrived in the image field (undefined when it could not be read). */
  image?: FalReceivedImage | undefined;
  prompt: string;
  input: Record<string, unknown>;
  webhookUrl: string | undefined;
  requestTimeout: string | undefined;
  status: number;
  requestId: string | undefined;
}

export interface FakeFalRequest {
  id: string;
  endpoint: string;
  app: string;
  input: Record<string, unknown>;
  outcome: FalOutcome;
  state: 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';
  ready: boolean;
  cancelled: boolean;
  userTimeout: boolean;
  completedAt: number | null;
  renderMs: number;
  webhookUrl: string | undefined;
  media: MediaSpec;
}

const SHORT_SIDE: Record<string, number> = { '480p': 480, '720p': 720, '1080p': 1080, '4k': 2160 };

/** The picture fal would return for this input, so ffprobe facts can be checked. */
export function mediaSpecOf(input: Record<string, unknown>): MediaSpec {
  const short = SHORT_SIDE[String(input.resolution ?? '1080p')] ?? 1080;
  const [a, b] = String(input.aspect_ratio ?? '16:9')
    .split(':')
    .map(Number) as [number, number];
  const even = (n: number) => Math.round(n / 2) * 2;
  const [width, height] = a >= b ? [even((short * a) / b), short] : [short, even((short * b) / a)];
  const seconds = Number.parseInt(String(input.duration ?? '5'), 10) || 5;
  return { width, height, seconds };
}

function outputOf(r: FakeFalRequest, base: string) {
  return {
    video: {
      url: `${base}/media/${r.id}.mp4`,
      content_type: 'video/mp4',
      file_name: `${r.id}.mp4`,
      file_size: null,
    },
    seed: 42,
  };
}

/** The result call's answer (status, headers, body); the webhook carries the same. */
export function resultOf(
  r: FakeFalRequest,
  base: string,
): [number, Record<string, string>, unknown] {
  if (r.cancelled) return [400, {}, { detail: 'Request was cancelled' }];
  if (r.userTimeout || r.outcome === 'timeout_504') {
    const h: Record<string, string> = { 'x-fal-error-type': 'request_timeout' };
    if (r.userTimeout) h['x-fal-request-timeout-type'] = 'user';
    return [504, h, { detail: 'Request timed out', error_type: 'request_timeout' }];
  }
  if (r.outcome === 'content_policy') {
    const detail = [
      {
        loc: ['body', 'prompt'],
        msg: 'The content could not be processed because it contained material flagged by a content checker.',
        type: 'content_policy_violation',
        ctx: { extra_info: { categories: ['violence'] } },
      },
    ];
    return [422, {}, { detail }];
  }
  if (r.outcome === 'model_error') {
    return [
      422,
      {},
      {
        detail: [
          {
            loc: ['body', 'image_url'],
            msg: 'Failed to load the image',
            type: 'image_load_error',
          },
        ],
      },
    ];
  }
  return [200, {}, outputOf(r, base)];
}
