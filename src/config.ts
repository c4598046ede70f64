import { z } from 'zod';
import { checkSettingsTogether } from './config/cross-checks.ts';
import { bool, csv, modelLimitsSchema, pem, pricesSchema } from './config/parsers.ts';
import { providerNames } from './providers/catalog.ts';
import { pluginEnvShape } from './providers/registry.ts';

/**
 * The whole environment contract of admatrix. Parsed once by an entry point and passed down;
 * no other module reads process.env.
 */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5_000)
    .describe(
      'How long a query waits for a connection before failing (503 to a request, a delayed job in a worker) when Postgres is out of reach',
    ),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe(
      'Postgres cancels a statement running longer than this (statement_timeout); 0 = never',
    ),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  // In braces, a Redis Cluster hash tag: BullMQ's Lua scripts touch several keys of a queue at
  // once, which Cluster allows only within one slot, and the heartbeat reads all workers in one
  // MGET. Without braces it works on one Redis node, not on a Cluster.
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^(\{[a-zA-Z0-9_:-]{1,38}\}|[a-zA-Z0-9_:-]{1,40})$/,
      'letters, digits, _ : - (1–40), optionally in one pair of braces (a Cluster hash tag)',
    )
    .default('{amx}'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  ASSET_AUDIO_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20 * 1024 * 1024)
    .describe('Largest audio asset (a spot audio bed) accepted'),
  ASSET_AUDIO_MAX_SECONDS: z.coerce
    .number()
    .positive()
    .default(180)
    .describe('Longest audio asset accepted, as ffprobe measures it'),
  ASSET_DECODE_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .default(2)
    .describe('Logo uploads decoded at once per api process (each decode is an ffmpeg run)'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .default(20)
    .describe('Failed authentications per client address per minute before 429; 0 = unlimited'),
  AUTH_NEGATIVE_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5_000)
    .describe('How long an unknown API key is answered 401 from memory, without Postgres'),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v): boolean | string => (v === undefined ? false : v === 'true' ? true : v))
    .describe(
      'Behind a proxy: true, or its addresses/CIDRs (comma-separated), so the client address (X-Forwarded-For) is used for limits and logs',
    ),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(25_000),
  IDEMPOTENCY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  CONSOLE_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12)
    .describe(
      'The longest a console sign-in lasts, however busy, before the manager signs in again',
    ),
  CONSOLE_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60)
    .describe(
      'A console session unused this long ends; each use extends it (up to CONSOLE_SESSION_HOURS)',
    ),
  CONSOLE_BULK_REVIEW_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(2_000)
    .describe(
      'The most variants one console "approve/reject all matching" decides; more ask again',
    ),
  METRICS_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe(
      'Bearer token /metrics wants; unset, /metrics is open (keep it off the public network)',
    ),
  STORAGE: z
    .enum(['fs', 's3'])
    .default('fs')
    .describe(
      'Where media live: fs (STORAGE_DIR, one machine) or s3 (any S3-compatible store, shared by every process)',
    ),
  STORAGE_DIR: z.string().min(1).default('./.data/storage'),
  S3_ENDPOINT: z
    .url()
    .optional()
    .describe('S3-compatible endpoint (MinIO: http://minio:9000); unset for AWS'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z
    .string()
    .min(3)
    .max(63)
    .optional()
    .describe('Bucket of the media; required with STORAGE=s3'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool
    .default(false)
    .describe('Bucket in the path, not the host name (MinIO, s3rver)'),
  S3_MEDIA_REDIRECT: bool
    .default(false)
    .describe('Media routes answer 302 to a presigned S3 URL instead of streaming through the api'),
  S3_PRESIGN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(300),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  /**
   * x264's speed/size trade for every encode (compositing, assembly, renditions). veryfast by
   * default; ultrafast spends about 40% of the CPU for files about 2.4 times as large (a 9.5 s
   * 720x1280 encode measured 5.2 against 2.0 CPU-s). Output bytes depend on it: replicas that
   * share a store keep one value, or identical renders stop deduplicating.
   */
  FFMPEG_X264_PRESET: z
    .enum([
      'ultrafast',
      'superfast',
      'veryfast',
      'faster',
      'fast',
      'medium',
      'slow',
      'slower',
      'veryslow',
    ])
    .default('veryfast'),
  /** Directories of caption fonts; the first family of DEFAULT_FONT_FAMILIES leads when present. */
  FONT_DIRS: csv.pipe(z.array(z.string().min(1)).min(1)).optional(),
  ADMIN_API_KEY: z.string().min(24).optional(),
  // The first plugin (src/providers/registry.ts) is the built-in renderer, which needs no key.
  DEFAULT_PROVIDER: z.enum(providerNames).default(providerNames[0]),
  // Every provider plugin's own settings (src/providers/<name>/plugin.ts): keys, URLs, limits.
  ...pluginEnvShape,
  MATRIX_MAX_DIMENSIONS: z.coerce.number().int().min(1).max(64).default(12),
  MATRIX_MAX_LEVELS: z.coerce.number().int().min(1).max(1000).default(50),
  MATRIX_MAX_CONSTRAINTS: z.coerce.number().int().min(0).max(1000).default(100),
  MATRIX_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024),
  MAX_VARIANTS_PER_RUN: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  PROMPT_MAX_CHARS: z.coerce.number().int().min(100).max(32_000).default(2_000),
  WORK_DIR: z.string().min(1).default('./.data/work'),
  RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  RENDER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(10_000),
  RENDER_DEADLINE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(30 * 60_000),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(15_000),
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
  WORKER_HEARTBEAT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5_000)
    .describe('How often a worker says it is alive (in Redis)'),
  WORKER_HEARTBEAT_TTL_MS: z.coerce
    .number()
    .int()
    .min(300)
    .default(15_000)
    .describe('A worker silent this long counts as gone; a few heartbeats long'),
  PROMPT_WRITER_MODEL: z
    .string()
    .min(1)
    .optional()
    .describe('Turns the prompt writer on: a Chat Completions model that rewrites prompts'),
  PROMPT_WRITER_BASE_URL: z.url().optional().describe('Defaults to OPENAI_BASE_URL'),
  WORKER_METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(0)
    .describe('Port for the Prometheus /metrics of a worker process (e.g. 9464); 0 = off'),
  SECRETS_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64 (openssl rand -base64 32)')
    .optional()
    .describe('Encrypts webhook secrets at rest and signs download links'),
  C2PA_SIGN_CERT: pem
    .optional()
    .describe(
      'PEM certificate chain (leaf first) that signs content credentials; with C2PA_SIGN_KEY',
    ),
  C2PA_SIGN_KEY: pem
    .optional()
    .describe('PEM private key (ES256 P-256 or Ed25519) of the C2PA_SIGN_CERT leaf'),
  PROVENANCE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(200 * 1024 * 1024)
    .describe('Largest MP4 POST /v1/provenance/verify accepts (held whole while it is read)'),
  C2PA_TRUST_ANCHORS: pem
    .optional()
    .describe('PEM root certificates whose chains provenance reports as trusted'),
  WEBHOOK_ALLOW_HOSTS: csv
    .default([])
    .describe('Hosts exempt from the SSRF filter (development, tests)'),
  WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 30)
    .default(24),
  SIGNED_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(16),
  WEBHOOK_RETRY_SCALE: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(1)
    .describe('Shrinks the retry schedule (tests, demos); Retry-After is still honoured'),
  WEBHOOK_DISABLE_AFTER_DAYS: z.coerce
    .number()
    .positive()
    .max(365)
    .default(3)
    .describe('An endpoint failing every attempt for longer than this is disabled'),
  WEBHOOK_LOG_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(30)
    .describe('Settled webhook deliveries and their attempts are purged after this many days'),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5_000)
    .describe('Fallback poll for undispatched events; commits also wake the dispatcher'),
  REPORT_MIN_IMPRESSIONS: z.coerce.number().int().min(0).default(1000),
  REPORT_MIN_CLICKS: z.coerce.number().int().min(0).default(10),
  METRICS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(50 * 1024 * 1024)
    .describe('Largest metrics CSV upload (streamed); JSON bodies keep BODY_LIMIT_BYTES'),
  METRICS_MAX_XLSX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024)
    .describe(
      'Largest metrics .xlsx upload: held whole to be unzipped (at most 16× its size), so lower than the CSV limit',
    ),
  METRICS_MAX_ROWS: z.coerce.number().int().min(1).max(5_000_000).default(250_000),
  PRICES_JSON: pricesSchema
    .optional()
    .describe(
      'USD per second of video by provider, model and size, over the listed prices: {"openai":{"sora-2":{"720x1280":0.1}}}',
    ),
  MODEL_LIMITS_JSON: modelLimitsSchema
    .optional()
    .describe(
      'A model\'s own caps over its provider\'s (rpm, max_concurrent, daily_limit), by provider and model: {"runway":{"gen4.5":{"max_concurrent":2}}}; the provider\'s caps still bound the total',
    ),
});

const envSchema = baseEnvSchema.superRefine(checkSettingsTogether);

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Empty strings count as unset, the way a blank line in a .env file is meant. */
export function loadConfig(source: Record<string, string | undefined>): Env;
export function loadConfig<S extends z.ZodType>(
  source: Record<string, string | undefined>,
  schema: S,
): z.infer<S>;
export function loadConfig(
  source: Record<string, string | undefined>,
  schema: z.ZodType = envSchema,
) {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const missing = issue.code === 'invalid_type' && cleaned[name] === undefined;
    return `${name}: ${missing ? 'is required' : issue.message}`;
  });
  throw new ConfigError(problems);
}
