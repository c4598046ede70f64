import type { Readable } from 'node:stream';
import type { ProviderName } from './catalog.ts';

export type { ProviderName } from './catalog.ts';

export interface RenderSpec {
  /** `var_…`: the unit that must never be paid for twice. */
  variantId: string;
  /** Final prompt, negative guidance already appended. */
  prompt: string;
  model: string;
  seconds: number;
  /** `WxH`. */
  size: string;
  /** Local provider: lines to draw (level labels, key words). */
  captions?: readonly string[] | undefined;
  /** Local provider: `#rrggbb`, usually `colourFor(level key)`. */
  background?: string | undefined;
  /** Local provider's motion template: the brief's key message, drawn as the headline. */
  keyMessage?: string | undefined;
  /** Local provider's motion template: the brief's call to action, drawn as a button. */
  callToAction?: string | undefined;
  /**
   * The campaign's first-frame image (`video.reference_asset_id`), present only when the
   * variant's model takes one (`VideoProvider.takesImage`). Each adapter hands it over in the
   * form its provider wants: a URL, a data URI or a file upload.
   */
  image?: RenderImage | undefined;
  /**
   * The level's background image (a level's `background_asset_id`), loaded only for providers
   * that draw one (`VideoProvider.drawsBackground`: the local renderer).
   */
  backgroundImage?: RenderImage | undefined;
  /** Seconds until the render is useless (the variant's deadline); fal turns it into a timeout. */
  deadlineSeconds?: number | undefined;
}

/** A first-frame image, loaded in the worker from storage by asset id (never in a job payload). */
export interface RenderImage {
  /** The asset's bytes as uploaded, or fitted to the render's size where the provider needs that. */
  bytes: Uint8Array;
  /** Sniffed at upload: `image/png`, `image/jpeg` or `image/webp`. */
  contentType: string;
  width: number;
  height: number;
  /** Hex digest of `bytes`. */
  sha256: string;
  /**
   * A signed link to the same bytes on this deployment's PUBLIC_URL: answers HEAD with
   * Content-Type and Content-Length and never redirects. Set only when PUBLIC_URL is HTTPS.
   */
  url?: string | undefined;
}

type ProviderState = 'queued' | 'in_progress' | 'completed' | 'failed';

export interface ProviderStatus {
  state: ProviderState;
  /** 0–100. */
  progress: number;
  /** Set when `state` is `failed`; `code` is kept on the variant (e.g. `moderation_blocked`). */
  error?: { code: string; message: string } | undefined;
  /** What the provider says the render cost, once it knows (Runway's `cost.credits`). */
  costUsd?: number | undefined;
  /** The provider's own status and code, kept on the variant as it said them. */
  raw?: { status: string; code?: string | undefined } | undefined;
}

/** What a create call answered. */
export interface SubmitResult {
  jobId: string;
  /** The provider's own estimate, reserved against the budget (Runway's `estimatedCost`). */
  reservedUsd?: number | undefined;
}

export type DownloadVariant = 'video' | 'thumbnail';

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface FindExistingOptions {
  /** When the first submit attempt for this variant started (our clock). */
  since: Date;
  /** Job ids already attached to other variants: never adopt those. */
  exclude?: ReadonlySet<string> | undefined;
}

/**
 * A verified webhook: a render that finished, or another kind of event the provider sent
 * (an account subscribed to more than videos), which is acknowledged and ignored: answering it
 * with an error would only make the provider retry it.
 */
export type WebhookEvent = (
  | { jobId: string; event: 'completed' | 'failed' }
  | { event: 'other'; type: string }
) & {
  /**
   * What a retried or replayed delivery repeats, to deduplicate on; default the Standard
   * Webhooks `webhook-id` header (fal: the `request_id`).
   */
  deliveryId?: string | undefined;
};

export interface VideoProvider {
  readonly name: ProviderName;
  /**
   * Exactly one create call; never retried inside. A `ProviderError` with code
   * `ambiguous_create` means the render may exist: call `findExisting` before submitting again.
   */
  submit(spec: RenderSpec, opts?: CallOptions): Promise<SubmitResult>;
  /**
   * False when the provider has no way to list what we created (Runway, fal): an ambiguous create
   * then parks the variant as `held` instead of risking a second paid render. `findExisting` of
   * such a provider throws.
   */
  readonly searchable: boolean;
  /** Whether renders of this model take a first frame; absent = none do (the image is not loaded). */
  takesImage?(model: string): boolean;
  /**
   * The first frame must have the render's exact pixel size (the OpenAI shape's
   * `input_reference`): the pipeline fits the image to `size` before submit.
   */
  readonly imageMustMatchSize?: boolean | undefined;
  /** Draws `RenderSpec.backgroundImage` (the local renderer); absent, it is not loaded. */
  readonly drawsBackground?: boolean | undefined;
  /**
   * Throws a permanent ProviderError when the provider could not be handed this first frame
   * (Runway: a data URI over 5 MB): called before the create slot is claimed, so a render that
   * cannot be sent spends none of the provider's rate or daily quota.
   */
  checkImage?(image: RenderImage): void;
  /** Stops a render the provider is still working on; a no-op for one already finished. */
  cancel?(jobId: string, opts?: CallOptions): Promise<void>;
  /**
   * After a crash between the provider accepting and us storing the job id: the render created
   * for this spec since `since`, the oldest first, skipping `exclude`. Throws a permanent
   * `ProviderError` when it cannot tell (see each adapter) rather than answer a null that would
   * lead to a second paid render; the pipeline then holds the variant for a person.
   */
  findExisting(spec: RenderSpec, opts: FindExistingOptions): Promise<{ jobId: string } | null>;
  /** A failed render is a status, not a throw; only failures of the call itself throw. */
  status(jobId: string, opts?: CallOptions): Promise<ProviderStatus>;
  /** A stream, never a buffer. OpenAI-style thumbnails are WebP, local ones JPEG: sniff them. */
  download(jobId: string, what: DownloadVariant, opts?: CallOptions): Promise<Readable>;
  /** Verifies and parses an inbound webhook (raw body + headers); null when not ours or forged. */
  verifyWebhook?(rawBody: string, headers: Record<string, string>): Promise<WebhookEvent | null>;
}

type ProviderErrorKind = 'transient' | 'rate_limited' | 'permanent';

/** Create may have gone through: look for the render before creating another. */
export const AMBIGUOUS_CREATE = 'ambiguous_create';

interface ProviderErrorInit {
  kind: ProviderErrorKind;
  code: string;
  status?: number | undefined;
  retryAfterMs?: number | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly code: string;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, init: ProviderErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.code = init.code;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
  }
}

export function isAmbiguousCreate(err: unknown): boolean {
  return err instanceof ProviderError && err.code === AMBIGUOUS_CREATE;
}
