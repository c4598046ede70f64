import { z } from 'zod';

/**
 * fal.ai's part of the one env schema (its plugin, ./plugin.ts, hands it to src/config.ts).
 * Without `FAL_KEY` the provider is not configured.
 */
export const falEnv = {
  FAL_KEY: z.string().min(1).optional().describe('fal.ai API key (sent as `Authorization: Key …`)'),
  FAL_QUEUE_URL: z
    .url()
    .default('https://queue.fal.run')
    .describe('fal queue host; a loopback fake in tests'),
  FAL_JWKS_URL: z
    .url()
    .default('https://rest.alpha.fal.ai/.well-known/jwks.json')
    .describe('Public keys that sign fal webhooks'),
  FAL_RPM: z.coerce.number().int().min(1).default(60),
  // Accounts start at 2 concurrent requests; fal queues the excess rather than refusing it.
  FAL_MAX_CONCURRENT: z.coerce.number().int().min(1).default(2),
  FAL_DAILY_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Renders per day; unset = no cap'),
};

interface FalEnv {
  FAL_KEY?: string | undefined;
  FAL_QUEUE_URL: string;
  FAL_JWKS_URL: string;
  PUBLIC_URL?: string | undefined;
}

/**
 * Adapter options from the environment; null when fal is not configured. Webhooks need a
 * public address; without `PUBLIC_URL` the pipeline polls.
 */
export function falOptionsFromEnv(env: FalEnv) {
  if (!env.FAL_KEY) return null;
  return {
    key: env.FAL_KEY,
    queueUrl: env.FAL_QUEUE_URL,
    jwksUrl: env.FAL_JWKS_URL,
    webhookUrl: env.PUBLIC_URL
      ? `${env.PUBLIC_URL.replace(/\/$/, '')}/v1/providers/fal/webhook`
      : undefined,
  };
}
