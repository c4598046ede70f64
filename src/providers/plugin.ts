/**
 * The contract every video provider module exports. The one ordered list of plugins
 * (src/providers/registry.ts) is where admatrix learns of a provider: the env schema, the
 * provider names (and so the render queues), the catalog, which providers are configured,
 * their limits and their adapters all derive from it, so adding a provider is its module
 * plus one line there.
 *
 * A plugin module must not import its SDK at the top: config, the api and the catalog read
 * plugins, and only the worker builds adapters (`create`, which imports them on demand).
 */
import type { z } from 'zod';
import type { Media } from '../media/index.ts';
import type { VideoProvider } from './types.ts';

/** A model's own caps where they differ from its provider's (catalog, MODEL_LIMITS_JSON). */
export interface ModelLimits {
  /** Create calls per minute of this model; the provider's RPM still bounds the total. */
  rpm?: number | undefined;
  /** This model's renders in flight; the provider's cap still bounds all of its models. */
  maxConcurrent?: number | undefined;
  /** This model's creates per rolling 24 h. */
  dailyLimit?: number | undefined;
}

/** A provider's own caps (`<PROVIDER>_RPM`, `_MAX_CONCURRENT`, `_DAILY_LIMIT`). */
export interface ProviderLimits {
  /** Create calls per rolling minute, across every worker. */
  rpm: number;
  /** Renders submitting, submitted or rendering at once, across every worker. */
  maxConcurrent: number;
  /** Our own cap on creates per rolling 24 h, so the provider's daily 429 is never drawn. */
  dailyLimit?: number | undefined;
  /** The daily cap counts per model (Runway's caps are per model), else per provider. */
  dailyPerModel?: boolean | undefined;
}

export interface ModelSpec {
  /** Allowed clip lengths in seconds. */
  seconds: readonly number[];
  /** Every `WxH` size the model renders (either mode), with the price per second of video. */
  pricePerSecond: Readonly<Record<string, number>>;
  /** Renders from a prompt alone. */
  textToVideo: boolean;
  /** Takes a first-frame image (`video.reference_asset_id`); without `textToVideo`, needs one. */
  imageToVideo: boolean;
  /** Sizes per mode, where they differ (Runway's gen4.5 takes more ratios from an image). */
  sizes: { textToVideo: readonly string[]; imageToVideo: readonly string[] };
  /** Can add a soundtrack. */
  audio: boolean;
  /** Longest prompt the model takes, in characters; null where the provider states none. */
  promptMaxChars: number | null;
  /** This model's own caps over its provider's; absent = the provider's alone. */
  limits?: ModelLimits | undefined;
}

export interface ProviderModels {
  defaultModel: string;
  models: Readonly<Record<string, ModelSpec>>;
  /**
   * The largest first frame the provider takes inline (Runway: a data URI of 5 MB), where it
   * must otherwise fetch the image from a public HTTPS PUBLIC_URL; absent = no such limit.
   */
  inlineImageMaxBytes?: number | undefined;
}

/** What a provider's account says about money and limits (Runway's `GET /v1/organization`). */
export interface ProviderAccount {
  creditBalance: number;
  balanceUsd: number;
  maxMonthlySpendUsd: number;
  models: Record<
    string,
    { maxConcurrent: number | null; maxDaily: number | null; dailyUsed: number }
  >;
}

export type AccountFetcher = (opts: { signal: AbortSignal }) => Promise<ProviderAccount>;

export type WebhookVerifier = NonNullable<VideoProvider['verifyWebhook']>;

/** Settings of the one env schema every plugin may read beside its own. */
export type SharedEnv = {
  PUBLIC_URL?: string | undefined;
};

/** A directory under WORK_DIR whose entries are removed when untouched for `maxAgeMs(name)`. */
export interface WorkDirArea {
  dir: string;
  maxAgeMs(entryName: string): number;
}

/** What the worker hands an adapter besides its settings. */
export interface AdapterContext {
  media: Media;
  workDir: string;
}

/** A plugin's settings as parsed: its own part of the env schema plus the shared ones. */
type PluginEnv<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>> & SharedEnv;

interface ProviderPlugin<N extends string = string, S extends z.ZodRawShape = z.ZodRawShape> {
  /** The provider's id: `video.provider`, its render queue (`render-<name>`), PRICES_JSON keys. */
  readonly name: N;
  /** Its part of the one env schema (src/config.ts merges every plugin's). Names are unique. */
  readonly env: S;
  /**
   * The setting that turns it on (its key); null = always on. Unset, a campaign naming the
   * provider is a 422 and `DEFAULT_PROVIDER=<name>` is refused at start-up.
   */
  readonly key: (keyof S & string) | null;
  /** Its models as data; settings may add one (a gateway's model name). */
  catalog(env: PluginEnv<S>): ProviderModels;
  limits(env: PluginEnv<S>): ProviderLimits;
  /**
   * False when its limits are ours alone, not a provider quota (the local renderer):
   * `GET /v1/providers` then shows none.
   */
  readonly quota?: boolean | undefined;
  /** The fastest its jobs may be polled (Runway asks for no faster than every 5 s). */
  minPollIntervalMs?(env: PluginEnv<S>): number;
  /**
   * Failure codes its adapter reports that charged nothing and that a fresh create may not
   * repeat (Runway INTERNAL): the job is created again, a bounded number of times.
   */
  readonly recreatableFailures?: readonly string[] | undefined;
  /**
   * False when its frames come from no trained model (the local renderer's templates): its
   * outputs are IPTC `algorithmicMedia`, not AI-generated in the AI Act's sense, and get no
   * visible AI label (src/provenance). True unless set.
   */
  readonly trainedModel?: boolean | undefined;
  /**
   * What its adapter keeps under WORK_DIR, for the worker's sweep (src/render/work-dir-sweep.ts)
   * to remove once idle past the area's age: a crash leaves it behind.
   */
  readonly workDirAreas?: readonly WorkDirArea[] | undefined;
  /** Cross-field checks of its settings, reported as config errors at start-up. */
  check?(env: PluginEnv<S>, issue: (setting: string, message: string) => void): void;
  /** The adapter, built in the worker only when configured; imports its SDK on demand. */
  create(env: PluginEnv<S>, ctx: AdapterContext): Promise<VideoProvider>;
  /** Account figures for `GET /v1/providers`, where the provider reports them. */
  account?(env: PluginEnv<S>): AccountFetcher | undefined;
  /** The api's verifier of this provider's inbound webhooks; undefined = it sends none. */
  webhookVerifier?(env: PluginEnv<S>): Promise<WebhookVerifier | undefined>;
  /** Its inbound webhook route, `POST /v1/providers/<name>/webhook[<suffix>]`, if it sends any. */
  readonly webhookRoute?: WebhookRoute | undefined;
}

interface WebhookRoute {
  /** After `/providers/<name>/webhook`: path parameters the provider's URL carries (fal's app). */
  suffix?: string | undefined;
  params?: z.ZodObject | undefined;
  operationId: string;
  summary: string;
  description: string;
  /** What the path tells the verifier, as headers it reads (the signature covers neither). */
  headers?(params: Record<string, string>): Record<string, string>;
}

/** Checks a plugin against the contract and keeps its literal name and settings as types. */
export function definePlugin<const N extends string, S extends z.ZodRawShape>(
  plugin: ProviderPlugin<N, S>,
): ProviderPlugin<N, S> {
  return plugin;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of plugins, each with its own settings
export type AnyPlugin = ProviderPlugin<string, any>;

/** Whether this deployment can reach the provider: its key is set (or it needs none). */
export function isConfigured(plugin: AnyPlugin, env: Readonly<Record<string, unknown>>): boolean {
  return plugin.key === null || Boolean(env[plugin.key]);
}

/** A text-to-video model of one size list and no stated prompt limit (local, OpenAI shape). */
export function textModel(seconds: readonly number[], prices: Record<string, number>): ModelSpec {
  const sizes = Object.keys(prices);
  return {
    seconds,
    pricePerSecond: prices,
    textToVideo: true,
    imageToVideo: false,
    sizes: { textToVideo: sizes, imageToVideo: [] },
    audio: false,
    promptMaxChars: null,
  };
}

export const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
