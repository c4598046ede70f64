import { z } from 'zod';
import { definePlugin, type ModelSpec } from '../plugin.ts';
import { FAL_DEFAULT_MODEL, type FalCatalog, falCatalog, falModelSpecs } from './catalog.ts';
import { falEnv, falOptionsFromEnv } from './config.ts';
import { FAL_APP_HEADER } from './webhook.ts';

/** fal's catalog (./catalog.ts) as specs: each model is one mode. */
function falSpecs(catalog: FalCatalog = falCatalog): Record<string, ModelSpec> {
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

export const falPlugin = definePlugin({
  name: 'fal',
  env: falEnv,
  key: 'FAL_KEY',
  catalog: () => ({ defaultModel: FAL_DEFAULT_MODEL, models: falSpecs() }),
  limits: (env) => ({
    rpm: env.FAL_RPM,
    maxConcurrent: env.FAL_MAX_CONCURRENT,
    dailyLimit: env.FAL_DAILY_LIMIT,
  }),
  async create(env) {
    const { createFalProvider } = await import('./adapter.ts');
    return createFalProvider(falOptionsFromEnv(env)!);
  },
  async webhookVerifier(env) {
    if (!env.FAL_KEY) return undefined;
    const { createFalWebhookVerifier } = await import('./webhook.ts');
    return createFalWebhookVerifier({ jwksUrl: env.FAL_JWKS_URL });
  },
  // fal signs nothing that names the app a request ran on, yet status and result need it: the
  // adapter registers `<route>/<owner>/<app>` as the webhook URL and the path hands it over.
  webhookRoute: {
    suffix: '/:owner/:app',
    params: z.object({
      owner: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
      app: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
    }),
    operationId: 'receiveFalWebhook',
    summary: 'Inbound webhooks from fal.ai (Ed25519-signed, JWKS)',
    description:
      "Called by fal.ai, not by clients: the signature is verified against fal's published keys before the body is read; deliveries are deduplicated on the request id.",
    headers: (params) => ({ [FAL_APP_HEADER]: `${params.owner}/${params.app}` }),
  },
});
