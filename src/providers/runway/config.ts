import { z } from 'zod';

/**
 * Runway's part of the one env schema (its plugin, ./plugin.ts, hands it to src/config.ts).
 * The key and base URL keep the SDK's own names; the SDK is never left to read them from
 * process.env.
 */
export const runwayEnv = z.object({
  RUNWAYML_API_SECRET: z.string().min(1).optional().describe('Turns the runway provider on'),
  RUNWAYML_BASE_URL: z
    .url()
    .refine((u) => !/\/v1\/?$/.test(u), 'the base has no /v1: the SDK adds it to every path')
    .default('https://api.dev.runwayml.com'),
  // Runway asks for no faster than every 5 s; lower only against a fake.
  RUNWAY_POLL_MIN_MS: z.coerce.number().int().min(1).default(5_000),
  // Runway publishes no request-rate cap; this only spaces our own creates.
  RUNWAY_RPM: z.coerce.number().int().min(1).default(60),
  // Above the tier's concurrency tasks wait THROTTLED (not refused) while the deadline runs:
  // tier 1 allows 1 per model.
  RUNWAY_MAX_CONCURRENT: z.coerce.number().int().min(1).default(1),
  // Generations per model per rolling day; unset = trust Runway's 429 (tier 1 allows 50).
  RUNWAY_DAILY_LIMIT: z.coerce.number().int().min(1).optional(),
});

type RunwayEnv = z.infer<typeof runwayEnv>;

interface RunwayConfig {
  apiKey: string;
  baseURL: string;
  limits: { rpm: number; maxConcurrent: number; dailyLimit: number | undefined };
}

/** Null when Runway is not configured: a campaign asking for it is then a 422, never a fallback. */
export function runwayConfigFrom(env: RunwayEnv): RunwayConfig | null {
  if (!env.RUNWAYML_API_SECRET) return null;
  return {
    apiKey: env.RUNWAYML_API_SECRET,
    baseURL: env.RUNWAYML_BASE_URL.replace(/\/+$/, ''),
    limits: {
      rpm: env.RUNWAY_RPM,
      maxConcurrent: env.RUNWAY_MAX_CONCURRENT,
      dailyLimit: env.RUNWAY_DAILY_LIMIT,
    },
  };
}
