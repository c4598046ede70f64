import closeWithGrace from 'close-with-grace';
import type { Env } from '../config.ts';
import { createLogger } from '../logger.ts';
import { housekeepingProcessors, scheduleHousekeeping } from '../ops/jobs.ts';
import { type RunningWorkers, startWorkers } from '../queue/workers.ts';
import { createInfra } from './infra.ts';

export async function startWorker(config: Env) {
  const logger = createLogger(config, 'admatrix-worker');
  const infra = await createInfra(config, logger, 'worker');
  let running: RunningWorkers | undefined;
  // Installed before any worker starts, so a signal at any moment takes the graceful path:
  // workers finish their active jobs before the connections they use go away.
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await running?.close();
    await infra.close();
  });
  running = startWorkers({
    connection: infra.redis,
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: { ...housekeepingProcessors({ db: infra.database.db, logger }) },
  });
  await scheduleHousekeeping(infra.queues);
  logger.info({ queues: running.workers.map((w) => w.name) }, 'worker started');
  return running;
}
