/**
 * What each provider and model accepts and what it costs per second of output. Campaign
 * settings are checked against this when they are written, not when a render fails later.
 */
import { FAL_DEFAULT_MODEL, falModelSpecs } from './fal/catalog.ts';
import { RUNWAY_DEFAULT_MODEL, RUNWAY_MODELS, toLegacyModelSpecs } from './runway/catalog.ts';
export interface ModelSpec {
  /** Allowed clip lengths in seconds. */
  seconds: readonly number[];
  /** Allowed `WxH` sizes, with the price per second of video at that size. */
  pricePerSecond: Readonly<Record<string, number>>;
}

interface ProviderSpec {
  defaultModel: string;
  models: Readonly<Record<string, ModelSpec>>;
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

/**
 * Historical Sora list prices; gateways differ, so deployments override them with PRICES_JSON
 * (checked against this catalog by `priceOverrideProblems` at start-up).
 */
export function defaultCatalog(opts: {
  openaiSeconds: number[];
  openaiModel: string;
  prices?: PriceOverrides | undefined;
}): ProviderCatalog {
  const sora2 = { '720x1280': 0.1, '1280x720': 0.1 };
  const sora2Pro = { '720x1280': 0.3, '1280x720': 0.3, '1024x1792': 0.5, '1792x1024': 0.5 };
  const openaiModels: Record<string, ModelSpec> = {
    'sora-2': { seconds: opts.openaiSeconds, pricePerSecond: sora2 },
    'sora-2-pro': { seconds: opts.openaiSeconds, pricePerSecond: sora2Pro },
  };
  // A gateway model we have no list price for is allowed at the sora-2-pro sizes, priced like it,
  // so budgets err on the side of caution.
  if (!openaiModels[opts.openaiModel]) {
    openaiModels[opts.openaiModel] = { seconds: opts.openaiSeconds, pricePerSecond: sora2Pro };
  }
  const catalog: ProviderCatalog = {
    local: {
      defaultModel: 'card-v1',
      models: {
        'card-v1': {
          seconds: range(1, 20),
          pricePerSecond: Object.fromEntries(localSizes.map((s) => [s, 0])),
        },
      },
    },
    openai: { defaultModel: opts.openaiModel, models: openaiModels },
    // The plug-in providers keep their catalogs as data in their own modules.
    runway: { defaultModel: RUNWAY_DEFAULT_MODEL, models: toLegacyModelSpecs(RUNWAY_MODELS) },
    fal: { defaultModel: FAL_DEFAULT_MODEL, models: falModelSpecs() },
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

interface VideoRequest {
  provider: ProviderName;
  model?: string | undefined;
  seconds: number;
  size: string;
}

type VideoCheck =
  | { ok: true; video: { provider: ProviderName; model: string; seconds: number; size: string } }
  | { ok: false; errors: { path: string; message: string }[] };

export function checkVideoSettings(catalog: ProviderCatalog, req: VideoRequest): VideoCheck {
  const provider = catalog[req.provider];
  const model = req.model ?? provider.defaultModel;
  const spec = modelSpec(catalog, req.provider, model);
  if (!spec) {
    const known = Object.keys(provider.models).join(', ');
    return {
      ok: false,
      errors: [
        {
          path: 'video.model',
          message: `provider ${req.provider} has no model ${model} (known: ${known})`,
        },
      ],
    };
  }
  const errors: { path: string; message: string }[] = [];
  if (!spec.seconds.includes(req.seconds)) {
    const allowed =
      spec.seconds.length > 6
        ? `${spec.seconds[0]}–${spec.seconds.at(-1)}`
        : spec.seconds.join(', ');
    errors.push({
      path: 'video.seconds',
      message: `${req.provider}/${model} renders ${allowed} s, not ${req.seconds}`,
    });
  }
  if (sizePrice(spec, req.size) === undefined) {
    errors.push({
      path: 'video.size',
      message: `${req.provider}/${model} renders ${Object.keys(spec.pricePerSecond).join(', ')}, not ${req.size}`,
    });
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    video: { provider: req.provider, model, seconds: req.seconds, size: req.size },
  };
}

export function pricePerVariant(
  catalog: ProviderCatalog,
  video: { provider: ProviderName; model: string; seconds: number; size: string },
): number {
  const spec = modelSpec(catalog, video.provider, video.model);
  const perSecond = (spec && sizePrice(spec, video.size)) ?? 0;
  return perSecond * video.seconds;
}
