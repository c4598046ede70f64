import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { problems } from '../http/problem.ts';
import { type ProviderName, providerNames } from '../providers/catalog.ts';

/**
 * Every queue, its payload schema and its job defaults. Payloads carry ids only: prompts and
 * secrets stay in Postgres, which is the source of truth.
 */
const renderJob = {
  // A variant, or a spot's shot (rendered once, assembled into many variants).
  payload: z.union([
    z.object({ variantId: z.string().regex(/^var_[0-9a-z]{26}$/) }),
    z.object({ shotId: z.string().regex(/^sht_[0-9a-z]{26}$/) }),
  ]),
  // Attempts are spent only by errors: waiting for a render is a delayed re-run, and a 429
  // re-delays the job behind a provider_pauses row in Postgres (src/render/claim.ts) that every
  // worker's limiter reads. A job that has run out leaves its variant failed.
  defaultJobOptions: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  } satisfies JobsOptions,
};

export type RenderQueue = `render-${ProviderName}`;

/**
 * One render queue per provider, so one provider's backlog (or a deployment without its key)
 * never stands in another's way. A 429 pauses nothing here: it is a provider_pauses row, one
 * provider's (or, for a daily cap, one model's) creates only.
 */
const renderQueues = Object.fromEntries(
  providerNames.map((p) => [`render-${p}`, renderJob]),
) as Record<RenderQueue, typeof renderJob>;

/**
 * The registry: one entry per queue, with its payload schema and job defaults. Processors are
 * not here but in each domain's jobs.ts, which only the worker loads (the api enqueues, and
 * must not import the render pipeline, ffmpeg or provider SDKs); the worker refuses to start
 * while a queue has none (startWorkers).
 */
export const queueDefinitions = {
  housekeeping: {
    payload: z.object({
      task: z.enum([
        'purge-idempotency-keys',
        'purge-provider-calls',
        'purge-webhook-history',
        'reconcile',
      ]),
    }),
    defaultJobOptions: {
      removeOnComplete: 100,
      removeOnFail: 500,
      attempts: 3,
    } satisfies JobsOptions,
  },
  ...renderQueues,
  // Fans committed events out to endpoints and rebuilds lost delivery jobs from Postgres.
  'webhook-dispatch': {
    payload: z.object({ task: z.enum(['dispatch', 'reconcile']) }),
    defaultJobOptions: {
      removeOnComplete: true,
      removeOnFail: 100,
      attempts: 3,
      backoff: { type: 'exponential', delay: 500 },
    } satisfies JobsOptions,
  },
  // One job per (event, endpoint), jobId = delivery id. The retry schedule is the delivery's
  // own (a delayed re-run of the same job); these attempts only cover infrastructure errors.
  'webhook-delivery': {
    payload: z.object({ deliveryId: z.string().regex(/^whd_[0-9a-z]{26}$/) }),
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    } satisfies JobsOptions,
  },
} as const;

export type QueueName = keyof typeof queueDefinitions;
export type Payload<Q extends QueueName> = z.infer<(typeof queueDefinitions)[Q]['payload']>;
export const queueNames = Object.keys(queueDefinitions) as QueueName[];

export interface Queues {
  readonly prefix: string;
  /** The producer connection, for bulk reads that would be a script call per job otherwise. */
  readonly connection: Redis;
  get<Q extends QueueName>(name: Q): Queue<Payload<Q>>;
  enqueue<Q extends QueueName>(name: Q, data: Payload<Q>, opts?: JobsOptions): Promise<void>;
  enqueueBulk<Q extends QueueName>(
    name: Q,
    jobs: { data: Payload<Q>; opts?: JobsOptions }[],
  ): Promise<void>;
  close(): Promise<void>;
}

function unavailable(err: unknown): never {
  throw Object.assign(
    problems.unavailable('The job queue (Redis) is unavailable; retry shortly.'),
    {
      cause: err,
    },
  );
}

export function createQueues(deps: {
  connection: Redis;
  prefix: string;
  /** A queue's connection errors; the calls themselves fail too. */
  onError?: (err: Error) => void;
}): Queues {
  // BullMQ waits for a connection to come back; a request must not. The producer connection
  // has no offline queue, so once it is ready a lost connection rejects commands at once.
  const ensureConnected = () => {
    if (deps.connection.status !== 'ready')
      unavailable(new Error(`redis is ${deps.connection.status}`));
  };
  const queues = new Map<QueueName, Queue>();
  const get = <Q extends QueueName>(name: Q): Queue<Payload<Q>> => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: deps.connection,
        prefix: deps.prefix,
        defaultJobOptions: queueDefinitions[name].defaultJobOptions,
      });
      // Errors surface on the calls themselves; this reports them (and stops an unhandled event).
      queue.on('error', (err) => deps.onError?.(err));
      queues.set(name, queue);
    }
    return queue as unknown as Queue<Payload<Q>>;
  };
  return {
    prefix: deps.prefix,
    connection: deps.connection,
    get,
    async enqueue(name, data, opts) {
      const payload = queueDefinitions[name].payload.parse(data);
      ensureConnected();
      // biome-ignore lint/suspicious/noExplicitAny: BullMQ's name/data generics do not narrow per queue
      await (get(name) as Queue<any>).add(name, payload, opts).catch(unavailable);
    },
    async enqueueBulk(name, jobs) {
      const schema = queueDefinitions[name].payload;
      const bulk = jobs.map((j) => ({ name, data: schema.parse(j.data), opts: j.opts }));
      ensureConnected();
      // biome-ignore lint/suspicious/noExplicitAny: as above
      await (get(name) as Queue<any>).addBulk(bulk).catch(unavailable);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
