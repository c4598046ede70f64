import { definePlugin, type ModelSpec } from '../plugin.ts';
import type { RunwayProvider } from './adapter.ts';
import {
  RUNWAY_DEFAULT_MODEL,
  RUNWAY_MODELS,
  type RunwayCatalog,
  toLegacyModelSpecs,
} from './catalog.ts';
import { runwayConfigFrom, runwayEnv } from './config.ts';
import { RUNWAY_INLINE_IMAGE_MAX_BYTES } from './image.ts';

/** Runway's catalog (./catalog.ts) as specs: the same rules checkRunwayRequest applies. */
function runwaySpecs(catalog: RunwayCatalog = RUNWAY_MODELS): Record<string, ModelSpec> {
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

/**
 * `RUNWAY_FAILURE_CODES.internal` of ./adapter.ts, written out here so reading the plugin does
 * not load the SDK (test/providers/plugins.test.ts holds them equal).
 */
const RECREATABLE = ['provider_internal'] as const;

export const runwayPlugin = definePlugin({
  name: 'runway',
  env: runwayEnv.shape,
  key: 'RUNWAYML_API_SECRET',
  catalog: () => ({
    defaultModel: RUNWAY_DEFAULT_MODEL,
    models: runwaySpecs(),
    inlineImageMaxBytes: RUNWAY_INLINE_IMAGE_MAX_BYTES,
  }),
  // Runway caps generations per model per rolling day; our cap mirrors that shape.
  limits: (env) => ({
    rpm: env.RUNWAY_RPM,
    maxConcurrent: env.RUNWAY_MAX_CONCURRENT,
    dailyLimit: env.RUNWAY_DAILY_LIMIT,
    dailyPerModel: true,
  }),
  minPollIntervalMs: (env) => env.RUNWAY_POLL_MIN_MS,
  recreatableFailures: RECREATABLE,
  async create(env) {
    const config = runwayConfigFrom(env)!;
    const { createRunwayProvider } = await import('./adapter.ts');
    return createRunwayProvider({ apiKey: config.apiKey, baseURL: config.baseURL });
  },
  /** The client is made on first use, not at start-up. */
  account(env) {
    const config = runwayConfigFrom(env);
    if (!config) return undefined;
    let client: Promise<RunwayProvider> | undefined;
    return async (opts) => {
      client ??= import('./adapter.ts').then(({ createRunwayProvider }) =>
        createRunwayProvider({ apiKey: config.apiKey, baseURL: config.baseURL, readRetries: 0 }),
      );
      return (await client).account(opts);
    };
  },
});
