import ffmpeg from '@ffmpeg-installer/ffmpeg';
import ffprobe from '@ffprobe-installer/ffprobe';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Env } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { assertMigrated } from '../db/migrate.ts';
import { defaultCatalog } from '../providers/catalog.ts';
import { createRedis, waitForRedis, warnOnEvictionPolicy } from '../queue/redis.ts';
import { createQueues } from '../queue/registry.ts';

export type Role = 'api' | 'worker';

/**
 * The composition root: every long-lived client is made here, once, and closed here in the
 * reverse order of dependence.
 */
export async function createInfra(config: Env, logger: Logger, role: Role) {
  const database = createDatabase({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: `admatrix-${role}`,
  });
  await assertMigrated(database.pool);
  const redis = createRedis(config.REDIS_URL, role === 'api' ? 'producer' : 'worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  redis.once('ready', () => void warnOnEvictionPolicy(redis, logger));
  // The api starts without Redis (and answers 503 where it needs it), but gives it a moment first.
  await waitForRedis(redis, role === 'api' ? 5_000 : 30_000).catch((err: Error) =>
    logger.warn({ err: err.message }, 'starting without Redis'),
  );
  const queues = createQueues({ connection: redis, prefix: config.QUEUE_PREFIX });
  const registry = new Registry();
  registry.setDefaultLabels({ service: `admatrix-${role}` });
  const catalog = defaultCatalog({
    openaiSeconds: config.OPENAI_VIDEO_SECONDS.map(Number),
    openaiModel: config.OPENAI_VIDEO_MODEL,
  });
  const binaries = {
    ffmpegPath: config.FFMPEG_PATH ?? ffmpeg.path,
    ffprobePath: config.FFPROBE_PATH ?? ffprobe.path,
  };
  return {
    database,
    redis,
    queues,
    registry,
    catalog,
    binaries,
    async close() {
      await queues.close();
      redis.disconnect();
      await database.pool.end();
    },
  };
}

export type Infra = Awaited<ReturnType<typeof createInfra>>;
