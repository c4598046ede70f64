/**
 * What each provider and model accepts and what it costs per second of output. Campaign
 * settings are checked against this when they are written, not when a render fails later.
 */
import {
  type AnyPlugin,
  isConfigured,
  type ModelLimits,
  type ModelSpec,
  type ProviderModels,
} from './plugin.ts';
import { type PluginsEnv, type ProviderName, providerNames, providerPlugins } from './registry.ts';

export type { ModelLimits, ModelSpec } from './plugin.ts';
export { type ProviderName, providerNames } from './registry.ts';

interface ProviderSpec extends ProviderModels {
  /**
   * Whether this deployment can reach the provider (its key is set). A campaign or level asking
   * for one that is not is a 422 naming the field, never a silent fallback to another provider.
   */
  configured: boolean;
}

/** PRICES_JSON: USD per second of video, by provider, model and size. */
type PriceOverrides = Partial<
  Record<ProviderName, Readonly<Record<string, Readonly<Record<string, number>>>>>
>;
/** MODEL_LIMITS_JSON: a model's own caps, by provider and model. */
type ModelLimitOverrides = Partial<Record<ProviderName, Readonly<Record<string, ModelLimits>>>>;
export type ProviderCatalog = Readonly<Record<ProviderName, ProviderSpec>>;

/** The providers this deployment can reach: `local` needs nothing, the others their key. */
export function configuredProviders(env: Readonly<Record<string, unknown>>): ProviderName[] {
  return providerPlugins.filter((p) => isConfigured(p as AnyPlugin, env)).map((p) => p.name);
}

type CatalogEnv = PluginsEnv & {
  PRICES_JSON?: PriceOverrides | undefined;
  MODEL_LIMITS_JSON?: ModelLimitOverrides | undefined;
};

/**
 * Every plugin's models, with PRICES_JSON's prices and MODEL_LIMITS_JSON's caps over the
 * listed ones (both checked against the listed catalog at start-up, see src/config.ts).
 */
export function buildCatalog(env: CatalogEnv): ProviderCatalog {
  const catalog = Object.fromEntries(
    providerPlugins.map((p) => [
      p.name,
      { ...(p as AnyPlugin).catalog(env), configured: isConfigured(p as AnyPlugin, env) },
    ]),
  ) as unknown as ProviderCatalog;
  const priced = env.PRICES_JSON ? withPrices(catalog, env.PRICES_JSON) : catalog;
  return env.MODEL_LIMITS_JSON ? withModelLimits(priced, env.MODEL_LIMITS_JSON) : priced;
}

/** The catalog with MODEL_LIMITS_JSON's caps over each model's own. */
function withModelLimits(catalog: ProviderCatalog, limits: ModelLimitOverrides): ProviderCatalog {
  const models = (name: ProviderName) =>
    Object.fromEntries(
      Object.entries(catalog[name].models).map(([model, spec]) => {
        const own = limits[name] && Object.hasOwn(limits[name], model) ? limits[name][model] : {};
        const merged = { ...spec.limits, ...own };
        return [model, Object.keys(merged).length ? { ...spec, limits: merged } : spec];
      }),
    );
  return Object.fromEntries(
    providerNames.map((name) => [name, { ...catalog[name], models: models(name) }]),
  ) as unknown as ProviderCatalog;
}

/** What in MODEL_LIMITS_JSON names no model of the catalog. */
export function modelLimitProblems(
  catalog: ProviderCatalog,
  limits: ModelLimitOverrides,
): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  for (const [provider, byModel] of Object.entries(limits) as [
    ProviderName,
    ModelLimitOverrides[ProviderName],
  ][]) {
    for (const model of Object.keys(byModel ?? {})) {
      if (!modelSpec(catalog, provider, model))
        problems.push({
          path: [provider, model],
          message: `${provider} has no model ${model} (known: ${Object.keys(catalog[provider].models).join(', ')})`,
        });
    }
  }
  return problems;
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
interface VideoPaths {
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

interface VideoRequest {
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

/** A provider's caps with its models' own (catalog or MODEL_LIMITS_JSON), as the limiter takes them. */
export function limitsWithModels<L extends object>(
  catalog: ProviderCatalog,
  limits: Readonly<Record<ProviderName, L>>,
): Record<ProviderName, L & { models: Readonly<Record<string, ModelLimits>> }> {
  return Object.fromEntries(
    providerNames.map((name) => [
      name,
      {
        ...limits[name],
        models: Object.fromEntries(
          Object.entries(catalog[name].models).flatMap(([model, spec]) =>
            spec.limits ? [[model, spec.limits]] : [],
          ),
        ),
      },
    ]),
  ) as Record<ProviderName, L & { models: Readonly<Record<string, ModelLimits>> }>;
}
