import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/client.ts';
import { type Payload, type QueueName, queueDefinitions, queueNames } from './registry.ts';

type Processor<Q extends QueueName> = (
  data: Payload<Q>,
  job: Job<Payload<Q>>,
  token?: string,
) => Promise<unknown>;

export type ProcessorRegistry = {
  [Q in QueueName]?: { process: Processor<Q>; concurrency?: number };
};

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking jobs, lets active ones finish (or be released) and closes connections. */
  close(): Promise<void>;
}

interface WorkerTimings {
  /** How long a job's lock lasts without renewal; a killed worker's jobs return after it. */
  lockDurationMs?: number;
  /** How often stalled jobs (their worker died) are looked for. */
  stalledIntervalMs?: number;
}

/** A worker whose registry leaves a queue without a processor: its jobs would wait forever. */
export class MissingProcessorError extends Error {
  readonly queues: QueueName[];
  constructor(queues: QueueName[]) {
    super(`no processor for queue ${queues.join(', ')}: refusing to start`);
    this.name = 'MissingProcessorError';
    this.queues = queues;
  }
}

/**
 * Starts one BullMQ worker per queue, every queue of the registry unless `only` names some
 * (tests, benches); throws MissingProcessorError, before starting any, if one has no processor.
 */
export function startWorkers(deps: {
  connection: Redis;
  prefix: string;
  logger: Logger;
  registry: ProcessorRegistry;
  only?: readonly QueueName[];
  timings?: WorkerTimings;
}): RunningWorkers {
  const names = deps.only ?? queueNames;
  const missing = names.filter((name) => !deps.registry[name]);
  if (missing.length) throw new MissingProcessorError(missing);
  const workers: Worker[] = [];
  const outage = createOutageBackoff();
  for (const name of names) {
    const entry = deps.registry[name] as { process: Processor<QueueName>; concurrency?: number };
    const schema = queueDefinitions[name].payload;
    const log = deps.logger.child({ queue: name });
    const worker = new Worker(
      name,
      async (job: Job, token?: string) => {
        const parsed = schema.safeParse(job.data);
        // A payload that does not match its schema will never succeed: do not burn retries on it.
        if (!parsed.success)
          throw new UnrecoverableError(`invalid ${name} payload: ${parsed.error.message}`);
        try {
          const result = await entry.process(parsed.data, job as Job<Payload<QueueName>>, token);
          outage.recovered();
          return result;
        } catch (err) {
          // Postgres is out of reach: nothing about this job is wrong, so it must not spend one
          // of its attempts (eight outage seconds would fail a variant). It waits, delayed, and
          // runs again from what Postgres recorded once it is back.
          if (!token || !isDatabaseUnavailable(err)) throw err;
          const { waitMs, first } = outage.next();
          // Once per outage: the pool's listener reports the connection itself.
          if (first) log.warn({ jobId: job.id, waitMs }, 'database unavailable: job delayed');
          await job.moveToDelayed(Date.now() + waitMs, token);
          throw new DelayedError();
        }
      },
      {
        connection: deps.connection,
        prefix: deps.prefix,
        concurrency: entry.concurrency ?? 1,
        lockDuration: deps.timings?.lockDurationMs ?? 30_000,
        stalledInterval: deps.timings?.stalledIntervalMs ?? 30_000,
        // The reconciler re-enqueues from Postgres anyway; stalls must not fail a variant.
        maxStalledCount: 100,
      },
    );
    worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err }, 'job failed'));
    worker.on('error', (err) => log.error({ err }, 'worker error'));
    workers.push(worker);
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * One backoff per process, not per job: an outage is the process's, and every job that meets it
 * waits longer the longer it lasts (250 ms doubling to 5 s, with jitter so they do not return
 * together); the first job that gets through resets it.
 */
function createOutageBackoff() {
  let failures = 0;
  return {
    next() {
      const ms = Math.min(250 * 2 ** failures, 5_000);
      const first = failures === 0;
      failures = Math.min(failures + 1, 10);
      return { waitMs: Math.round(ms * (0.5 + Math.random() / 2)), first };
    },
    recovered() {
      failures = 0;
    },
  };
}
