import type { FastifyInstance } from 'fastify';
import { toVariantResponse } from '../variants/service.ts';
import { type ConsoleDeps, idParam, pageContext, sendHtml, tenantOf, usd } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, page } from './layout.ts';
import { webhookTrail } from './repository.ts';

/** A variant as GET /v1/variants/{id} answers it: its deliveries and, for a spot, its shots. */
type VariantView = ReturnType<typeof toVariantResponse>;

/** A spot's shots in order: which were rendered for this variant and which it reused for free. */
export function shotsTable(shots: VariantView['shots'], caption: string): SafeHtml | string {
  if (!shots.length) return '';
  return html`<table class="shots"><caption>${caption}</caption>
<thead><tr><th scope="col">Shot</th><th scope="col">Status</th><th scope="col">Reused</th><th scope="col">Cost</th></tr></thead>
<tbody>${shots.map(
    (s) =>
      html`<tr data-shot="${s.key}"><td>${s.key}</td><td>${s.status}</td><td>${s.reused ? 'yes: rendered for an earlier variant, no cost to this one' : 'no'}</td><td>${usd(s.cost_usd)}${s.actual_cost_usd ? ` · paid ${usd(s.actual_cost_usd)}` : ''}</td></tr>`,
  )}</tbody></table>`;
}

function deliveriesTable(deliveries: VariantView['deliveries']): SafeHtml {
  if (!deliveries.length) return html`<p>No deliveries recorded for this variant.</p>`;
  return html`<div class="scroll"><table><caption>Deliveries</caption><thead><tr><th scope="col">Destination</th><th scope="col">External id</th><th scope="col">Delivered</th><th scope="col">Metadata</th></tr></thead>
<tbody>${deliveries.map((d) => html`<tr><td>${d.destination}</td><td>${d.external_id ?? '—'}</td><td>${d.delivered_at}</td><td><code>${JSON.stringify(d.metadata)}</code></td></tr>`)}</tbody></table></div>`;
}

type Trail = Awaited<ReturnType<typeof webhookTrail>>;

const deliveryWords: Record<string, string> = {
  pending: 'pending (retrying)',
  delivered: 'delivered',
  failed: 'failed (gave up)',
  cancelled: 'cancelled',
};

/** Each variant.* event and where each endpoint's delivery of it stands, with its attempts. */
function trailTable(trail: Trail): SafeHtml {
  if (!trail.rows.length)
    return html`<p>No webhook events about this variant${trail.truncated ? ' among the latest events read' : ''}.</p>`;
  return html`<div class="scroll"><table><caption>Webhook events about this variant</caption>
<thead><tr><th scope="col">Event</th><th scope="col">When</th><th scope="col">Endpoint</th><th scope="col">Delivery</th><th scope="col">Attempts</th><th scope="col">Last status</th></tr></thead>
<tbody>${trail.rows.map(
    (r) =>
      html`<tr><td>${r.type}</td><td>${r.created_at}</td>${
        r.endpoint_id
          ? html`<td><a href="/console/webhooks/${r.endpoint_id}?event=${r.event_id}">${r.url}</a></td><td>${deliveryWords[r.status ?? ''] ?? r.status}</td><td>${r.attempts}</td><td>${r.last_status_code ?? '—'}</td>`
          : html`<td colspan="4">${r.dispatched ? 'no endpoint subscribed to it' : 'not dispatched yet'}</td>`
      }</tr>`,
  )}</tbody></table></div>${trail.truncated ? html`<p class="muted">Only the first 20,000 events after the variant was created were read.</p>` : ''}`;
}

/** One variant for support: what it is, what it cost, where it was delivered, its shots. */
export async function variantPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.get('/variants/:id', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    // The /v1 service and its response shape: another tenant's variant is its 404.
    const v = toVariantResponse(await deps.variants.get(tenantId, idParam(request)), '');
    const run = await deps.runs.get(tenantId, v.run_id);
    // The trail shows endpoint URLs and their answers: /v1's webhooks:manage, as the log is.
    const hooks = can(ctx, 'webhooks:manage');
    const [matrix, campaign, trail] = await Promise.all([
      deps.matrices.get(tenantId, run.matrixId),
      deps.campaigns.get(tenantId, v.campaign_id),
      hooks
        ? webhookTrail(deps.db, { tenantId, variantId: v.id, createdAt: new Date(v.created_at) })
        : null,
    ]);
    const levels = matrix.document.dimensions.map((d) => ({
      dim: d.label,
      level: d.levels.find((l) => l.key === v.levels[d.key])?.label ?? v.levels[d.key] ?? '—',
    }));
    const title = levels.map((l) => l.level).join(' · ') || v.id;
    return sendHtml(
      reply,
      page(
        ctx,
        `Variant ${title}`,
        html`<section class="card"><h2>Variant</h2><dl class="quote">
${levels.map((l) => html`<dt>${l.dim}</dt><dd>${l.level}</dd>`)}
<dt>Status</dt><dd data-testid="status">${v.status}${v.error ? html` · ${v.error.message ?? v.error.code}` : ''}</dd>
<dt>Cost</dt><dd>${usd(v.actual_cost_usd)} paid of ${usd(v.cost_usd)} estimated</dd>
<dt>Id</dt><dd><code>${v.id}</code></dd></dl>
${v.video ? html`<video controls preload="none" src="/console/variants/${v.id}/video" aria-label="Video: ${title}"></video>` : ''}
</section>
${v.shots.length ? html`<section class="card"><h2>Shots</h2>${shotsTable(v.shots, `Shots of ${title}`)}</section>` : ''}
<section class="card"><h2>Deliveries</h2>${deliveriesTable(v.deliveries)}</section>
${trail ? html`<section class="card"><h2>Webhooks</h2>${trailTable(trail)}</section>` : ''}`,
        [
          { href: `/console/campaigns/${campaign.id}`, label: campaign.name },
          { href: `/console/runs/${run.id}`, label: 'Run' },
          { href: `/console/runs/${run.id}/review`, label: 'Review' },
        ],
      ),
    );
  });
}
