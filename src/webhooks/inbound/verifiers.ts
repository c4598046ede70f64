import type { AnyPlugin } from '../../providers/plugin.ts';
import { type PluginsEnv, providerPlugins } from '../../providers/registry.ts';
import type { WebhookVerifiers } from './service.ts';

/** Each provider plugin's verifier of its inbound webhooks, where its settings make one. */
export async function providerWebhookVerifiers(config: PluginsEnv): Promise<WebhookVerifiers> {
  const entries = await Promise.all(
    providerPlugins.map(
      async (p) => [p.name, await (p as AnyPlugin).webhookVerifier?.(config)] as const,
    ),
  );
  return Object.fromEntries(entries.filter(([, verify]) => verify !== undefined));
}
