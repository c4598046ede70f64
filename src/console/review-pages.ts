import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type VariantStatus, variantStatuses } from '../db/schema.ts';
import { sendMedia } from '../http/media-reply.ts';
import { ProblemError } from '../http/problem.ts';
import { toVariantResponse } from '../variants/service.ts';
import {
  type ConsoleDeps,
  field,
  fields,
  formOf,
  idParam,
  pageContext,
  seeOther,
  sendHtml,
  sessionOf,
  tenantOf,
} from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, csrfField, page } from './layout.ts';
import { idsInRun } from './repository.ts';
import { allMatchingForm, reviewAllPages } from './review-all.ts';
import { shotsTable } from './variant-pages.ts';

const pageSize = 48;

type Variant = Awaited<ReturnType<ConsoleDeps['variants']['list']>>[number];

/** A variant's card; `review` (a key that may write) adds its checkbox and decision buttons. */
function card(v: Variant, labels: Map<string, Map<string, string>>, review: boolean): SafeHtml {
  const named = Object.entries(v.levels).map(([d, l]) => `${labels.get(d)?.get(l) ?? l}`);
  const title = named.join(' · ');
  const media = v.thumbnail_key
    ? html`<details><summary><img src="/console/variants/${v.id}/thumbnail" alt="Thumbnail: ${title}" loading="lazy" width="160"></summary>
<video controls preload="none" src="/console/variants/${v.id}/video" aria-label="Video: ${title}"></video></details>`
    : html`<div class="placeholder">${v.status}</div>`;
  return html`<li class="variant" id="card-${v.id}">
${review ? html`<label class="check"><input type="checkbox" name="ids" value="${v.id}" form="bulk" aria-label="Select ${title}"></label>` : ''}
${media}
<p class="levels"><a href="/console/variants/${v.id}">${title}</a></p>
<p class="muted" data-testid="status">${v.status}${v.error_message ? html` · ${v.error_message}` : ''}</p>
${shotsTable(toVariantResponse(v, '').shots, `Shots of ${title}`)}
${
  review && v.status === 'ready'
    ? html`<div class="actions">
<button type="button" hx-post="/console/variants/${v.id}/review" hx-vals='{"decision":"approved"}' hx-include="#reason" hx-target="#card-${v.id}" hx-swap="outerHTML" aria-label="Approve ${title}">Approve</button>
<button type="button" hx-post="/console/variants/${v.id}/review" hx-vals='{"decision":"rejected"}' hx-include="#reason" hx-target="#card-${v.id}" hx-swap="outerHTML" aria-label="Reject ${title}">Reject</button></div>`
    : ''
}
</li>`;
}

async function levelLabels(deps: ConsoleDeps, tenantId: string, matrixId: string) {
  const m = await deps.matrices.get(tenantId, matrixId);
  return {
    dims: m.document.dimensions,
    labels: new Map(
      m.document.dimensions.map((d) => [d.key, new Map(d.levels.map((l) => [l.key, l.label]))]),
    ),
  };
}

function filtersOf(request: FastifyRequest, dims: { key: string; levels: { key: string }[] }[]) {
  const q = request.query as Record<string, string | undefined>;
  const status = variantStatuses.includes(q.status as VariantStatus)
    ? (q.status as VariantStatus)
    : undefined;
  const levels: Record<string, string> = {};
  for (const d of dims) {
    const v = q[`level.${d.key}`];
    if (v && d.levels.some((l) => l.key === v)) levels[d.key] = v;
  }
  return {
    status,
    levels,
    after: q.after && /^var_[0-9a-z]+$/.test(q.after) ? q.after : undefined,
    decided: (['approved', 'rejected'] as const)
      .filter((d) => /^\d{1,9}$/.test(q[d] ?? ''))
      .map(
        (d) =>
          `${Number(q[d]).toLocaleString('en-US')} ${Number(q[d]) === 1 ? 'variant' : 'variants'} ${d}.`,
      ),
  };
}

export async function reviewPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.get('/runs/:id/review', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    const run = await deps.runs.get(tenantId, idParam(request));
    const { dims, labels } = await levelLabels(deps, tenantId, run.matrixId);
    const f = filtersOf(request, dims);
    const review = can(ctx, 'campaigns:write');
    const [rows, ready] = await Promise.all([
      deps.variants.list(tenantId, {
        runId: run.id,
        status: f.status,
        levels: f.levels,
        after: f.after,
        limit: pageSize + 1,
      }),
      // Only ready variants can be decided: under another status filter nothing matches.
      !f.status || f.status === 'ready'
        ? deps.reviews.countMatching(tenantId, { run_id: run.id, levels: f.levels })
        : 0,
    ]);
    const shown = rows.slice(0, pageSize);
    const nextQuery = new URLSearchParams(request.query as Record<string, string>);
    nextQuery.set('after', shown.at(-1)?.id ?? '');
    const firstQuery = new URLSearchParams(request.query as Record<string, string>);
    firstQuery.delete('after');
    for (const q of [nextQuery, firstQuery]) for (const d of ['approved', 'rejected']) q.delete(d);
    return sendHtml(
      reply,
      page(
        ctx,
        'Review',
        html`<form method="get" class="card filters" action="/console/runs/${run.id}/review">
<label for="status">Status</label><select id="status" name="status"><option value="">any</option>${variantStatuses.map((s) => html`<option${f.status === s ? html` selected` : ''}>${s}</option>`)}</select>
${dims.map((d) => html`<label for="lvl-${d.key}">${d.label}</label><select id="lvl-${d.key}" name="level.${d.key}"><option value="">any</option>${d.levels.map((l) => html`<option value="${l.key}"${f.levels[d.key] === l.key ? html` selected` : ''}>${l.label}</option>`)}</select>`)}
<button type="submit">Filter</button></form>
${
  review
    ? html`<form id="bulk" method="post" action="/console/runs/${run.id}/review" class="card">${csrfField(ctx)}
<label for="reason">Reason (optional)</label><input id="reason" name="reason" maxlength="500">
<button type="submit" name="decision" value="approved">Approve selected</button>
<button type="submit" name="decision" value="rejected">Reject selected</button>
</form>
${allMatchingForm(ctx, run.id, { levels: f.levels, status: f.status === 'ready' ? 'ready' : undefined }, ready)}`
    : ''
}
${f.decided.map((m) => html`<p role="status" class="card">${m}</p>`)}
<ul class="grid" aria-label="Variants">${shown.map((v) => card(v, labels, review))}</ul>
${shown.length ? '' : html`<p>No variants match.</p>`}
<nav aria-label="Pages" class="actions">${f.after ? html`<a href="?${firstQuery.toString()}">First page</a>` : ''}${rows.length > pageSize ? html`<a href="?${nextQuery.toString()}">Next page</a>` : ''}</nav>`,
        [{ href: `/console/runs/${run.id}`, label: 'Run' }],
      ),
    );
  });

  app.post('/variants/:id/review', async (request, reply) => {
    const tenantId = tenantOf(request);
    const form = formOf(request);
    const decision = field(form, 'decision') === 'rejected' ? 'rejected' : 'approved';
    const reason = field(form, 'reason') || undefined;
    const auth = sessionOf(request).auth;
    // Reviewed meanwhile (another tab, a colleague): the card shows what it is now.
    await deps.reviews
      .review({ tenantId, keyId: auth.keyId }, idParam(request), { decision, reason })
      .catch((err: unknown) => {
        if (!(err instanceof ProblemError && err.status === 409)) throw err;
      });
    const v = await deps.variants.get(tenantId, idParam(request));
    const run = await deps.runs.get(tenantId, v.run_id);
    const { labels } = await levelLabels(deps, tenantId, run.matrixId);
    return sendHtml(reply, card(v, labels, true));
  });

  app.post('/runs/:id/review', async (request, reply) => {
    const tenantId = tenantOf(request);
    const run = await deps.runs.get(tenantId, idParam(request));
    const form = formOf(request);
    const decision = field(form, 'decision') === 'rejected' ? 'rejected' : 'approved';
    const reason = field(form, 'reason') || undefined;
    const reviewer = { tenantId, keyId: sessionOf(request).auth.keyId };
    const ids = await idsInRun(deps.db, { runId: run.id, ids: fields(form, 'ids').slice(0, 500) });
    for (const id of ids) {
      // One reviewed meanwhile (or not ready) is skipped, as the API's bulk review does.
      await deps.reviews.review(reviewer, id, { decision, reason }).catch((err: unknown) => {
        if (!(err instanceof ProblemError && (err.status === 409 || err.status === 404))) throw err;
      });
    }
    return seeOther(reply, `/console/runs/${run.id}/review`);
  });

  await reviewAllPages(app, deps, (tenantId, matrixId) => levelLabels(deps, tenantId, matrixId));

  for (const what of ['video', 'thumbnail'] as const) {
    app.get(`/variants/:id/${what}`, async (request, reply) => {
      const m = await deps.variants.media(
        tenantOf(request),
        idParam(request),
        what,
        request.headers.range,
      );
      // Streamed, never redirected: the console's CSP allows media from its own origin only.
      return sendMedia(reply, m, { cacheSeconds: 300, ranges: true });
    });
  }
}
