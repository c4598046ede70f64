import { z } from 'zod';
import { definePlugin, type ModelSpec, textModel } from '../plugin.ts';

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Historical Sora list prices; gateways differ, so deployments override them with PRICES_JSON. */
const sora2 = { '720x1280': 0.1, '1280x720': 0.1 };
const sora2Pro = { '720x1280': 0.3, '1280x720': 0.3, '1024x1792': 0.5, '1792x1024': 0.5 };

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

/** Any OpenAI-shaped `/v1/videos` gateway (LiteLLM's proxy, OpenAI itself). */
export const openaiPlugin = definePlugin({
  name: 'openai',
  env: {
    OPENAI_BASE_URL: z.url().optional(),
    OPENAI_API_KEY: z.string().min(1).optional(),
    OPENAI_VIDEO_MODEL: z.string().min(1).default('sora-2'),
    OPENAI_VIDEO_SECONDS: csv.default(['4', '8', '12']),
    OPENAI_RPM: z.coerce.number().int().min(1).default(25),
    OPENAI_MAX_CONCURRENT: z.coerce.number().int().min(1).default(2),
    OPENAI_WEBHOOK_SECRET: z.string().min(1).optional(),
  },
  key: 'OPENAI_API_KEY',
  catalog(env) {
    const seconds = env.OPENAI_VIDEO_SECONDS.map(Number);
    const models: Record<string, ModelSpec> = {
      'sora-2': openaiModel(seconds, sora2),
      'sora-2-pro': openaiModel(seconds, sora2Pro),
    };
    // A gateway model we have no list price for is allowed at the sora-2-pro sizes, priced like
    // it, so budgets err on the side of caution.
    if (!Object.hasOwn(models, env.OPENAI_VIDEO_MODEL)) {
      models[env.OPENAI_VIDEO_MODEL] = openaiModel(seconds, sora2Pro);
    }
    return { defaultModel: env.OPENAI_VIDEO_MODEL, models };
  },
  limits: (env) => ({ rpm: env.OPENAI_RPM, maxConcurrent: env.OPENAI_MAX_CONCURRENT }),
  check(env, issue) {
    if (env.OPENAI_BASE_URL && !env.OPENAI_API_KEY)
      issue('OPENAI_API_KEY', 'required when OPENAI_BASE_URL is set');
  },
  async create(env, _ctx) {
    const [{ default: OpenAI }, { createOpenAIProvider }] = await Promise.all([
      import('openai'),
      import('../openai.ts'),
    ]);
    return createOpenAIProvider({
      client: new OpenAI({
        apiKey: env.OPENAI_API_KEY,
        ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
        timeout: 60_000,
      }),
      ...(env.OPENAI_WEBHOOK_SECRET ? { webhookSecret: env.OPENAI_WEBHOOK_SECRET } : {}),
    });
  },
  /**
   * The api needs the OpenAI client only for `webhooks.unwrap`, which makes no request: no key
   * is needed for that, so a placeholder stands in when the api has none. Without a webhook
   * secret the SDK is not even loaded.
   */
  async webhookVerifier(env) {
    if (!env.OPENAI_WEBHOOK_SECRET) return undefined;
    const [{ default: OpenAI }, { createOpenAIProvider }] = await Promise.all([
      import('openai'),
      import('../openai.ts'),
    ]);
    return createOpenAIProvider({
      client: new OpenAI({
        apiKey: env.OPENAI_API_KEY ?? 'unused-webhook-verification-only',
        ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
        maxRetries: 0,
      }),
      webhookSecret: env.OPENAI_WEBHOOK_SECRET,
    }).verifyWebhook;
  },
  webhookRoute: {
    operationId: 'receiveOpenaiWebhook',
    summary: 'Inbound Standard Webhooks from an OpenAI-compatible video provider',
    description:
      'Called by the video provider, not by clients: the signature is verified against the configured webhook secret before anything is done, and a finished render is picked up at once instead of at the next poll.',
  },
});
