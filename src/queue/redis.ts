import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Producers (the api) must fail fast when Redis is down so a request answers 503 at once;
 * workers block on Redis and must never give up on a command (BullMQ requires that).
 */
export function createRedis(
  url: string,
  role: 'producer' | 'worker',
  opts: { lazy?: boolean } = {},
): Redis {
  return new Redis(url, {
    lazyConnect: opts.lazy ?? false,
    ...(role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null }),
    // Keep retrying the connection itself forever, backing off to 2 s.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
}

/** BullMQ loses jobs silently when Redis evicts keys; say so loudly at start-up. */
export async function warnOnEvictionPolicy(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    const policy = Array.isArray(reply)
      ? reply[1]
      : (reply as Record<string, string>)['maxmemory-policy'];
    if (policy && policy !== 'noeviction') {
      logger.warn(
        { policy },
        'Redis maxmemory-policy is not noeviction: queued jobs may be evicted (the reconciler will re-enqueue them from Postgres, but set noeviction).',
      );
    }
  } catch (err) {
    logger.debug({ err }, 'could not read Redis maxmemory-policy (CONFIG may be disabled)');
  }
}

/** Resolves once the client is ready, or rejects after the deadline. */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
