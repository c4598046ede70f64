import type { Video } from 'openai/resources/videos';
import type { ReceivedImage } from './image.ts';

export type { Video };

/**
 * What happens to a submission.
 * Accepted renders: `completed`, `failed_moderation` (accepted, later `failed` with
 * `moderation_blocked`), `failed` (generic render failure), `never_finish` (stays
 * `in_progress` forever and keeps its concurrency slot).
 * Refused at create, no video is created: `reject_400`, `error_5xx`, `rate_limit_429`.
 * `drop_connection`: the video IS created (and completes) but the socket is destroyed before
 * the answer, so the client sees a connection error: the "did my create go through?" case.
 */
export type Outcome =
  | 'completed'
  | 'failed_moderation'
  | 'failed'
  | 'never_finish'
  | 'reject_400'
  | 'error_5xx'
  | 'rate_limit_429'
  | 'drop_connection';

export type RenderOutcome = 'completed' | 'failed_moderation' | 'failed' | 'never_finish';

export interface ErrorOverride {
  code?: string | null;
  message?: string;
  type?: string;
  param?: string | null;
}

export interface Behaviour {
  /** Default `completed`. */
  outcome?: Outcome;
  /** Time spent `queued` after create. Default 10 ms. */
  queuedMs?: number;
  /** Time spent `in_progress` before the final status. Default 30 ms. */
  renderMs?: number;
  /** Distinct progress values seen while `in_progress` (0, 100/n, ...). Default 4. */
  progressSteps?: number;
  /**
   * The first N submissions (per exact prompt) get `outcome`; later ones complete normally.
   * Counts only submissions that got past auth, validation and the rpm/concurrency limits.
   */
  failTimes?: number;
  /** `retry-after-ms` for `rate_limit_429` (and `Retry-After` rounded up). Default 1000. */
  retryAfterMs?: number;
  /** HTTP status for `reject_400` (any 4xx) or `error_5xx` (any 5xx). */
  httpStatus?: number;
  /** `error_5xx` only: still create the render, as a gateway that times out upstream does. */
  createAnyway?: boolean;
  /** Overrides the error body of a refusal, or `video.error` of a failed render. */
  error?: ErrorOverride;
  /** Delay before answering the create (the video exists from the moment it was received). */
  createDelayMs?: number;
  /** Delay before the `/content` response headers. */
  contentDelayMs?: number;
  /** If > 0, `/content` is streamed in `contentChunkBytes` pieces with this pause between. */
  contentChunkDelayMs?: number;
  /** Default 512. */
  contentChunkBytes?: number;
  /**
   * The video is listed and retrieved with `prompt: null`, as a gateway that keeps no prompts
   * answers: a client searching for a lost create cannot tell this render from its own.
   */
  hidePrompt?: boolean;
}

export type ResolvedBehaviour = Required<Omit<Behaviour, 'error' | 'httpStatus'>> &
  Pick<Behaviour, 'error' | 'httpStatus'>;

/** `match`: a string matches when the prompt contains it; a RegExp when it tests true. */
export interface BehaviourRule extends Behaviour {
  match: string | RegExp;
}

/** Return undefined to fall through to the next rule (and finally the defaults). */
export type BehaviourFn = (prompt: string, call: CreateCall) => Behaviour | undefined | null;

export type BehaviourSpec =
  | BehaviourFn
  | BehaviourRule
  | ReadonlyArray<BehaviourFn | BehaviourRule>;

export type InputReference =
  | {
      kind: 'file';
      filename: string | undefined;
      mimetype: string;
      bytes: number;
      /** What the bytes are (sniffed), their pixel size and hash: see ./image.ts. */
      image: ReceivedImage;
    }
  | { kind: 'object'; imageUrl: string | undefined; fileId: string | undefined };

/** One render submission (`POST /videos` or `POST /videos/{id}/remix`) as received. */
export interface CreateCall {
  kind: 'create' | 'remix';
  /** Clock time (ms) when it was received. */
  at: number;
  prompt: string;
  /** As sent; undefined when the client left the field out. */
  model: string | undefined;
  seconds: string | undefined;
  size: string | undefined;
  /** Assembled from `metadata[key]` form fields or a JSON `metadata` object, if any. */
  metadata: Record<string, string> | undefined;
  /** Every scalar field exactly as it arrived (multipart keys keep their brackets). */
  fields: Record<string, string>;
  inputReference: InputReference | undefined;
  idempotencyKey: string | undefined;
  /** Source video for a remix. */
  remixOf: string | undefined;
  /** HTTP status answered; 0 while pending or when the connection was dropped. */
  status: number;
  /** Set when a video was created (also for `drop_connection` and `createAnyway`). */
  videoId: string | undefined;
}

export interface FakeVideoRecord {
  id: string;
  /** Creation order, the list order (ids are random, like the real ones). */
  seq: number;
  prompt: string;
  model: string;
  seconds: string;
  size: string;
  remixedFrom: string | null;
  createdAtMs: number;
  renderOutcome: RenderOutcome;
  behaviour: ResolvedBehaviour;
  deletedAtMs: number | null;
}

export interface WebhookConfig {
  url: string;
  /** `whsec_<base64>` (decoded as the key) or any other string (used as UTF-8 bytes, as the SDK does). Generated when omitted. */
  secret?: string;
}

export interface SentWebhook {
  eventId: string;
  type: 'video.completed' | 'video.failed';
  videoId: string;
  /** The exact raw body that was signed and sent. */
  body: string;
  headers: Record<string, string>;
  /** Receiver's HTTP status, or null when the POST itself failed (see `error`). */
  status: number | null;
  error: string | null;
}

export interface RequestLogEntry {
  at: number;
  method: string;
  url: string;
  status: number;
}

export interface Limits {
  /** Max `POST /videos` (and remix) per window; null = unlimited. */
  rpm?: number | null;
  /** Max renders `queued`/`in_progress` at once; null = unlimited. */
  maxConcurrent?: number | null;
}

export interface FakeVideoServerOptions extends Limits {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  behave?: BehaviourSpec;
  /** Merged over the built-in defaults; rules are merged over this. */
  defaults?: Behaviour;
  /** Window of the rpm limit. Default 60 000; shorten it to test recovery quickly. */
  rpmWindowMs?: number;
  /** `retry-after-ms` of the concurrency 429 when no running render has an end. Default 1000. */
  concurrencyRetryAfterMs?: number;
  /** When set, every `/v1` request must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  /** Default ["4","8","12"]. */
  allowedSeconds?: readonly string[];
  /** Default the four Sora sizes. */
  allowedSizes?: readonly string[];
  /** Default: any model name is accepted (gateways route many). */
  allowedModels?: readonly string[] | null;
  webhook?: WebhookConfig | null;
  /** Rewrites the MP4 a completed video serves (e.g. to embed a provider's C2PA manifest). */
  videoContent?: (mp4: Buffer) => Promise<Buffer>;
  /**
   * Milliseconds; default Date.now. Status, rpm and expiry all read it. See `manualClock`.
   * With a clock given, webhooks go out only when the test calls `deliverDueWebhooks()`.
   */
  clock?: () => number;
  /** Downloads 404 this long after completion. Default 3 600 000. */
  expiresAfterMs?: number;
  /** Render `/content` at the requested size and duration instead of 64x64, 1 s. */
  mediaMatchesRequest?: boolean;
  /** Fastify logger on/off. Default off. */
  logger?: boolean;
}

export interface FakeVideoServer extends AsyncDisposable {
  /** e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** `url + '/v1'`, the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Replaces all rules. */
  behave(spec: BehaviourSpec): void;
  /** Appends a rule; rules are tried in the order they were added, first match wins. */
  when(match: string | RegExp, behaviour: Behaviour): void;
  setLimits(limits: Limits): void;
  /** The next `n` `GET /videos` (the list a lost create is looked for in) answer `status` (502). */
  failLists(n: number, status?: number): void;
  /** Submissions received (create and remix), including refused ones (not those failing auth). */
  readonly createCalls: readonly CreateCall[];
  /** Submissions whose prompt equals `match` (string) or tests true (RegExp); all when omitted. */
  createCount(match?: string | RegExp): number;
  readonly videos: ReadonlyMap<string, FakeVideoRecord>;
  /** The video object a retrieve would answer now (undefined when unknown or deleted). */
  video(id: string): Video | undefined;
  /** Renders queued/in_progress right now. */
  runningCount(): number;
  /** Highest number of simultaneously running renders since start/reset. */
  readonly peakConcurrent: number;
  /** Every 429 answered (rpm, concurrency, `rate_limit_429`). */
  readonly count429: number;
  readonly requests: readonly RequestLogEntry[];
  readonly sentWebhooks: readonly SentWebhook[];
  readonly webhookSecret: string | undefined;
  setWebhook(config: WebhookConfig | null): void;
  /** Sends the events of renders that ended by now and were not sent yet (for manual clocks). */
  deliverDueWebhooks(): Promise<void>;
  /** Sends an already sent event again with the same `webhook-id`, as a retrying sender does. */
  redeliverWebhook(eventId: string): Promise<SentWebhook>;
  /** Forgets videos, calls, counters and rules (back to the start options). */
  reset(): void;
  close(): Promise<void>;
}
