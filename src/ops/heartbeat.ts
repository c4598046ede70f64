import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';

/**
 * Worker liveness in Redis. Each worker refreshes `<prefix>:workers:<id>` (the queues it
 * serves) with a TTL a few beats long: a killed worker's key simply expires, with no clock
 * shared between machines (Redis times the TTL). `<prefix>:workers` (a sorted set, id → last
 * beat in ms) remembers when each was last seen after its key is gone, so a run can say "no
 * worker since …"; members older than a day are pruned by the beats themselves.
 */

const PRUNE_AFTER_MS = 24 * 3600_000;

export interface Heartbeat {
  readonly id: string;
  /** Stops beating and removes the worker's key: a clean shutdown is seen at once. */
  stop(): Promise<void>;
}

export function startHeartbeat(deps: {
  redis: Redis;
  prefix: string;
  queues: readonly string[];
  intervalMs: number;
  ttlMs: number;
  logger: Logger;
}): Heartbeat {
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const key = `${deps.prefix}:workers:${id}`;
  const seen = `${deps.prefix}:workers`;
  const info = JSON.stringify({ id, queues: deps.queues, pid: process.pid });
  let failing = false;
  let inFlight = false;
  const beat = async () => {
    // A worker connection waits for Redis rather than failing: never pile beats up behind it.
    if (inFlight) return;
    inFlight = true;
    const now = Date.now();
    try {
      await deps.redis
        .multi()
        .set(key, info, 'PX', deps.ttlMs)
        .zadd(seen, now, id)
        .zremrangebyscore(seen, '-inf', now - PRUNE_AFTER_MS)
        .exec();
      if (failing) deps.logger.info('worker heartbeat restored');
      failing = false;
    } catch (err) {
      // Redis down: the workers cannot take jobs either; say it once, not every beat.
      if (!failing) deps.logger.warn({ err }, 'worker heartbeat failed');
      failing = true;
    } finally {
      inFlight = false;
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), deps.intervalMs);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      // Bounded: with Redis gone this would wait forever, and the key expires on its own anyway.
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        deps.redis.multi().del(key).zadd(seen, Date.now(), id).exec(),
        new Promise((resolve) => {
          deadline = setTimeout(resolve, 2_000);
        }),
      ])
        .catch((err) => deps.logger.warn({ err }, 'could not remove the worker heartbeat'))
        .finally(() => clearTimeout(deadline));
    },
  };
}

export const workersSeenSchema = z
  .object({
    alive: z.number().int().describe('Workers with a live heartbeat that render variants'),
    last_seen_at: z.iso
      .datetime()
      .nullable()
      .describe('The latest heartbeat of any worker, alive or gone; null if none ever beat'),
    warning: z
      .string()
      .optional()
      .describe('Set when the run is waiting and no worker is alive to render it'),
  })
  .describe('Render workers as seen through their heartbeats');

type WorkersSeen = z.infer<typeof workersSeenSchema>;

export interface WorkerDirectory {
  /** Workers alive that serve a queue matching `serves` (default: every queue). */
  seen(serves?: (queue: string) => boolean): Promise<WorkersSeen>;
}

export function createWorkerDirectory(deps: { redis: Redis; prefix: string }): WorkerDirectory {
  const seenKey = `${deps.prefix}:workers`;
  return {
    async seen(serves = () => true) {
      // Bounded: one member per worker process started in the last day.
      const flat = await deps.redis.zrange(seenKey, '0', '-1', 'WITHSCORES');
      const ids: string[] = [];
      let last = 0;
      for (let i = 0; i < flat.length; i += 2) {
        ids.push(flat[i] as string);
        last = Math.max(last, Number(flat[i + 1]));
      }
      const infos = ids.length
        ? await deps.redis.mget(...ids.map((id) => `${deps.prefix}:workers:${id}`))
        : [];
      let alive = 0;
      for (const raw of infos) {
        if (!raw) continue;
        try {
          const { queues } = JSON.parse(raw) as { queues: string[] };
          if (queues.some(serves)) alive++;
        } catch {
          // Not ours to judge: an unreadable entry is not a live worker.
        }
      }
      return { alive, last_seen_at: last ? new Date(last).toISOString() : null };
    },
  };
}

/** Render queues are the ones a run waits on. */
export const servesRenders = (queue: string) => queue.startsWith('render-');

/**
 * A run's view of the workers: with none alive, an open run will not move, so its ETA is
 * withheld (null) rather than extrapolated from a pace that has stopped. Redis down: the run
 * is answered without the field; Postgres is the run's source of truth, not Redis.
 */
export async function withWorkersSeen<R extends { status: string; eta_seconds: number | null }>(
  run: R,
  directory: WorkerDirectory,
): Promise<R & { workers?: WorkersSeen }> {
  let workers: WorkersSeen;
  try {
    workers = await directory.seen(servesRenders);
  } catch {
    return run;
  }
  const open = run.status === 'queued' || run.status === 'running';
  if (!open || workers.alive > 0) return { ...run, workers };
  const since = workers.last_seen_at ? `since ${workers.last_seen_at}` : 'ever';
  return {
    ...run,
    eta_seconds: null,
    workers: {
      ...workers,
      warning: `No render worker has been seen ${since}: variants wait until one runs (npm run start:worker).`,
    },
  };
}
