import fastifyMultipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ulid } from 'ulid';
import { assetRoutes } from './assets/routes.ts';
import { createAssetService } from './assets/service.ts';
import { campaignRoutes } from './campaigns/routes.ts';
import { createCampaignService } from './campaigns/service.ts';
import type { Env } from './config.ts';
import { consoleRoutes } from './console/routes.ts';
import { createSessionStore } from './console/session.ts';
import { createSecretBox } from './crypto/secrets.ts';
import { parseCsvBody } from './csv/body.ts';
import type { Database } from './db/client.ts';
import { createLinkService } from './deliveries/links.ts';
import { deliveryRoutes } from './deliveries/routes.ts';
import { createDeliveryService } from './deliveries/service.ts';
import { serializeRequest } from './http/access-log.ts';
import { registerAuth } from './http/auth.ts';
import { createAuthFailureLimiter } from './http/auth-failures.ts';
import { clientErrorHandler, errorHandlerPlugin, frameworkErrors } from './http/error-handler.ts';
import { registerIdempotency } from './http/idempotency/plugin.ts';
import { registerJsonBodyParser } from './http/json-body.ts';
import { nulGuardPlugin } from './http/nul-guard.ts';
import { openapiDocsPlugin } from './http/openapi-docs.ts';
import { registerKeyRateLimit } from './http/rate-limit.ts';
import { matrixRoutes } from './matrices/routes.ts';
import { createMatrixService } from './matrices/service.ts';
import type { Media, Storage } from './media/index.ts';
import { metricRoutes } from './metrics/routes.ts';
import { createMetricsService } from './metrics/service.ts';
import { createWorkerDirectory } from './ops/heartbeat.ts';
import { registerHttpMetrics, registerQueueGauges } from './ops/metrics.ts';
import { opsRoutes } from './ops/routes.ts';
import { ADMATRIX_VERSION } from './provenance/manifest.ts';
import { provenanceRoutes } from './provenance/routes.ts';
import { createProvenance } from './provenance/service.ts';
import type { ProviderCatalog } from './providers/catalog.ts';
import type { PluginsEnv } from './providers/registry.ts';
import { providerRoutes } from './providers/routes.ts';
import {
  createProviderDirectory,
  providerAccounts,
  providerLimitsFrom,
} from './providers/service.ts';
import type { Queues } from './queue/registry.ts';
import { reportRoutes } from './reports/routes.ts';
import { createReportService } from './reports/service.ts';
import { reviewRoutes } from './reviews/routes.ts';
import { createReviewService } from './reviews/service.ts';
import { runRoutes } from './runs/routes.ts';
import { createRunService } from './runs/service.ts';
import { shotRoutes } from './spots/routes.ts';
import { tenantRoutes } from './tenants/routes.ts';
import { createTenantService } from './tenants/service.ts';
import { variantRoutes } from './variants/routes.ts';
import { createVariantService } from './variants/service.ts';
import { inboundWebhookRoutes } from './webhooks/inbound/routes.ts';
import { createInboundWebhookService, type WebhookVerifiers } from './webhooks/inbound/service.ts';
import { providerWebhookVerifiers } from './webhooks/inbound/verifiers.ts';
import { webhookRoutes } from './webhooks/routes.ts';
import { createWebhookService } from './webhooks/service.ts';

type AppConfig = Pick<
  Env,
  | 'BODY_LIMIT_BYTES'
  | 'UPLOAD_LIMIT_BYTES'
  | 'ASSET_DECODE_CONCURRENCY'
  | 'ASSET_AUDIO_MAX_BYTES'
  | 'ASSET_AUDIO_MAX_SECONDS'
  | 'RATE_LIMIT_PER_MINUTE'
  | 'AUTH_FAILURES_PER_MINUTE'
  | 'AUTH_NEGATIVE_CACHE_MS'
  | 'TRUST_PROXY'
  | 'QUEUE_PREFIX'
  | 'IDEMPOTENCY_TTL_HOURS'
  | 'DEFAULT_PROVIDER'
  | 'PUBLIC_URL'
  | 'ADMIN_API_KEY'
  | 'MATRIX_MAX_DIMENSIONS'
  | 'MATRIX_MAX_LEVELS'
  | 'MATRIX_MAX_CONSTRAINTS'
  | 'MATRIX_MAX_FILE_BYTES'
  | 'MAX_VARIANTS_PER_RUN'
  | 'PROMPT_MAX_CHARS'
  | 'SECRETS_KEY'
  | 'C2PA_SIGN_CERT'
  | 'C2PA_SIGN_KEY'
  | 'C2PA_TRUST_ANCHORS'
  | 'PROVENANCE_MAX_BYTES'
  | 'WEBHOOK_ALLOW_HOSTS'
  | 'WEBHOOK_SECRET_OVERLAP_HOURS'
  | 'SIGNED_URL_TTL_SECONDS'
  | 'STORAGE'
  | 'METRICS_TOKEN'
  | 'S3_MEDIA_REDIRECT'
  | 'S3_PRESIGN_TTL_SECONDS'
  | 'METRICS_MAX_BYTES'
  | 'METRICS_MAX_XLSX_BYTES'
  | 'METRICS_MAX_ROWS'
  | 'REPORT_MIN_IMPRESSIONS'
  | 'REPORT_MIN_CLICKS'
  | 'CONSOLE_SESSION_HOURS'
  | 'CONSOLE_SESSION_IDLE_MINUTES'
  | 'CONSOLE_BULK_REVIEW_MAX'
> &
  // Every provider plugin's settings: limits, account figures and webhook verifiers read them.
  PluginsEnv;

interface AppDeps {
  config: AppConfig;
  logger: Logger;
  database: Database;
  /** The producer connection: fails fast when Redis is down. */
  redis: Redis;
  queues: Queues;
  registry: Registry;
  catalog: ProviderCatalog;
  media: Media;
  storage: Storage;
  /** Inbound provider webhook verifiers; by default built from OPENAI_WEBHOOK_SECRET. */
  webhookVerifiers?: WebhookVerifiers;
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

/** The whole HTTP application; entry points, tests and the OpenAPI script all build it here. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const app = Fastify({
    // The access log's URL carries query strings, signed media links' signatures among them.
    loggerInstance: deps.logger.child(
      {},
      { serializers: { req: serializeRequest } },
    ) as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A caller's own request id is kept, so its logs and ours can be joined.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given)
        ? given
        : `req_${ulid().toLowerCase()}`;
    },
    requestIdHeader: false,
    trustProxy: config.TRUST_PROXY,
    // Errors raised before any route (bad percent-encoding, a too long parameter) or by Node's
    // HTTP parser (431, framing) leave as problem+json like every other error.
    frameworkErrors,
    clientErrorHandler,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerJsonBodyParser(app, { limitBytes: config.BODY_LIMIT_BYTES });
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer' }, parseCsvBody);

  await app.register(errorHandlerPlugin);
  await app.register(nulGuardPlugin);
  await app.register(openapiDocsPlugin, { publicUrl: config.PUBLIC_URL });

  await registerHttpMetrics(app, { registry: deps.registry });
  registerQueueGauges({ registry: deps.registry, queues: deps.queues });
  const workers = createWorkerDirectory({ redis: deps.redis, prefix: config.QUEUE_PREFIX });
  await app.register(opsRoutes, {
    pool: database.pool,
    redis: deps.redis,
    registry: deps.registry,
    workers,
    metricsToken: config.METRICS_TOKEN,
  });
  // Optional parts load their libraries only when enabled: the api's resident memory is the
  // baseline of every fan-out it serves.
  if (config.ADMIN_API_KEY) {
    const { registerDashboard } = await import('./ops/dashboard.ts');
    await registerDashboard(app, { queues: deps.queues, adminKey: config.ADMIN_API_KEY });
  }

  const tenants = createTenantService({ db: database.db });
  const box = createSecretBox(config.SECRETS_KEY);
  const assets = createAssetService({
    db: database.db,
    media: deps.media,
    storage: deps.storage,
    decodeConcurrency: config.ASSET_DECODE_CONCURRENCY,
    box,
    audio: { maxBytes: config.ASSET_AUDIO_MAX_BYTES, maxSeconds: config.ASSET_AUDIO_MAX_SECONDS },
    logoMaxBytes: config.UPLOAD_LIMIT_BYTES,
  });
  const campaigns = createCampaignService({
    db: database.db,
    catalog: deps.catalog,
    defaultProvider: config.DEFAULT_PROVIDER,
    ownedAssetIds: assets.ownedIds,
    assetBytes: assets.byteSize,
    imagesByUrl: config.PUBLIC_URL?.startsWith('https://') ?? false,
    missingGlyphs: (text) => deps.media.missingGlyphs(text),
  });
  const matrices = createMatrixService({
    db: database.db,
    campaigns,
    ownedAssetIds: assets.ownedIds,
    catalog: deps.catalog,
    missingGlyphs: (text) => deps.media.missingGlyphs(text),
    config: {
      limits: {
        maxDimensions: config.MATRIX_MAX_DIMENSIONS,
        maxLevelsPerDimension: config.MATRIX_MAX_LEVELS,
        maxConstraints: config.MATRIX_MAX_CONSTRAINTS,
        maxFileBytes: config.MATRIX_MAX_FILE_BYTES,
      },
      maxVariantsPerRun: config.MAX_VARIANTS_PER_RUN,
      maxPromptChars: config.PROMPT_MAX_CHARS,
    },
  });

  const runs = createRunService({
    db: database.db,
    pool: database.pool,
    queues: deps.queues,
    campaigns,
    matrices,
    catalog: deps.catalog,
    config: {
      maxVariantsPerRun: config.MAX_VARIANTS_PER_RUN,
      maxPromptChars: config.PROMPT_MAX_CHARS,
    },
    onEnqueueError: (err) =>
      deps.logger.warn({ err }, 'enqueue after commit failed; the reconciler will enqueue'),
  });
  const variants = createVariantService({
    db: database.db,
    storage: deps.storage,
    queues: deps.queues,
    redirectSeconds:
      config.STORAGE === 's3' && config.S3_MEDIA_REDIRECT
        ? config.S3_PRESIGN_TTL_SECONDS
        : undefined,
    onEnqueueError: (err) =>
      deps.logger.warn({ err }, 'enqueue after commit failed; the reconciler will enqueue'),
  });
  const baseUrl = config.PUBLIC_URL?.replace(/\/$/, '') ?? '';
  const reviews = createReviewService({ db: database.db });
  const deliveries = createDeliveryService({ db: database.db });
  const links = createLinkService({
    db: database.db,
    box,
    variants,
    ttlSeconds: config.SIGNED_URL_TTL_SECONDS,
  });
  const webhooks = createWebhookService({
    db: database.db,
    box,
    queues: deps.queues,
    urlPolicy: { allowHttp: config.WEBHOOK_ALLOW_HOSTS, allowHosts: config.WEBHOOK_ALLOW_HOSTS },
    overlapHours: config.WEBHOOK_SECRET_OVERLAP_HOURS,
    onEnqueueError: (err) =>
      deps.logger.warn({ err }, 'enqueue after replay failed; the reconciler will enqueue'),
  });
  const metrics = createMetricsService({
    db: database.db,
    config: {
      maxBytes: config.METRICS_MAX_BYTES,
      maxXlsxBytes: config.METRICS_MAX_XLSX_BYTES,
      maxRows: config.METRICS_MAX_ROWS,
    },
  });
  const reports = createReportService({
    db: database.db,
    pool: database.pool,
    campaigns,
    runs,
    config: {
      minImpressions: config.REPORT_MIN_IMPRESSIONS,
      minClicks: config.REPORT_MIN_CLICKS,
    },
  });
  const inbound = createInboundWebhookService({
    db: database.db,
    queues: deps.queues,
    verifiers: deps.webhookVerifiers ?? (await providerWebhookVerifiers(config)),
    logger: deps.logger,
  });

  const providers = createProviderDirectory({
    catalog: deps.catalog,
    limits: providerLimitsFrom(config),
    accounts: providerAccounts(config),
  });

  const rateLimit =
    config.RATE_LIMIT_PER_MINUTE > 0
      ? { max: config.RATE_LIMIT_PER_MINUTE, redis: deps.redis, prefix: config.QUEUE_PREFIX }
      : null;
  await app.register(
    async (api) => {
      await registerAuth(api, {
        tenants,
        redis: deps.redis,
        logger: deps.logger,
        options: {
          failuresPerWindow: config.AUTH_FAILURES_PER_MINUTE,
          windowMs: 60_000,
          negativeCacheMs: config.AUTH_NEGATIVE_CACHE_MS,
          prefix: config.QUEUE_PREFIX,
        },
      });
      await api.register(fastifyMultipart, {
        limits: { fileSize: config.UPLOAD_LIMIT_BYTES, files: 1 },
      });
      if (rateLimit) await registerKeyRateLimit(api, rateLimit, (request) => request.auth?.keyId);
      await registerIdempotency(api, {
        db: database.db,
        box,
        ttlHours: config.IDEMPOTENCY_TTL_HOURS,
      });
      await api.register(tenantRoutes);
      await api.register(campaignRoutes, { campaigns });
      await api.register(providerRoutes, { providers });
      await api.register(assetRoutes, {
        assets,
        // Room for an audio bed past the limit, so the service refuses it with a 422 naming it.
        uploadLimitBytes: Math.max(config.UPLOAD_LIMIT_BYTES, config.ASSET_AUDIO_MAX_BYTES + 1),
      });
      await api.register(matrixRoutes, { matrices, maxFileBytes: config.MATRIX_MAX_FILE_BYTES });
      await api.register(runRoutes, { runs, workers });
      await api.register(variantRoutes, {
        variants,
        baseUrl: config.PUBLIC_URL?.replace(/\/$/, '') ?? '',
      });
      await api.register(shotRoutes, {
        db: database.db,
        queues: deps.queues,
        onEnqueueError: (err) =>
          deps.logger.warn({ err }, 'enqueue after commit failed; the reconciler will enqueue'),
      });
      await api.register(reviewRoutes, { reviews, variants, baseUrl });
      await api.register(deliveryRoutes, { deliveries, links, baseUrl });
      await api.register(webhookRoutes, { webhooks });
      await api.register(inboundWebhookRoutes, { inbound });
      await api.register(metricRoutes, { metrics, maxBytes: config.METRICS_MAX_BYTES });
      await api.register(reportRoutes, { reports });
      await api.register(provenanceRoutes, {
        db: database.db,
        storage: deps.storage,
        provenance: createProvenance({ db: database.db, box, config, version: ADMATRIX_VERSION }),
        maxBytes: config.PROVENANCE_MAX_BYTES,
      });
    },
    { prefix: '/v1' },
  );

  // The web console: its own session auth (cookie + CSRF), the same services as /v1.
  await app.register(consoleRoutes, {
    prefix: '/console',
    db: database.db,
    box,
    tenants,
    assets,
    uploadLimitBytes: config.UPLOAD_LIMIT_BYTES,
    sessions: createSessionStore({
      db: database.db,
      maxHours: config.CONSOLE_SESSION_HOURS,
      idleMinutes: config.CONSOLE_SESSION_IDLE_MINUTES,
    }),
    // The same counters as /v1's failed keys: a guesser gets one budget, not one per door.
    signInLimiter:
      config.AUTH_FAILURES_PER_MINUTE > 0
        ? createAuthFailureLimiter({
            redis: deps.redis,
            prefix: config.QUEUE_PREFIX,
            max: config.AUTH_FAILURES_PER_MINUTE,
            windowMs: 60_000,
            logger: deps.logger,
          })
        : null,
    campaigns,
    providers,
    matrices,
    runs,
    variants,
    reviews,
    reports,
    deliveries,
    webhooks,
    workers,
    maxFileBytes: config.MATRIX_MAX_FILE_BYTES,
    bulkReviewMax: config.CONSOLE_BULK_REVIEW_MAX,
    rateLimit,
  });

  return app;
}
