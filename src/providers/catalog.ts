/**
 * What each provider and model accepts and what it costs per second of output. Campaign
 * settings are checked against this when they are written, not when a render fails later.
 */
import { FAL_DEFAULT_MODEL, type FalCatalog, falCatalog, falModelSpecs } from './fal/catalog.ts';
import {
  RUNWAY_DEFAULT_MODEL,
  RUNWAY_MODELS,
  type RunwayCatalog,
  toLegacyModelSpecs,
} from './runway/catalog.ts';
import { RUNWAY_INLINE_IMAGE_MAX_BYTES } from './runway/image.ts';

export interface ModelSpec {
  /** Allowed clip lengths in seconds. */
  seconds: readonly number[];
  /** Every `WxH` size the model renders (either mode), with the price per second of video. */
  pricePerSecond: Readonly<Record<string, number>>;
  /** Renders from a prompt alone. */
  textToVideo: boolean;
  /** Takes a first-frame image (`video.reference_asset_id`); without `textToVideo`, requires one. */
  imageToVideo: boolean;
  /** Sizes per mode, where they differ (Runway's gen4.5 takes more ratios from an image). */
  sizes: { textToVideo: readonly string[]; imageToVideo: readonly string[] };
  /** Can add a soundtrack. */
  audio: boolean;
  /** Longest prompt the model takes, in characters; null where the provider states none. */
  promptMaxChars: number | null;
}

interface ProviderSpec {
  defaultModel: string;
  models: Readonly<Record<string, ModelSpec>>;
  /**
   * Whether this deployment can reach the provider (its key is set). A campaign or level asking
   * for one that is not is a 422 naming the field, never a silent fallback to another provider.
   */
  configured: boolean;
  /**
   * The largest first frame the provider takes inline (Runway: a data URI of 5 MB), where it
   * must otherwise fetch the image from a public HTTPS PUBLIC_URL; absent = no such limit.
   */
  inlineImageMaxBytes?: number | undefined;
}

/**
 * Every provider admatrix knows, the one list the rest derives from: campaign validation, the
 * render queue per provider (src/queue/registry.ts), PRICES_JSON's keys.
 */
export const providerNames = ['local', 'openai', 'runway', 'fal'] as const;
export type ProviderName = (typeof providerNames)[number];

/** PRICES_JSON: USD per second of video, by provider, model and size. */
type PriceOverrides = Partial<
  Record<ProviderName, Readonly<Record<string, Readonly<Record<string, number>>>>>
>;
export type ProviderCatalog = Readonly<Record<ProviderName, ProviderSpec>>;

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const localSizes = [
  '320x180',
  '640x360',
  '1280x720',
  '1920x1080',
  '180x320',
  '360x640',
  '720x1280',
  '1080x1920',
  '1024x1792',
  '1792x1024',
  '1080x1080',
];

/** What a deployment's env says about which providers it can reach: their keys. */
export interface ProviderKeys {
  OPENAI_API_KEY?: string | undefined;
  RUNWAYML_API_SECRET?: string | undefined;
  FAL_KEY?: string | undefined;
}

/**
 * The providers this deployment can reach. `local` needs nothing; the others need their key
 * (OPENAI_BASE_URL without OPENAI_API_KEY is refused at start-up, so the key alone decides).
 */
export function configuredProviders(env: ProviderKeys): ProviderName[] {
  const has: Record<ProviderName, boolean> = {
    local: true,
    openai: Boolean(env.OPENAI_API_KEY),
    runway: Boolean(env.RUNWAYML_API_SECRET),
    fal: Boolean(env.FAL_KEY),
  };
  return providerNames.filter((name) => has[name]);
}

/** A text-to-video model of one size list and no stated prompt limit (local, OpenAI shape). */
function textModel(seconds: readonly number[], prices: Record<string, number>): ModelSpec {
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

/** Runway's catalog (src/providers/runway/catalog.ts) as specs: the same rules checkRunwayRequest applies. */
export function runwaySpecs(catalog: RunwayCatalog = RUNWAY_MODELS): Record<string, ModelSpec> {
  const legacy = toLegacyModelSpecs(catalog);
  return Object.fromEntries(
    Object.entries(catalog).map(([name, m]) => [
      name,
      {
        seconds: m.seconds,
        pricePerSecond: legacy[name]!.pricePerSecond,
        textToVideo: m.textToVideo,
        imageToVideo: m.imageToVideo,
        sizes: m.sizes,
        audio: m.audio,
        promptMaxChars: m.promptMaxChars,
      },
    ]),
  );
}

/** fal's catalog (src/providers/fal/catalog.ts) as specs: each model is one mode. */
export function falSpecs(catalog: FalCatalog = falCatalog): Record<string, ModelSpec> {
  const legacy = falModelSpecs(catalog);
  return Object.fromEntries(
    Object.values(catalog).map((m) => {
      const sizes = Object.keys(m.sizes);
      return [
        m.id,
        {
          seconds: m.seconds,
          pricePerSecond: legacy[m.id]!.pricePerSecond,
          textToVideo: m.mode === 't2v',
          imageToVideo: m.mode === 'i2v',
          sizes: {
            textToVideo: m.mode === 't2v' ? sizes : [],
            imageToVideo: m.mode === 'i2v' ? sizes : [],
          },
          audio: m.audio !== 'none',
          promptMaxChars: m.promptMaxChars,
        },
      ];
    }),
  );
}

/**
 * The OpenAI shape: text, or an image as the first frame (`input_reference`, fitted to the
 * render's size by the pipeline), at the same sizes.
 */
function openaiModel(seconds: readonly number[], prices: Record<string, number>): ModelSpec {
  const spec = textModel(seconds, prices);
  return {
    ...spec,
    imageToVideo: true,
    sizes: { ...spec.sizes, imageToVideo: spec.sizes.textToVideo },
  };
}

/**
 * Historical Sora list prices; gateways differ, so deployments override them with PRICES_JSON
 * (checked against this catalog by `priceOverrideProblems` at start-up).
 */
export function defaultCatalog(opts: {
  openaiSeconds: number[];
  openaiModel: string;
  prices?: PriceOverrides | undefined;
  /** From `configuredProviders(env)`; only `local` when not given (the start-up price check). */
  configured?: readonly ProviderName[] | undefined;
}): ProviderCatalog {
  const sora2 = { '720x1280': 0.1, '1280x720': 0.1 };
  const sora2Pro = { '720x1280': 0.3, '1280x720': 0.3, '1024x1792': 0.5, '1792x1024': 0.5 };
  const openaiModels: Record<string, ModelSpec> = {
    'sora-2': openaiModel(opts.openaiSeconds, sora2),
    'sora-2-pro': openaiModel(opts.openaiSeconds, sora2Pro),
  };
  // A gateway model we have no list price for is allowed at the sora-2-pro sizes, priced like it,
  // so budgets err on the side of caution.
  if (!Object.hasOwn(openaiModels, opts.openaiModel)) {
    openaiModels[opts.openaiModel] = openaiModel(opts.openaiSeconds, sora2Pro);
  }
  const configured = new Set<ProviderName>(opts.configured ?? ['local']);
  const catalog: ProviderCatalog = {
    local: {
      defaultModel: 'card-v1',
      models: {
        'card-v1': textModel(range(1, 20), Object.fromEntries(localSizes.map((s) => [s, 0]))),
      },
      configured: configured.has('local'),
    },
    openai: {
      defaultModel: opts.openaiModel,
      models: openaiModels,
      configured: configured.has('openai'),
    },
    // The plug-in providers keep their catalogs as data in their own modules.
    runway: {
      defaultModel: RUNWAY_DEFAULT_MODEL,
      models: runwaySpecs(),
      configured: configured.has('runway'),
      inlineImageMaxBytes: RUNWAY_INLINE_IMAGE_MAX_BYTES,
    },
    fal: { defaultModel: FAL_DEFAULT_MODEL, models: falSpecs(), configured: configured.has('fal') },
  };
  return opts.prices ? withPrices(catalog, opts.prices) : catalog;
}

/** The catalog with PRICES_JSON's prices in place of the listed ones. */
function withPrices(catalog: ProviderCatalog, prices: PriceOverrides): ProviderCatalog {
  const models = (name: ProviderName) =>
    Object.fromEntries(
      Object.entries(catalog[name].models).map(([model, spec]) => [
        model,
        { ...spec, pricePerSecond: { ...spec.pricePerSecond, ...prices[name]?.[model] } },
      ]),
    );
  return Object.fromEntries(
    providerNames.map((name) => [name, { ...catalog[name], models: models(name) }]),
  ) as unknown as ProviderCatalog;
}

/**
 * What in PRICES_JSON names no model or size of the catalog. A price cannot add a size: a
 * campaign would then be accepted at a size the provider may not render.
 */
export function priceOverrideProblems(
  catalog: ProviderCatalog,
  prices: PriceOverrides,
): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  for (const [provider, byModel] of Object.entries(prices) as [
    ProviderName,
    PriceOverrides[ProviderName],
  ][]) {
    for (const [model, bySize] of Object.entries(byModel ?? {})) {
      const spec = modelSpec(catalog, provider, model);
      if (!spec) {
        const known = Object.keys(catalog[provider].models).join(', ');
        problems.push({
          path: [provider, model],
          message: `${provider} has no model ${model} (known: ${known})`,
        });
        continue;
      }
      for (const size of Object.keys(bySize)) {
        if (sizePrice(spec, size) === undefined)
          problems.push({
            path: [provider, model, size],
            message: `${provider}/${model} renders ${Object.keys(spec.pricePerSecond).join(', ')}, not ${size}`,
          });
      }
    }
  }
  return problems;
}

/**
 * A model's spec by name, own properties only: model names come from request bodies, and
 * `models["constructor"]` would otherwise be Object's own constructor.
 */
function modelSpec(catalog: ProviderCatalog, provider: ProviderName, model: string) {
  const models = catalog[provider].models;
  return Object.hasOwn(models, model) ? models[model] : undefined;
}

function sizePrice(spec: ModelSpec, size: string): number | undefined {
  return Object.hasOwn(spec.pricePerSecond, size) ? spec.pricePerSecond[size] : undefined;
}

export interface ResolvedVideo {
  provider: ProviderName;
  model: string;
  seconds: number;
  size: string;
}

/** Where each part of a request came from, for the 422's paths. */
export interface VideoPaths {
  provider: string;
  model: string;
  seconds: string;
  size: string;
  image: string;
}

export const campaignVideoPaths: VideoPaths = {
  provider: 'video.provider',
  model: 'video.model',
  seconds: 'video.seconds',
  size: 'video.size',
  image: 'video.reference_asset_id',
};

export interface VideoRequest {
  provider: string;
  model?: string | undefined;
  seconds: number;
  size: string;
  /** The campaign names a first-frame image (`video.reference_asset_id`). */
  hasImage?: boolean | undefined;
  /**
   * `strict` (the campaign's own model): an image the model cannot take is an error.
   * `lenient` (a level's generator): a text-only model renders from the prompt and leaves
   * the image out, so one matrix can compare image-to-video and text-to-video generators.
   */
  image?: 'strict' | 'lenient' | undefined;
  /** The image's size in bytes, when known: checked against an inline limit (Runway's 5 MB). */
  imageBytes?: number | undefined;
  /** This deployment can hand providers a signed HTTPS link instead (PUBLIC_URL is HTTPS). */
  imageByUrl?: boolean | undefined;
}

type VideoCheck =
  | { ok: true; video: ResolvedVideo }
  | { ok: false; errors: { path: string; message: string }[] };

const listSeconds = (seconds: readonly number[]) =>
  seconds.length > 6 ? `${seconds[0]}–${seconds.at(-1)}` : seconds.join(', ');

const isProvider = (name: string): name is ProviderName =>
  (providerNames as readonly string[]).includes(name);

/** Whether a render of this model gets the campaign's first-frame image. */
export function takesImage(catalog: ProviderCatalog, video: { provider: string; model: string }) {
  if (!isProvider(video.provider)) return false;
  return modelSpec(catalog, video.provider, video.model)?.imageToVideo ?? false;
}

/**
 * Checks a video request against the catalog: provider known and configured, model known,
 * seconds and size among the model's (per mode: gen4.5 takes more sizes from an image), an
 * image where the model needs one. Each error names its field and lists the allowed values.
 */
export function checkVideo(
  catalog: ProviderCatalog,
  req: VideoRequest,
  paths: VideoPaths = campaignVideoPaths,
): VideoCheck {
  if (!isProvider(req.provider)) {
    return {
      ok: false,
      errors: [
        {
          path: paths.provider,
          message: `unknown provider ${req.provider} (known: ${providerNames.join(', ')})`,
        },
      ],
    };
  }
  const provider = catalog[req.provider];
  if (!provider.configured) {
    const configured = providerNames.filter((p) => catalog[p].configured).join(', ');
    return {
      ok: false,
      errors: [
        {
          path: paths.provider,
          message: `provider ${req.provider} is not configured on this deployment (configured: ${configured})`,
        },
      ],
    };
  }
  const model = req.model ?? provider.defaultModel;
  const spec = modelSpec(catalog, req.provider, model);
  if (!spec) {
    const known = Object.keys(provider.models).join(', ');
    return {
      ok: false,
      errors: [
        {
          path: paths.model,
          message: `provider ${req.provider} has no model ${model} (known: ${known})`,
        },
      ],
    };
  }
  const name = `${req.provider}/${model}`;
  const errors: { path: string; message: string }[] = [];
  const withImage = Boolean(req.hasImage) && spec.imageToVideo;
  if (req.hasImage && !spec.imageToVideo && (req.image ?? 'strict') === 'strict') {
    errors.push({ path: paths.image, message: `${name} does not take a first-frame image` });
  } else if (!withImage && !spec.textToVideo) {
    errors.push({
      path: paths.image,
      message: `${name} renders only from an image: set video.reference_asset_id`,
    });
  }
  const inlineMax = provider.inlineImageMaxBytes;
  if (
    withImage &&
    !req.imageByUrl &&
    inlineMax !== undefined &&
    (req.imageBytes ?? 0) > inlineMax
  ) {
    errors.push({
      path: paths.image,
      message: `${req.provider} takes a first frame of at most ${inlineMax} bytes inline, and this image is ${req.imageBytes}; upload a smaller image, or give this deployment a public HTTPS PUBLIC_URL so ${req.provider} can fetch it`,
    });
  }
  if (!spec.seconds.includes(req.seconds)) {
    errors.push({
      path: paths.seconds,
      message: `${name} renders ${listSeconds(spec.seconds)} s, not ${req.seconds}`,
    });
  }
  const sizes = withImage ? spec.sizes.imageToVideo : spec.sizes.textToVideo;
  if (sizes.length && (!sizes.includes(req.size) || sizePrice(spec, req.size) === undefined)) {
    errors.push({
      path: paths.size,
      message: `${name} renders ${sizes.join(', ')}${withImage ? ' from an image' : ''}, not ${req.size}`,
    });
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    video: { provider: req.provider, model, seconds: req.seconds, size: req.size },
  };
}

/** The model's prompt limit in characters, or null where none is stated. */
export function promptLimit(catalog: ProviderCatalog, video: ResolvedVideo): number | null {
  return modelSpec(catalog, video.provider, video.model)?.promptMaxChars ?? null;
}

export function pricePerVariant(catalog: ProviderCatalog, video: ResolvedVideo): number {
  const spec = modelSpec(catalog, video.provider, video.model);
  const perSecond = (spec && sizePrice(spec, video.size)) ?? 0;
  return perSecond * video.seconds;
}
