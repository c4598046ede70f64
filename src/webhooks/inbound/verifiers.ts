import type { Env } from '../../config.ts';
import { createFalWebhookVerifier } from '../../providers/fal/webhook.ts';
import type { WebhookVerifiers } from './service.ts';

/**
 * The api needs the OpenAI client only for `webhooks.unwrap`, which makes no request: no key is
 * needed for that, so a placeholder stands in when the api has none. Without a webhook secret
 * the SDK is not even loaded.
 */
export async function providerWebhookVerifiers(
  config: Pick<
    Env,
    'OPENAI_WEBHOOK_SECRET' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'FAL_KEY' | 'FAL_JWKS_URL'
  >,
): Promise<WebhookVerifiers> {
  const fal: WebhookVerifiers = config.FAL_KEY
    ? { fal: createFalWebhookVerifier({ jwksUrl: config.FAL_JWKS_URL }) }
    : {};
  if (!config.OPENAI_WEBHOOK_SECRET) return fal;
  const [{ default: OpenAI }, { createOpenAIProvider }] = await Promise.all([
    import('openai'),
    import('../../providers/openai.ts'),
  ]);
  const provider = createOpenAIProvider({
    client: new OpenAI({
      apiKey: config.OPENAI_API_KEY ?? 'unused-webhook-verification-only',
      ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
      maxRetries: 0,
    }),
    webhookSecret: config.OPENAI_WEBHOOK_SECRET,
  });
  return provider.verifyWebhook ? { ...fal, openai: provider.verifyWebhook } : fal;
}
