import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { workerProcessors } from '../../src/main/worker.ts';
import { startHeartbeat } from '../../src/ops/heartbeat.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { queueNames } from '../../src/queue/registry.ts';
import { type RunningWorkers, startWorkers } from '../../src/queue/workers.ts';
import { createDispatchNudge } from '../../src/webhooks/jobs.ts';
import { startEventListener } from '../../src/webhooks/listener.ts';
import type { TestApp } from './app.ts';
import { testLogger } from './log-ring.ts';

/**
 * The real worker processors on the test file's own queue prefix and database. Overrides
 * change only the worker's view (e.g. a fake provider's URL or shorter poll intervals).
 */
export function startTestWorkers(
  t: TestApp,
  overrides: Record<string, string> = {},
  /** Where the workers' log lines go (default stdout), for tests that read them. */
  logStream?: pino.DestinationStream,
): RunningWorkers & { reconcile(): Promise<unknown>; reconcileWebhooks(): Promise<unknown> } {
  const env = Object.fromEntries(
    Object.entries(t.config).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]),
  );
  const config = loadConfig({ ...env, ...overrides });
  const logger = logStream
    ? pino({ level: config.LOG_LEVEL }, logStream)
    : testLogger(config.LOG_LEVEL);
  const processors = workerProcessors(config, t.infra, logger);
  const connection = createRedis(config.REDIS_URL, 'worker');
  const running = startWorkers({
    connection,
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: processors,
    // Housekeeping runs when a test asks (reconcile below), not on a schedule.
    only: queueNames.filter((q) => q !== 'housekeeping'),
    timings: { lockDurationMs: config.WORKER_LOCK_MS, stalledIntervalMs: config.WORKER_LOCK_MS },
  });
  // Seen as a worker process is: GET /v1/runs/{id} and /readyz?workers=1 read this.
  const heartbeat = startHeartbeat({
    redis: connection,
    prefix: config.QUEUE_PREFIX,
    queues: running.workers.map((w) => w.name),
    intervalMs: config.WORKER_HEARTBEAT_MS,
    ttlMs: config.WORKER_HEARTBEAT_TTL_MS,
    logger,
  });
  // Events are fanned out to webhook endpoints the moment they commit, as in the worker.
  const listener = startEventListener({
    url: config.DATABASE_URL,
    logger,
    onNotify: createDispatchNudge(t.infra.queues, logger),
  });
  return {
    ...running,
    async close() {
      await listener.close();
      await running.close();
      await heartbeat.stop();
      // The prefix's keys are the test app's to remove (its close() comes last): a file may
      // stop workers and start others on the same queues.
      connection.disconnect();
    },
    reconcile: () => processors.housekeeping!.process({ task: 'reconcile' }, undefined as never),
    reconcileWebhooks: () =>
      processors['webhook-dispatch']!.process({ task: 'reconcile' }, undefined as never),
  };
}
