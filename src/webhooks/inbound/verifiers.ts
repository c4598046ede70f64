import OpenAI from 'openai';
import type { Env } from '../../config.ts';
import { createOpenAIProvider } from '../../providers/openai.ts';
import type { WebhookVerifiers } from './service.ts';

/**
 * The api needs the OpenAI client only for `webhooks.unwrap`, which makes no request: no key is
 * needed for that, so a placeholder stands in when the api has none.
 */
export function providerWebhookVerifiers(
  config: Pick<Env, 'OPENAI_WEBHOOK_SECRET' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>,
): WebhookVerifiers {
  if (!config.OPENAI_WEBHOOK_SECRET) return {};
  const provider = createOpenAIProvider({
    client: new OpenAI({
      apiKey: config.OPENAI_API_KEY ?? 'unused-webhook-verification-only',
      ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
      maxRetries: 0,
    }),
    webhookSecret: config.OPENAI_WEBHOOK_SECRET,
  });
  return provider.verifyWebhook ? { openai: provider.verifyWebhook } : {};
}
