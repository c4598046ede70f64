import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { purgeExpiredKeys } from '../http/idempotency/repository.ts';
import type { Queues } from '../queue/registry.ts';
import type { ProcessorRegistry } from '../queue/workers.ts';
import { purgeProviderCalls } from '../render/claim.ts';
import { purgeWebhookHistory } from '../webhooks/retention.ts';

export function housekeepingProcessors(deps: {
  db: Db;
  logger: Logger;
  reconcile: () => Promise<unknown>;
  webhookLogRetentionDays: number;
}): ProcessorRegistry {
  return {
    housekeeping: {
      async process({ task }) {
        switch (task) {
          case 'purge-idempotency-keys': {
            const purged = await purgeExpiredKeys(deps.db);
            deps.logger.info({ purged }, 'purged expired idempotency keys');
            return { purged };
          }
          case 'purge-provider-calls':
            await purgeProviderCalls(deps.db);
            return {};
          case 'purge-webhook-history': {
            const purged = await purgeWebhookHistory(deps.db, {
              days: deps.webhookLogRetentionDays,
            });
            deps.logger.info({ purged }, 'purged webhook history');
            return purged;
          }
          case 'reconcile':
            return deps.reconcile();
        }
      },
    },
  };
}

/** Idempotent: every worker replica upserts the same schedulers at start. */
export async function scheduleHousekeeping(
  queues: Queues,
  opts: { reconcileEveryMs: number },
): Promise<void> {
  const queue = queues.get('housekeeping');
  const hourly = { every: 60 * 60 * 1000 };
  await queue.upsertJobScheduler('purge-idempotency-keys', hourly, {
    name: 'housekeeping',
    data: { task: 'purge-idempotency-keys' },
  });
  await queue.upsertJobScheduler('purge-webhook-history', hourly, {
    name: 'housekeeping',
    data: { task: 'purge-webhook-history' },
  });
  await queue.upsertJobScheduler(
    'purge-provider-calls',
    { every: 5 * 60 * 1000 },
    { name: 'housekeeping', data: { task: 'purge-provider-calls' } },
  );
  await queue.upsertJobScheduler(
    'reconcile',
    { every: opts.reconcileEveryMs },
    { name: 'housekeeping', data: { task: 'reconcile' } },
  );
}
