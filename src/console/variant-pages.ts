import type { FastifyInstance } from 'fastify';
import { toVariantResponse } from '../variants/service.ts';
import { type ConsoleDeps, idParam, pageContext, sendHtml, tenantOf, usd } from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, page } from './layout.ts';

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

/** One variant for support: what it is, what it cost, where it was delivered, its shots. */
export async function variantPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.get('/variants/:id', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    // The /v1 service and its response shape: another tenant's variant is its 404.
    const v = toVariantResponse(await deps.variants.get(tenantId, idParam(request)), '');
    const run = await deps.runs.get(tenantId, v.run_id);
    const [matrix, campaign] = await Promise.all([
      deps.matrices.get(tenantId, run.matrixId),
      deps.campaigns.get(tenantId, v.campaign_id),
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
<section class="card"><h2>Deliveries</h2>${deliveriesTable(v.deliveries)}
${can(ctx, 'webhooks:manage') ? html`<p class="muted">What webhook endpoints answered about it: <a href="/console/webhooks">webhook attempt log</a>.</p>` : ''}</section>`,
        [
          { href: `/console/campaigns/${campaign.id}`, label: campaign.name },
          { href: `/console/runs/${run.id}`, label: 'Run' },
          { href: `/console/runs/${run.id}/review`, label: 'Review' },
        ],
      ),
    );
  });
}
