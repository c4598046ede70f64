import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { VariantStatus } from '../../db/schema.ts';
import { ProblemError, problems } from '../../http/problem.ts';
import type { ProviderName } from '../../providers/catalog.ts';
import type { VideoProvider } from '../../providers/types.ts';
import type { Queues } from '../../queue/registry.ts';
import { enqueueRenders, renderQueueOf } from '../../render/enqueue.ts';
import { awaitingProviderStatuses } from '../../variants/lifecycle.ts';

type WebhookVerifier = NonNullable<VideoProvider['verifyWebhook']>;
export type WebhookVerifiers = Partial<Record<ProviderName, WebhookVerifier>>;

type InboundAction = 'promoted' | 'enqueued' | 'running' | 'none' | 'duplicate';

/**
 * A provider's "your render finished" moves the variant's job on at once instead of at its next
 * poll. The job does the real work (it reads the status from the provider, as on a poll), so a
 * forged or stale event could at worst cause one early poll; that is why acting is safe.
 */
export function createInboundWebhookService(deps: {
  db: Db;
  queues: Queues;
  verifiers: WebhookVerifiers;
  logger: Logger;
  /** How long a request waits for a job caught mid-poll to park itself. */
  activeWaitMs?: number;
  /** How long it is watched after the answer, if it has not parked by then. */
  followUpMs?: number;
}) {
  const { db } = deps;
  const activeWaitMs = deps.activeWaitMs ?? 2_000;
  const followUpMs = deps.followUpMs ?? 60_000;

  async function waitingVariant(provider: string, jobId: string) {
    const { rows } = await db.execute<{ id: string; status: string }>(sql`
      SELECT id, status FROM variants WHERE provider = ${provider} AND provider_job_id = ${jobId}`);
    return rows[0] ?? null;
  }

  async function stillWaiting(id: string) {
    const { rows } = await db.execute<{ status: string }>(
      sql`SELECT status FROM variants WHERE id = ${id}`,
    );
    return awaitingProviderStatuses.includes(rows[0]?.status as VariantStatus);
  }

  /**
   * Promotes the variant's parked job (or adds one when Redis has none). A job caught mid-poll
   * may have read the old status and be about to park for a whole interval, so an active job is
   * watched until it parks, moves past waiting, or the time is up ('busy').
   */
  async function wake(
    provider: ProviderName,
    variantId: string,
    waitMs: number,
  ): Promise<InboundAction | 'busy'> {
    const queue = deps.queues.get(renderQueueOf(provider));
    const deadline = Date.now() + waitMs;
    for (;;) {
      const state = await queue.getJobState(variantId);
      if (state === 'delayed') {
        const job = await queue.getJob(variantId);
        const promoted = await job?.promote().then(
          () => true,
          () => false,
        );
        if (promoted) return 'promoted';
        continue;
      }
      if (state === 'unknown' || state === 'completed' || state === 'failed') {
        if (!(await stillWaiting(variantId))) return 'none';
        if (state !== 'unknown') await queue.remove(variantId);
        await enqueueRenders(deps.queues, [{ id: variantId, provider }]);
        return 'enqueued';
      }
      // Waiting to run (it polls first thing), or active past the poll (fetching, compositing).
      if (state !== 'active' || !(await stillWaiting(variantId))) return 'running';
      if (Date.now() >= deadline) return 'busy';
      await sleep(25, undefined, { ref: false });
    }
  }

  return {
    async receive(
      provider: ProviderName,
      rawBody: string,
      headers: Record<string, string>,
    ): Promise<InboundAction> {
      const verify = deps.verifiers[provider];
      if (!verify) throw problems.notFound(`webhook receiver for ${provider}`);
      const event = await verify(rawBody, headers);
      // fal names its deliveries by request_id; Standard Webhooks by `webhook-id`.
      const webhookId = event?.deliveryId ?? headers['webhook-id'];
      if (!event || !webhookId) {
        throw new ProblemError({
          status: 400,
          slug: 'invalid-signature',
          title: 'Invalid webhook',
          detail: 'The signature, timestamp or body of the webhook did not verify.',
        });
      }
      const { rows: fresh } = await db.execute<{ webhook_id: string }>(sql`
        INSERT INTO inbound_webhooks (provider, webhook_id) VALUES (${provider}, ${webhookId})
        ON CONFLICT DO NOTHING RETURNING webhook_id`);
      if (!fresh.length) return 'duplicate';
      if (event.event === 'other') return 'none';
      try {
        const variant = await waitingVariant(provider, event.jobId);
        // Unknown job (another deployment's; or ours whose create answer is not stored yet, and
        // then the poll right after storing it sees the result), or past waiting: acknowledged.
        if (!variant || !awaitingProviderStatuses.includes(variant.status as VariantStatus))
          return 'none';
        let action = await wake(provider, variant.id, activeWaitMs);
        if (action === 'busy') {
          // The provider will not wait longer; keep watching after answering. Lost on a
          // restart, where the next poll is the fallback, as without webhooks.
          void wake(provider, variant.id, followUpMs).catch((err: unknown) =>
            deps.logger.warn({ err, variantId: variant.id }, 'could not wake a render'),
          );
          action = 'running';
        }
        deps.logger.debug(
          { provider, webhookId, variantId: variant.id, action },
          'provider webhook received',
        );
        return action;
      } catch (err) {
        // Forget it, so the provider's retry of the same id is acted on rather than dropped.
        await db
          .execute(
            sql`DELETE FROM inbound_webhooks WHERE provider = ${provider} AND webhook_id = ${webhookId}`,
          )
          .catch(() => {});
        throw err;
      }
    },
  };
}

export type InboundWebhookService = ReturnType<typeof createInboundWebhookService>;
