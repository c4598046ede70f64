import type { ProviderName } from '../providers/catalog.ts';
import type { Queues } from '../queue/registry.ts';

const chunkSize = 1_000;

export type RenderQueue = 'render-local' | 'render-openai';

export const renderQueueOf = (provider: string): RenderQueue =>
  provider === 'openai' ? 'render-openai' : 'render-local';

/**
 * jobId = variant id, so adding a variant that already has a live job is a no-op: the
 * reconciler and a crashed fan-out can both enqueue without creating a second job.
 */
export async function enqueueRenders(
  queues: Queues,
  variants: { id: string; provider: ProviderName | string }[],
) {
  const byQueue = new Map<RenderQueue, string[]>();
  for (const v of variants) {
    const name = renderQueueOf(v.provider);
    const list = byQueue.get(name) ?? [];
    list.push(v.id);
    byQueue.set(name, list);
  }
  for (const [name, ids] of byQueue) {
    for (let i = 0; i < ids.length; i += chunkSize) {
      const chunk = ids.slice(i, i + chunkSize);
      await queues.enqueueBulk(
        name,
        chunk.map((id) => ({ data: { variantId: id }, opts: { jobId: id } })),
      );
    }
  }
}
