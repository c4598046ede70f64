import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';

/**
 * A queue prefix of the test file's own, starting with this run's id so the global teardown
 * can find whatever a file left behind (and nothing of another run on the same Redis).
 */
export function testPrefix(): string {
  // Hash-tagged, as the default is: every test runs with the key layout Redis Cluster needs.
  return `{${inject('redisRunPrefix')}${randomBytes(5).toString('hex')}}`;
}

/**
 * Removes every key under a test's prefix (BullMQ's queues, schedulers, job hashes, the
 * heartbeat and limiter keys): BullMQ sets no expiry on most of them, so without this every
 * run leaves thousands behind in the Redis it ran against. SCAN, not KEYS: the Redis may be
 * shared; UNLINK frees memory off the main thread.
 */
export async function removeKeysUnder(redis: Redis, prefix: string): Promise<number> {
  // QUEUE_PREFIX allows [a-zA-Z0-9_:-] and braces only: no glob metacharacters to escape.
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}
