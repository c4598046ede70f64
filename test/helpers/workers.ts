import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { workerProcessors } from '../../src/main/worker.ts';
import { createRedis } from '../../src/queue/redis.ts';
import { type RunningWorkers, startWorkers } from '../../src/queue/workers.ts';
import type { TestApp } from './app.ts';

/**
 * The real worker processors on the test file's own queue prefix and database. Overrides
 * change only the worker's view (e.g. a fake provider's URL or shorter poll intervals).
 */
export function startTestWorkers(
  t: TestApp,
  overrides: Record<string, string> = {},
): RunningWorkers & { reconcile(): Promise<unknown> } {
  const env = Object.fromEntries(
    Object.entries(t.config).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]),
  );
  const config = loadConfig({ ...env, ...overrides });
  const logger = pino({ level: config.LOG_LEVEL });
  const processors = workerProcessors(config, t.infra, logger);
  const running = startWorkers({
    connection: createRedis(config.REDIS_URL, 'worker'),
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: {
      'render-local': processors['render-local'],
      'render-openai': processors['render-openai'],
    },
    timings: { lockDurationMs: config.WORKER_LOCK_MS, stalledIntervalMs: config.WORKER_LOCK_MS },
  });
  return {
    ...running,
    reconcile: () => processors.housekeeping!.process({ task: 'reconcile' }, undefined as never),
  };
}
