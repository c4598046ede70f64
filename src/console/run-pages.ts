import type { FastifyInstance, FastifyRequest } from 'fastify';
import { withWorkersSeen } from '../ops/heartbeat.ts';
import {
  type ConsoleDeps,
  field,
  formOf,
  idParam,
  pageContext,
  seeOther,
  sendHtml,
  tenantOf,
  usd,
} from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, csrfField, type PageContext, page } from './layout.ts';
import { designOf } from './matrix-pages.ts';
import { failuresByReason } from './repository.ts';
import { startRunOnce } from './start-run.ts';

const shownStatuses = [
  'queued',
  'submitted',
  'rendering',
  'ready',
  'approved',
  'rejected',
  'delivered',
  'failed',
  'blocked',
  'held',
  'cancelled',
];

function eta(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 90) return `${seconds} s`;
  return `${Math.round(seconds / 60)} min`;
}

async function progress(deps: ConsoleDeps, request: FastifyRequest) {
  const tenantId = tenantOf(request);
  const row = await deps.runs.get(tenantId, idParam(request));
  const [described, campaign, failures] = await Promise.all([
    deps.runs.describe(row).then((r) => withWorkersSeen(r, deps.workers)),
    deps.campaigns.get(tenantId, row.campaignId),
    failuresByReason(deps.db, { runId: row.id }),
  ]);
  return { run: described, campaign, failures };
}

function progressFragment(p: Awaited<ReturnType<typeof progress>>): SafeHtml {
  const { run, campaign, failures } = p;
  const counts = run.counts as Record<string, number>;
  const open = run.status === 'queued' || run.status === 'running';
  const settled =
    run.variant_count -
    (counts.queued ?? 0) -
    (counts.submitted ?? 0) -
    (counts.rendering ?? 0) -
    (counts.held ?? 0);
  const poll = open
    ? html` hx-get="/console/runs/${run.id}/progress" hx-trigger="every 2s" hx-swap="outerHTML"`
    : html``;
  return html`<section id="progress" class="card"${poll} aria-live="polite">
<h2>Progress: <span data-testid="run-status">${run.status}</span></h2>
${run.workers?.warning ? html`<p class="warning" role="alert">${run.workers.warning}</p>` : ''}
<label for="bar">${settled} of ${run.variant_count} settled</label>
<progress id="bar" max="${run.variant_count || 1}" value="${settled}">${settled}</progress>
<dl class="quote">
${shownStatuses.filter((s) => counts[s]).map((s) => html`<dt>${s}</dt><dd data-status="${s}">${counts[s]}</dd>`)}
<dt>Spent</dt><dd>${usd(run.cost.actual_usd)} of ${usd(run.cost.estimated_usd)} estimated${campaign.budgetUsd !== null ? html` · budget ${usd(campaign.budgetUsd)}` : ''}</dd>
<dt>ETA</dt><dd>${eta(run.eta_seconds)}</dd>
</dl>
${failures.length ? html`<h3>Failures by reason</h3><table><thead><tr><th scope="col">Reason</th><th scope="col">Status</th><th scope="col">Variants</th></tr></thead><tbody>${failures.map((f) => html`<tr><td>${f.code ?? 'unknown'}</td><td>${f.status}</td><td>${f.n}</td></tr>`)}</tbody></table>` : ''}
</section>`;
}

function actions(ctx: PageContext, runId: string, open: boolean, failed: number): SafeHtml {
  const write = can(ctx, 'campaigns:write');
  return html`<div class="actions">
<a class="button" href="/console/runs/${runId}/review">Review variants</a>
${open && write ? html`<form method="post" action="/console/runs/${runId}/cancel">${csrfField(ctx)}<button type="submit">Cancel run</button></form>` : ''}
${failed && write ? html`<form method="post" action="/console/runs/${runId}/retry">${csrfField(ctx)}<button type="submit">Retry failed (${failed})</button></form>` : ''}
</div>`;
}

export async function runPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.post('/campaigns/:id/runs', async (request, reply) => {
    const form = formOf(request);
    const campaign = await deps.campaigns.get(tenantOf(request), idParam(request));
    const runId = await startRunOnce(deps, {
      tenantId: tenantOf(request),
      campaignId: campaign.id,
      matrixId: field(form, 'matrix_id'),
      design: designOf({ design: field(form, 'design'), n: field(form, 'n') }),
      key: field(form, 'idempotency_key'),
    });
    return seeOther(reply, `/console/runs/${runId}`);
  });

  app.get('/runs/:id', async (request, reply) => {
    const ctx = pageContext(request);
    const p = await progress(deps, request);
    const open = p.run.status === 'queued' || p.run.status === 'running';
    return sendHtml(
      reply,
      page(
        ctx,
        `Run ${p.run.id}`,
        html`${actions(ctx, p.run.id, open, p.run.counts.failed ?? 0)}${progressFragment(p)}
${can(ctx, 'reports:read') ? html`<p><a href="/console/campaigns/${p.campaign.id}/report">What won (report)</a></p>` : ''}`,
        [{ href: `/console/campaigns/${p.campaign.id}`, label: p.campaign.name }],
      ),
    );
  });

  // Polled every 2 s by an open run page: that is not the manager using the console.
  app.get('/runs/:id/progress', { config: { consolePassive: true } }, async (request, reply) =>
    sendHtml(reply, progressFragment(await progress(deps, request))),
  );

  app.post('/runs/:id/cancel', async (request, reply) => {
    const run = await deps.runs.cancel(tenantOf(request), idParam(request), {
      fetch_submitted: false,
    });
    return seeOther(reply, `/console/runs/${run.id}`);
  });

  app.post('/runs/:id/retry', async (request, reply) => {
    const { run } = await deps.runs.retry(tenantOf(request), idParam(request));
    return seeOther(reply, `/console/runs/${run.id}`);
  });
}
