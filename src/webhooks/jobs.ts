import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Env } from '../config.ts';
import { createSecretBox, type SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import type { Queues } from '../queue/registry.ts';
import type { ProcessorRegistry } from '../queue/workers.ts';
import { createDeliveryProcessor } from './deliver.ts';
import { createDispatcher } from './dispatch.ts';
import { enqueueDeliveries } from './enqueue.ts';
import type { WebhookMetrics } from './metrics.ts';
import { createWebhookSender, type WebhookSender } from './sender/index.ts';

type WebhookWorkerConfig = Pick<
  Env,
  | 'SECRETS_KEY'
  | 'WEBHOOK_ALLOW_HOSTS'
  | 'WEBHOOK_TIMEOUT_MS'
  | 'WEBHOOK_CONCURRENCY'
  | 'WEBHOOK_RETRY_SCALE'
  | 'WEBHOOK_DISABLE_AFTER_DAYS'
  | 'RECONCILE_GRACE_MS'
>;

const batch = 2_000;

/**
 * Postgres is the truth, Redis only transport: pending deliveries whose time has come and
 * that have no job that will ever run (Redis flushed, a crash between commit and enqueue, a job
 * out of attempts) get one again. jobId = delivery id keeps this safe on many workers at once.
 */
function createDeliveryReconciler(deps: {
  db: Db;
  queues: Queues;
  logger: Logger;
  graceMs: number;
}) {
  const queue = deps.queues.get('webhook-delivery');
  return async function reconcile() {
    let revived = 0;
    for (let after = ''; ; ) {
      const { rows } = await deps.db.execute<{ id: string }>(sql`
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND id > ${after}
          AND coalesce(next_attempt_at, created_at) < now() - make_interval(secs => ${deps.graceMs / 1000})
        ORDER BY id LIMIT ${batch}`);
      if (!rows.length) break;
      // Two pipelined reads per delivery rather than a script call each: a long outage can
      // leave a large backlog, and this runs on every cycle.
      const pipe = deps.queues.connection.pipeline();
      for (const { id } of rows) pipe.exists(queue.toKey(id)).hget(queue.toKey(id), 'finishedOn');
      const replies = (await pipe.exec()) ?? [];
      const dead: string[] = [];
      const finished: string[] = [];
      rows.forEach(({ id }, i) => {
        if (replies[2 * i]?.[1] === 0) dead.push(id);
        else if (replies[2 * i + 1]?.[1]) finished.push(id);
      });
      // A finished job keeps its id: remove it, or the re-add would be ignored.
      await Promise.all(finished.map((id) => queue.remove(id)));
      dead.push(...finished);
      if (dead.length) await enqueueDeliveries(deps.queues, dead);
      revived += dead.length;
      after = rows.at(-1)!.id;
    }
    // Providers retry a webhook for up to 72 h; the ids only need to outlive that.
    await deps.db.execute(
      sql`DELETE FROM inbound_webhooks WHERE received_at < now() - interval '7 days'`,
    );
    if (revived) deps.logger.info({ revived }, 'webhook deliveries re-enqueued');
    return { revived };
  };
}

export function webhookProcessors(
  config: WebhookWorkerConfig,
  deps: {
    db: Db;
    queues: Queues;
    logger: Logger;
    metrics: WebhookMetrics;
    /** Tests inject one with a fake DNS resolver. */
    sender?: WebhookSender;
    box?: SecretBox;
  },
): ProcessorRegistry {
  const sender =
    deps.sender ??
    createWebhookSender({
      allowHosts: config.WEBHOOK_ALLOW_HOSTS,
      allowHttp: config.WEBHOOK_ALLOW_HOSTS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    });
  const dispatcher = createDispatcher({ db: deps.db, queues: deps.queues, logger: deps.logger });
  const reconcile = createDeliveryReconciler({
    db: deps.db,
    queues: deps.queues,
    logger: deps.logger,
    graceMs: config.RECONCILE_GRACE_MS,
  });
  const deliver = createDeliveryProcessor({
    db: deps.db,
    box: deps.box ?? createSecretBox(config.SECRETS_KEY),
    sender,
    logger: deps.logger,
    metrics: deps.metrics,
    config: {
      retryScale: config.WEBHOOK_RETRY_SCALE,
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    },
  });
  return {
    'webhook-dispatch': {
      // The dispatcher coalesces within a process; SKIP LOCKED makes processes share the work.
      concurrency: 2,
      async process({ task }) {
        if (task === 'reconcile') {
          const events = await dispatcher.kick();
          return { events, ...(await reconcile()) };
        }
        return { events: await dispatcher.kick() };
      },
    },
    'webhook-delivery': {
      concurrency: config.WEBHOOK_CONCURRENCY,
      process: ({ deliveryId }, job, token) => deliver(deliveryId, job, token),
    },
  };
}

/** Idempotent: every worker replica upserts the same schedulers at start. */
export async function scheduleWebhookJobs(
  queues: Queues,
  opts: { dispatchEveryMs: number; reconcileEveryMs: number },
) {
  const queue = queues.get('webhook-dispatch');
  await queue.upsertJobScheduler(
    'webhook-dispatch',
    { every: opts.dispatchEveryMs },
    { name: 'webhook-dispatch', data: { task: 'dispatch' } },
  );
  await queue.upsertJobScheduler(
    'webhook-reconcile',
    { every: opts.reconcileEveryMs },
    { name: 'webhook-dispatch', data: { task: 'reconcile' } },
  );
}

/**
 * A wake-up for the dispatcher, e.g. on NOTIFY after a commit. Calls while one is being added
 * collapse into one more; a failure only delays dispatch until the scheduled poll.
 */
export function createDispatchNudge(queues: Queues, logger: Logger) {
  let inFlight = false;
  let pending = false;
  const add = async () => {
    inFlight = true;
    try {
      do {
        pending = false;
        await queues.enqueue('webhook-dispatch', { task: 'dispatch' });
      } while (pending);
    } catch (err) {
      logger.debug({ err }, 'could not nudge the webhook dispatcher; the poll will');
    } finally {
      inFlight = false;
    }
  };
  return () => {
    if (inFlight) pending = true;
    else void add();
  };
}
