import type { FastifyInstance } from 'fastify';
import { toDeliveryResponse } from '../deliveries/service.ts';
import { toAttemptResponse, toEndpointResponse } from '../webhooks/service.ts';
import { type ConsoleDeps, idParam, pageContext, sendHtml, tenantOf } from './context.ts';
import { html } from './html.ts';
import { page } from './layout.ts';

const cursorOf = (q: unknown) => {
  const after = (q as { after?: string }).after;
  return after && /^[a-z]{2,4}_[0-9a-z]+$/.test(after) ? after : undefined;
};

/** Read-only, for support: where variants went, and what webhook endpoints answered. */
export async function deliveryPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.get('/campaigns/:id/deliveries', async (request, reply) => {
    const tenantId = tenantOf(request);
    const campaign = await deps.campaigns.get(tenantId, idParam(request));
    const after = cursorOf(request.query);
    const rows = await deps.deliveries.list(tenantId, {
      campaignId: campaign.id,
      ...(after ? { after } : {}),
      limit: 101,
    });
    const shown = rows.slice(0, 100).map(toDeliveryResponse);
    return sendHtml(
      reply,
      page(
        pageContext(request),
        'Deliveries',
        html`${
          shown.length
            ? html`<div class="scroll"><table><thead><tr><th scope="col">Variant</th><th scope="col">Destination</th><th scope="col">External id</th><th scope="col">Delivered</th><th scope="col">Metadata</th></tr></thead>
<tbody>${shown.map((d) => html`<tr><td><a href="/console/variants/${d.variant_id}">${d.variant_id}</a></td><td>${d.destination}</td><td>${d.external_id ?? '—'}</td><td>${d.delivered_at}</td><td><code>${JSON.stringify(d.metadata)}</code></td></tr>`)}</tbody></table></div>`
            : html`<p>No deliveries recorded yet.</p>`
        }
${rows.length > 100 ? html`<p><a href="?after=${shown.at(-1)?.id}">Next page</a></p>` : ''}`,
        [{ href: `/console/campaigns/${campaign.id}`, label: campaign.name }],
      ),
    );
  });

  // The attempt log is /v1's webhooks:manage too: it shows endpoint URLs and their answers.
  const manage = { config: { consoleScope: 'webhooks:manage' } } as const;
  app.get('/webhooks', manage, async (request, reply) => {
    const rows = (await deps.webhooks.list(tenantOf(request), { limit: 100 })).map(
      toEndpointResponse,
    );
    return sendHtml(
      reply,
      page(
        pageContext(request),
        'Webhooks',
        rows.length
          ? html`<div class="scroll"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">State</th></tr></thead>
<tbody>${rows.map((e) => html`<tr><td><a href="/console/webhooks/${e.id}">${e.url}</a></td><td>${e.events.join(', ')}</td><td>${e.enabled ? (e.failing_since ? `failing since ${e.failing_since}` : 'enabled') : `disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ''}`}</td></tr>`)}</tbody></table></div>`
          : html`<p>No webhook endpoints. They are set up through the API (POST /v1/webhooks).</p>`,
      ),
    );
  });

  app.get('/webhooks/:id', manage, async (request, reply) => {
    const tenantId = tenantOf(request);
    const id = idParam(request);
    const after = cursorOf(request.query);
    // One event's attempts (linked from a variant's page), or all of them.
    const event = (request.query as { event?: string }).event;
    const eventId = event && /^evt_[0-9a-z]{26}$/.test(event) ? event : undefined;
    const rows = await deps.webhooks.attempts(tenantId, id, {
      ...(after ? { after } : {}),
      eventId,
      limit: 101,
    });
    const shown = rows.slice(0, 100).map(toAttemptResponse);
    return sendHtml(
      reply,
      page(
        pageContext(request),
        'Webhook attempts',
        html`${
          shown.length
            ? html`<div class="scroll"><table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">Time</th><th scope="col">Answer or error</th></tr></thead>
<tbody>${shown.map((a) => html`<tr><td>${a.created_at}</td><td>${a.event_id}</td><td>${a.attempt}</td><td>${a.outcome}</td><td>${a.status_code ?? '—'}</td><td>${a.duration_ms === null ? '—' : `${a.duration_ms} ms`}</td><td>${a.error ?? a.response_excerpt ?? ''}</td></tr>`)}</tbody></table></div>`
            : html`<p>No attempts yet.</p>`
        }
${eventId ? html`<p><a href="/console/webhooks/${id}">Every event's attempts</a></p>` : ''}
${rows.length > 100 ? html`<p><a href="?${new URLSearchParams({ ...(eventId ? { event: eventId } : {}), after: shown.at(-1)?.id ?? '' }).toString()}">Next page</a></p>` : ''}`,
        [{ href: '/console/webhooks', label: 'Webhooks' }],
      ),
    );
  });
}
