/**
 * What each provider and model accepts and what it costs per second of output. Campaign
 * settings are checked against this when they are written, not when a render fails later.
 */
export interface ModelSpec {
  /** Allowed clip lengths in seconds. */
  seconds: readonly number[];
  /** Allowed `WxH` sizes, with the price per second of video at that size. */
  pricePerSecond: Readonly<Record<string, number>>;
}

export interface ProviderSpec {
  defaultModel: string;
  models: Readonly<Record<string, ModelSpec>>;
}

export type ProviderName = 'local' | 'openai';
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

/** Historical Sora list prices; gateways differ, so deployments override them from config. */
export function defaultCatalog(opts: {
  openaiSeconds: number[];
  openaiModel: string;
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
  return {
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
  };
}

export interface VideoRequest {
  provider: ProviderName;
  model?: string | undefined;
  seconds: number;
  size: string;
}

export type VideoCheck =
  | { ok: true; video: { provider: ProviderName; model: string; seconds: number; size: string } }
  | { ok: false; errors: { path: string; message: string }[] };

export function checkVideoSettings(catalog: ProviderCatalog, req: VideoRequest): VideoCheck {
  const provider = catalog[req.provider];
  const model = req.model ?? provider.defaultModel;
  const spec = provider.models[model];
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
  if (spec.pricePerSecond[req.size] === undefined) {
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
  const perSecond = catalog[video.provider].models[video.model]?.pricePerSecond[video.size] ?? 0;
  return perSecond * video.seconds;
}
