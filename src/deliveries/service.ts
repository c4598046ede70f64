import type { Db } from '../db/client.ts';
import type { VariantStatus } from '../db/schema.ts';
import { recordEvent, variantEventData } from '../events/outbox.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { aiDisclosure } from '../provenance/manifest.ts';
import { deliverableStatuses, transition } from '../variants/lifecycle.ts';
import * as repo from './repository.ts';

export function toDeliveryResponse(row: repo.DeliveryRow) {
  return {
    id: row.id,
    variant_id: row.variant_id,
    campaign_id: row.campaign_id,
    destination: row.destination,
    // '' is how "no external id" is stored, so the uniqueness rule holds for it too.
    external_id: row.external_id === '' ? null : row.external_id,
    delivered_at: new Date(row.delivered_at).toISOString(),
    metadata: row.metadata,
    ...aiDisclosure(row),
    created_at: new Date(row.created_at).toISOString(),
  };
}

export function createDeliveryService(deps: { db: Db }) {
  const { db } = deps;

  return {
    /**
     * Records a receipt, idempotent on (variant, destination, external id): a repeat returns
     * the first record with created false. The first receipt of a variant moves it to
     * delivered and writes variant.delivered, in the same transaction.
     */
    async deliver(
      tenantId: string,
      variantId: string,
      body: {
        destination: string;
        external_id?: string | undefined;
        delivered_at?: string | undefined;
        metadata?: Record<string, unknown> | undefined;
      },
    ) {
      const key = { variantId, destination: body.destination, externalId: body.external_id ?? '' };
      return db.transaction(async (tx) => {
        const variant = await repo.lockVariant(tx, { tenantId, id: variantId });
        if (!variant) throw problems.notFound('variant');
        const existing = await repo.findDelivery(tx, key);
        if (existing) return { row: existing, created: false };
        const allowed = deliverableStatuses(variant.require_approval);
        if (!allowed.includes(variant.status as VariantStatus)) {
          throw problems.unprocessable(
            variant.require_approval && variant.status === 'ready'
              ? 'The campaign requires approval: review the variant before delivering it.'
              : `The variant is ${variant.status}; only ${allowed.join(', ')} variants can be delivered.`,
            [{ path: 'id', message: `variant is ${variant.status}` }],
          );
        }
        const row = await repo.insertDelivery(tx, {
          id: newId('delivery'),
          tenantId,
          variantId,
          campaignId: variant.campaign_id,
          destination: key.destination,
          externalId: key.externalId,
          deliveredAt: body.delivered_at ? new Date(body.delivered_at) : new Date(),
          metadata: body.metadata ?? {},
        });
        // The variant row is locked, so no concurrent insert can win; this is belt and braces.
        if (!row) return { row: (await repo.findDelivery(tx, key))!, created: false };
        const done = await transition(tx, { id: variantId, from: allowed, to: 'delivered' });
        if (done && variant.status !== 'delivered') {
          await recordEvent(tx, {
            tenantId,
            type: 'variant.delivered',
            data: {
              ...variantEventData(done),
              delivery: toDeliveryResponse(row),
            },
          });
        }
        return { row, created: true };
      });
    },

    async list(
      tenantId: string,
      q: {
        campaignId?: string | undefined;
        runId?: string | undefined;
        variantId?: string | undefined;
        destination?: string | undefined;
        after?: string | undefined;
        limit: number;
      },
    ) {
      // A filter naming another tenant's run or campaign is a 404, as that id is everywhere else.
      if (q.runId && !(await repo.ownerExists(db, { tenantId, table: 'runs', id: q.runId })))
        throw problems.notFound('run');
      if (
        q.campaignId &&
        !(await repo.ownerExists(db, { tenantId, table: 'campaigns', id: q.campaignId }))
      )
        throw problems.notFound('campaign');
      return repo.listDeliveries(db, { tenantId, ...q });
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
