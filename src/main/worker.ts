import type { Server } from 'node:http';
import closeWithGrace from 'close-with-grace';
import OpenAI from 'openai';
import type { Env } from '../config.ts';
import { createSecretBox } from '../crypto/secrets.ts';
import { createLogger } from '../logger.ts';
import { type Heartbeat, startHeartbeat } from '../ops/heartbeat.ts';
import { housekeepingProcessors, scheduleHousekeeping } from '../ops/jobs.ts';
import { serveMetrics } from '../ops/metrics.ts';
import { createPromptWriter } from '../prompts/writer.ts';
import { ADMATRIX_VERSION } from '../provenance/manifest.ts';
import { createProvenance } from '../provenance/service.ts';
import { buildCatalog, limitsWithModels } from '../providers/catalog.ts';
import {
  createProviders,
  minPollIntervals,
  providerLimits,
  providerWorkDirAreas,
} from '../providers/registry.ts';
import { type RunningWorkers, startWorkers } from '../queue/workers.ts';
import { renderProcessors } from '../render/jobs.ts';
import { createRenderMetrics } from '../render/metrics.ts';
import { createReconciler } from '../render/reconciler.ts';
import { stepScratchAreas, sweepWorkDir } from '../render/work-dir-sweep.ts';
import { createDispatchNudge, scheduleWebhookJobs, webhookProcessors } from '../webhooks/jobs.ts';
import { type EventListener, startEventListener } from '../webhooks/listener.ts';
import { createWebhookMetrics } from '../webhooks/metrics.ts';
import { createInfra, type Infra } from './infra.ts';

/** Processors for every queue, built from the worker's clients; tests run the same set. */
export function workerProcessors(
  config: Env,
  infra: Infra,
  logger: ReturnType<typeof createLogger>,
) {
  const providers = createProviders(config, { media: infra.media, workDir: config.WORK_DIR });
  const reconcile = createReconciler({
    db: infra.database.db,
    queues: infra.queues,
    logger,
    graceMs: config.RECONCILE_GRACE_MS,
  });
  return {
    ...housekeepingProcessors({
      db: infra.database.db,
      logger,
      reconcile,
      webhookLogRetentionDays: config.WEBHOOK_LOG_RETENTION_DAYS,
    }),
    ...webhookProcessors(config, {
      db: infra.database.db,
      queues: infra.queues,
      logger,
      metrics: createWebhookMetrics(infra.registry),
    }),
    ...renderProcessors({
      metrics: createRenderMetrics(infra.registry),
      ...(config.PROMPT_WRITER_MODEL && config.OPENAI_API_KEY
        ? {
            promptWriter: createPromptWriter({
              model: config.PROMPT_WRITER_MODEL,
              maxLength: config.PROMPT_MAX_CHARS,
              client: new OpenAI({
                apiKey: config.OPENAI_API_KEY,
                ...(config.PROMPT_WRITER_BASE_URL || config.OPENAI_BASE_URL
                  ? { baseURL: config.PROMPT_WRITER_BASE_URL ?? config.OPENAI_BASE_URL }
                  : {}),
              }),
            }),
          }
        : {}),
      db: infra.database.db,
      provenance: createProvenance({
        db: infra.database.db,
        box: createSecretBox(config.SECRETS_KEY),
        config,
        version: ADMATRIX_VERSION,
      }),
      providers,
      media: infra.media,
      storage: infra.storage,
      queues: infra.queues,
      logger,
      config: {
        pollIntervalMs: config.RENDER_POLL_INTERVAL_MS,
        renderDeadlineMs: config.RENDER_DEADLINE_MS,
        concurrency: config.RENDER_CONCURRENCY,
        workDir: config.WORK_DIR,
        // Runway and fal fetch a first frame by URL only from a public HTTPS origin.
        ...(config.PUBLIC_URL?.startsWith('https://')
          ? {
              publicLinks: {
                baseUrl: config.PUBLIC_URL,
                box: createSecretBox(config.SECRETS_KEY),
                // Valid as long as the render may still start (a throttled task fetches late).
                ttlSeconds: Math.max(
                  config.SIGNED_URL_TTL_SECONDS,
                  Math.ceil(config.RENDER_DEADLINE_MS / 1000),
                ),
              },
            }
          : {}),
        minPollIntervalMs: minPollIntervals(config),
        // Each provider's caps, with its models' own from the catalog (MODEL_LIMITS_JSON).
        limits: limitsWithModels(buildCatalog(config), providerLimits(config)),
      },
    }),
  };
}

export async function startWorker(config: Env) {
  const logger = createLogger(config, 'admatrix-worker');
  const infra = await createInfra(config, logger, 'worker');
  let running: RunningWorkers | undefined;
  let listener: EventListener | undefined;
  let metricsServer: Server | undefined;
  let heartbeat: Heartbeat | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  // Installed before any worker starts, so a signal at any moment takes the graceful path:
  // workers finish their active jobs before the connections they use go away.
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    clearInterval(sweepTimer);
    metricsServer?.close();
    await listener?.close();
    await running?.close();
    // After the active jobs are done: until then this worker is still working on them.
    await heartbeat?.stop();
    await infra.close();
    logger.info('worker stopped');
  });
  running = startWorkers({
    connection: infra.redis,
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: workerProcessors(config, infra, logger),
    timings: { lockDurationMs: config.WORKER_LOCK_MS, stalledIntervalMs: config.WORKER_LOCK_MS },
  });
  heartbeat = startHeartbeat({
    redis: infra.redis,
    prefix: config.QUEUE_PREFIX,
    queues: running.workers.map((w) => w.name),
    intervalMs: config.WORKER_HEARTBEAT_MS,
    ttlMs: config.WORKER_HEARTBEAT_TTL_MS,
    logger,
  });
  const schedule = async () => {
    await scheduleHousekeeping(infra.queues, { reconcileEveryMs: config.RECONCILE_INTERVAL_MS });
    await scheduleWebhookJobs(infra.queues, {
      dispatchEveryMs: config.WEBHOOK_DISPATCH_INTERVAL_MS,
      reconcileEveryMs: config.RECONCILE_INTERVAL_MS,
    });
  };
  await schedule();
  // A Redis back from a restart without its data (no persistence, a failover to an empty
  // replica) has forgotten the schedules, the reconciler's among them: every job it lost would
  // then wait forever. Put them back on each reconnect (an upsert: a no-op when they are there);
  // the reconciler then re-enqueues the lost jobs from Postgres.
  infra.redis.on('ready', () => {
    schedule().catch((err: Error) =>
      logger.warn({ err: err.message }, 'could not restore the job schedules after a reconnect'),
    );
  });
  if (config.WORKER_METRICS_PORT > 0) {
    metricsServer = await serveMetrics(infra.registry, {
      host: config.HOST,
      port: config.WORKER_METRICS_PORT,
      token: config.METRICS_TOKEN,
    });
  }
  // Commits wake the webhook dispatcher at once; the schedule is the fallback when they cannot.
  listener = startEventListener({
    url: config.DATABASE_URL,
    logger,
    onNotify: createDispatchNudge(infra.queues, logger),
  });
  // What a killed worker left in WORK_DIR goes at the next start, and hourly for long runs.
  const sweep = () =>
    sweepWorkDir(config.WORK_DIR, [...stepScratchAreas, ...providerWorkDirAreas])
      .then((removed) => {
        if (removed.length) logger.info({ removed: removed.length }, 'work dir swept');
      })
      .catch((err: unknown) => logger.warn({ err }, 'work dir sweep failed'));
  void sweep();
  sweepTimer = setInterval(sweep, 3_600_000).unref();
  logger.info(
    { queues: running.workers.map((w) => w.name), workerId: heartbeat.id },
    'worker started',
  );
  return running;
}
