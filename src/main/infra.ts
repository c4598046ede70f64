import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Env } from '../config.ts';
import { createConnectionLog } from '../connection-log.ts';
import { createDatabase } from '../db/client.ts';
import { assertMigrated } from '../db/migrate.ts';
import { hasFilters, SYSTEM_FFMPEG } from '../media/binaries.ts';
import {
  createFsStorage,
  createMedia,
  createS3Storage,
  defaultMediaBinaries,
  type Storage,
} from '../media/index.ts';
import { buildCatalog } from '../providers/catalog.ts';
import { createRedis, waitForRedis, warnOnEvictionPolicy } from '../queue/redis.ts';
import { createQueues } from '../queue/registry.ts';

export type Role = 'api' | 'worker';

/**
 * The composition root: every long-lived client is made here, once, and closed here in the
 * reverse order of dependence.
 */
interface InfraOptions {
  /** Refuse to start on an older schema (default). The OpenAPI script connects to nothing. */
  verifySchema?: boolean;
  /** Do not connect to Redis until a command needs it. */
  lazyRedis?: boolean;
  /** How long to wait for Redis before starting without it. */
  redisWaitMs?: number;
}

export async function createInfra(
  config: Env,
  logger: Logger,
  role: Role,
  opts: InfraOptions = {},
) {
  const database = createDatabase({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    applicationName: `admatrix-${role}`,
    logger,
  });
  if (opts.verifySchema !== false) await assertMigrated(database.pool);
  const redis = createRedis(config.REDIS_URL, role === 'api' ? 'producer' : 'worker', {
    lazy: opts.lazyRedis ?? false,
  });
  // Once per outage: ioredis retries every 100 ms–2 s and reports each failure. The queues
  // share the connection, so their errors are the same outage and go to the same log.
  const redisLog = createConnectionLog(logger, 'redis');
  redis.on('error', (err) => redisLog.error(err));
  redis.on('ready', () => redisLog.ok());
  redis.once('ready', () => void warnOnEvictionPolicy(redis, logger));
  // The api starts without Redis (and answers 503 where it needs it), but gives it a moment first.
  const redisWaitMs = opts.redisWaitMs ?? (role === 'api' ? 5_000 : 30_000);
  if (redisWaitMs > 0 && !opts.lazyRedis) {
    await waitForRedis(redis, redisWaitMs).catch((err: Error) =>
      logger.warn({ err: err.message }, 'starting without Redis'),
    );
  }
  const queues = createQueues({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    onError: (err) => redisLog.error(err),
  });
  const registry = new Registry();
  registry.setDefaultLabels({ service: `admatrix-${role}` });
  // Heap, event-loop lag, GC, handles and CPU of this process: what a memory leak or a blocked
  // loop shows first.
  collectDefaultMetrics({ register: registry });
  const catalog = buildCatalog(config);
  const shipped = defaultMediaBinaries();
  const ffmpegPath = config.FFMPEG_PATH ?? shipped.ffmpegPath;
  // Debian's ffmpeg was checked when chosen. Any other (configured, or the 2018 npm build) is
  // used as is; say so at start-up if it cannot draw captions or crossfade, rather than
  // through every render that needs it failing.
  const checked = !config.FFMPEG_PATH && ffmpegPath === SYSTEM_FFMPEG;
  if (!checked && !hasFilters(ffmpegPath, ['ass', 'xfade'])) {
    logger.warn(
      { ffmpeg: ffmpegPath },
      'ffmpeg lacks the ass (libass) or xfade filter: captions or spot crossfades will fail; install Debian ffmpeg',
    );
  }
  const media = createMedia({
    ffmpegPath,
    encoder: { preset: config.FFMPEG_X264_PRESET },
    ffprobePath: config.FFPROBE_PATH ?? shipped.ffprobePath,
    fonts: config.FONT_DIRS ? { ...shipped.fonts, dirs: config.FONT_DIRS } : shipped.fonts,
    onFontCoverageError: (err) =>
      logger.warn({ err }, 'cannot read caption font coverage (fc-list); no glyph warnings'),
  });
  const storage: Storage =
    config.STORAGE === 's3'
      ? createS3Storage({
          endpoint: config.S3_ENDPOINT,
          region: config.S3_REGION,
          bucket: config.S3_BUCKET!,
          accessKeyId: config.S3_ACCESS_KEY_ID,
          secretAccessKey: config.S3_SECRET_ACCESS_KEY,
          forcePathStyle: config.S3_FORCE_PATH_STYLE,
        })
      : createFsStorage({ root: config.STORAGE_DIR });
  return {
    database,
    redis,
    queues,
    registry,
    catalog,
    media,
    storage,
    async close() {
      await queues.close();
      redis.disconnect();
      await database.pool.end();
      storage.close?.();
    },
  };
}

export type Infra = Awaited<ReturnType<typeof createInfra>>;
