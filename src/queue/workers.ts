import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
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
        return entry.process(parsed.data, job as Job<Payload<QueueName>>, token);
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
