import type { Queues } from '../queue/registry.ts';

const chunkSize = 1_000;

/** jobId = delivery id: adding one that already has a live job is a no-op. */
export async function enqueueDeliveries(queues: Queues, ids: readonly string[]) {
  for (let i = 0; i < ids.length; i += chunkSize) {
    await queues.enqueueBulk(
      'webhook-delivery',
      ids.slice(i, i + chunkSize).map((id) => ({
        data: { deliveryId: id },
        opts: { jobId: id },
      })),
    );
  }
}

/**
 * Makes a delivery run now (a replay, a lost job): a delayed job is promoted, a finished one
 * removed so its id can be used again, a waiting or active one left alone (the processor
 * re-reads the row after each attempt, so it picks up the reset).
 */
export async function runDeliveryNow(queues: Queues, id: string) {
  const queue = queues.get('webhook-delivery');
  const state = await queue.getJobState(id);
  if (state === 'delayed') {
    const job = await queue.getJob(id);
    // It may have started meanwhile, which is as good.
    await job?.promote().catch(() => {});
    return;
  }
  if (state === 'completed' || state === 'failed') await queue.remove(id);
  else if (state !== 'unknown') return;
  await enqueueDeliveries(queues, [id]);
}
