import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import type { Queues } from '../queue/registry.ts';
import { runDeliveryNow } from './enqueue.ts';
import * as repo from './repository.ts';
import {
  type EndpointUrlPolicy,
  generateWebhookSecret,
  validateEndpointUrl,
} from './sender/index.ts';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** Never the secret: that is shown once, on create and rotate, by the caller. */
export function toEndpointResponse(row: repo.EndpointRow) {
  const overlap = row.previousSecretExpiresAt;
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    disabled_at: iso(row.disabledAt),
    failing_since: iso(row.failingSince),
    previous_secret_expires_at: overlap && overlap > new Date() ? iso(overlap) : null,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

export function toAttemptResponse(row: repo.AttemptRow) {
  return {
    id: row.id,
    event_id: row.eventId,
    delivery_id: row.deliveryId,
    attempt: row.attempt,
    outcome: row.outcome,
    status_code: row.statusCode,
    duration_ms: row.durationMs,
    response_excerpt: row.responseExcerpt,
    error: row.error,
    created_at: iso(row.createdAt)!,
  };
}

export function toEventResponse(row: repo.EventRow) {
  return { id: row.id, type: row.type, created_at: iso(row.createdAt)!, data: row.data };
}

export function createWebhookService(deps: {
  db: Db;
  box: SecretBox;
  queues: Queues;
  /** Registration-time URL rules; the sender checks the resolved address on every attempt. */
  urlPolicy: EndpointUrlPolicy;
  overlapHours: number;
  onEnqueueError: (err: unknown) => void;
}) {
  const { db, box } = deps;

  function checkUrl(url: string) {
    const found = validateEndpointUrl(url, deps.urlPolicy);
    if (found.length)
      throw problems.unprocessable(
        'The endpoint URL cannot be used.',
        found.map((message) => ({ path: 'url', message })),
      );
  }

  async function get(tenantId: string, id: string) {
    const row = await repo.findEndpoint(db, { tenantId, id });
    if (!row) throw problems.notFound('webhook endpoint');
    return row;
  }

  return {
    get,

    list: (tenantId: string, page: { after?: string; limit: number }) =>
      repo.listEndpoints(db, { tenantId, ...page }),

    async create(
      tenantId: string,
      body: { url: string; events: string[]; description?: string | undefined },
    ) {
      checkUrl(body.url);
      const secret = generateWebhookSecret();
      const row = await repo.insertEndpoint(db, {
        id: newId('webhookEndpoint'),
        tenantId,
        url: body.url,
        events: body.events,
        description: body.description ?? null,
        secretCiphertext: box.seal(secret),
      });
      return { row, secret };
    },

    async update(
      tenantId: string,
      id: string,
      patch: {
        url?: string | undefined;
        events?: string[] | undefined;
        description?: string | null | undefined;
        enabled?: boolean | undefined;
      },
    ) {
      const current = await get(tenantId, id);
      if (patch.url !== undefined) checkUrl(patch.url);
      const set: Partial<repo.EndpointRow> = {};
      if (patch.url !== undefined) set.url = patch.url;
      if (patch.events !== undefined) set.events = patch.events;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.enabled === true && !current.enabled) {
        // A fresh start: the failure clock that disabled it must not disable it again at once.
        Object.assign(set, {
          enabled: true,
          disabledReason: null,
          disabledAt: null,
          failingSince: null,
        });
      } else if (patch.enabled === false && current.enabled) {
        Object.assign(set, {
          enabled: false,
          disabledReason: 'disabled through the API',
          disabledAt: new Date(),
        });
      }
      const row = await repo.updateEndpoint(db, { tenantId, id, set });
      if (!row) throw problems.notFound('webhook endpoint');
      if (set.enabled === false) await repo.cancelPendingDeliveries(db, id);
      return row;
    },

    async remove(tenantId: string, id: string) {
      if (!(await repo.deleteEndpoint(db, { tenantId, id })))
        throw problems.notFound('webhook endpoint');
      await repo.cancelPendingDeliveries(db, id);
    },

    /** The old secret stays valid for the overlap: deliveries carry both signatures meanwhile. */
    async rotate(tenantId: string, id: string) {
      const current = await get(tenantId, id);
      const secret = generateWebhookSecret();
      const overlapMs = deps.overlapHours * 3_600_000;
      const row = await repo.updateEndpoint(db, {
        tenantId,
        id,
        set: {
          secretCiphertext: box.seal(secret),
          previousSecretCiphertext: overlapMs > 0 ? current.secretCiphertext : null,
          previousSecretExpiresAt: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
        },
      });
      if (!row) throw problems.notFound('webhook endpoint');
      return { row, secret };
    },

    async attempts(
      tenantId: string,
      id: string,
      q: { eventId?: string | undefined; after?: string; limit: number },
    ) {
      await get(tenantId, id);
      return repo.listAttempts(db, { endpointId: id, ...q });
    },

    async event(tenantId: string, id: string) {
      const row = await repo.findEvent(db, { tenantId, id });
      if (!row) throw problems.notFound('event');
      return row;
    },

    listEvents: (
      tenantId: string,
      q: { type?: string | undefined; after?: string; limit: number },
    ) => repo.listEvents(db, { tenantId, ...q }),

    async replay(tenantId: string, eventId: string, opts: { endpointId?: string | undefined }) {
      const event = await repo.findEvent(db, { tenantId, id: eventId });
      if (!event) throw problems.notFound('event');
      let endpointIds: string[];
      if (opts.endpointId) {
        const endpoint = await repo.findEndpoint(db, { tenantId, id: opts.endpointId });
        if (!endpoint) throw problems.notFound('webhook endpoint');
        if (!endpoint.enabled)
          throw problems.unprocessable('The endpoint is disabled; enable it first.', [
            { path: 'endpoint_id', message: 'disabled' },
          ]);
        endpointIds = [endpoint.id];
      } else {
        endpointIds = await repo.subscribedEndpoints(db, { tenantId, type: event.type });
      }
      const deliveries = await repo.resetDeliveries(db, { tenantId, eventId, endpointIds });
      // After commit; a lost enqueue is found by the reconciler, as the row says pending.
      try {
        for (const d of deliveries) await runDeliveryNow(deps.queues, d.id);
      } catch (err) {
        deps.onEnqueueError(err);
      }
      return {
        event_id: eventId,
        deliveries: deliveries.map((d) => ({ id: d.id, endpoint_id: d.endpoint_id })),
      };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
