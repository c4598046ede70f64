import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { purgeExpiredKeys } from '../http/idempotency/repository.ts';
import type { Queues } from '../queue/registry.ts';
import type { ProcessorRegistry } from '../queue/workers.ts';

export function housekeepingProcessors(deps: { db: Db; logger: Logger }): ProcessorRegistry {
  return {
    housekeeping: {
      async process({ task }) {
        switch (task) {
          case 'purge-idempotency-keys': {
            const purged = await purgeExpiredKeys(deps.db);
            deps.logger.info({ purged }, 'purged expired idempotency keys');
            return { purged };
          }
        }
      },
    },
  };
}

/** Idempotent: every worker replica upserts the same schedulers at start. */
export async function scheduleHousekeeping(queues: Queues): Promise<void> {
  await queues
    .get('housekeeping')
    .upsertJobScheduler(
      'purge-idempotency-keys',
      { every: 60 * 60 * 1000 },
      { name: 'housekeeping', data: { task: 'purge-idempotency-keys' } },
    );
}
