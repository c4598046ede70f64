import type { FastifyInstance } from 'fastify';
import { problems } from '../http/problem.ts';
import {
  type ConsoleDeps,
  type Form,
  field,
  formOf,
  idParam,
  pageContext,
  seeOther,
  sendHtml,
  sessionOf,
  tenantOf,
} from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { csrfField, type PageContext, page } from './layout.ts';

type Decision = 'approved' | 'rejected';
type Dims = { key: string; label: string; levels: { key: string; label: string }[] }[];

const verb = (d: Decision) => (d === 'approved' ? 'Approve' : 'Reject');
const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number) => `${count(n)} variant${n === 1 ? '' : 's'}`;

/** The grid's filter, carried through the confirmation so the manager returns to it. */
interface GridFilter {
  levels: Record<string, string>;
  /** 'ready' or none: under any other status the grid offers no "all matching". */
  status: 'ready' | undefined;
}

const filterInputs = (f: GridFilter) => [
  f.status ? html`<input type="hidden" name="status" value="${f.status}">` : '',
  Object.entries(f.levels).map(
    ([d, l]) => html`<input type="hidden" name="level.${d}" value="${l}">`,
  ),
];

/** The grid's query for this filter: where the manager returns to. */
function gridQuery(f: GridFilter, extra: Record<string, string> = {}) {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  for (const [d, l] of Object.entries(f.levels)) q.set(`level.${d}`, l);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

/** On the grid: decide every ready variant the filter matches, not only the checked cards. */
export function allMatchingForm(
  ctx: PageContext,
  runId: string,
  filter: GridFilter,
  ready: number,
): SafeHtml {
  if (!ready) return html``;
  return html`<form method="post" action="/console/runs/${runId}/review-all" class="card">${csrfField(ctx)}${filterInputs(filter)}
<p>${plural(ready)} ready to review match this filter, on every page.</p>
<button type="submit" name="decision" value="approved">Approve all ${count(ready)} matching…</button>
<button type="submit" name="decision" value="rejected">Reject all ${count(ready)} matching…</button>
</form>`;
}

/** The filter in words: "tone: Playful, setting: any". */
function describe(dims: Dims, levels: Record<string, string>) {
  return dims
    .map((d) => `${d.label}: ${d.levels.find((l) => l.key === levels[d.key])?.label ?? 'any'}`)
    .join(', ');
}

/** Levels from a form's level.<dimension> fields, each a level of this matrix. */
function levelsOf(form: Form, dims: Dims): Record<string, string> {
  const levels: Record<string, string> = {};
  for (const d of dims) {
    const v = field(form, `level.${d.key}`);
    if (!v) continue;
    if (!d.levels.some((l) => l.key === v))
      throw problems.unprocessable('The filter names a level this matrix does not have.', [
        { path: `level.${d.key}`, message: 'unknown level' },
      ]);
    levels[d.key] = v;
  }
  return levels;
}

function confirmation(
  ctx: PageContext,
  p: {
    runId: string;
    decision: Decision;
    grid: GridFilter;
    filter: string;
    total: number;
    touching: number;
    max: number;
    reason: string;
    changedFrom: number | null;
  },
): SafeHtml {
  const back = `/console/runs/${p.runId}/review?${gridQuery(p.grid)}`;
  if (!p.touching)
    return html`<p role="alert">No ready variants match this filter any more (${p.filter}).</p>
<p><a href="${back}">Back to the grid</a></p>`;
  return html`${p.changedFrom === null ? '' : html`<p class="warning" role="alert">The number changed since you asked (${count(p.changedFrom)} then). Nothing was decided yet; check again.</p>`}
<form method="post" action="/console/runs/${p.runId}/review-all" class="card">${csrfField(ctx)}${filterInputs(p.grid)}
<input type="hidden" name="decision" value="${p.decision}">
<input type="hidden" name="expected" value="${p.touching}">
<p data-testid="bulk-count">This will ${verb(p.decision).toLowerCase()} <strong>${plural(p.touching)}</strong>${
    p.total > p.touching
      ? html` of the ${count(p.total)} ready variants matching (${p.filter}): at most ${count(p.max)} at a time, the first by id; confirm again afterwards for the rest.`
      : html`: every ready variant of this run matching ${p.filter}.`
  }</p>
<label for="reason_all">Reason (optional)</label><input id="reason_all" name="reason" maxlength="500" value="${p.reason}">
<div class="actions"><button type="submit">${verb(p.decision)} ${plural(p.touching)}</button> <a href="${back}">Cancel</a></div>
</form>`;
}

/**
 * "Approve/Reject all matching": the first POST states how many variants it would touch; the
 * second carries that number and decides at most that many. A number that changed in between
 * (renders finishing, a colleague deciding) asks again rather than touching what was not stated.
 * A decision touches at most CONSOLE_BULK_REVIEW_MAX variants, so a request's work is bounded.
 */
export async function reviewAllPages(
  app: FastifyInstance,
  deps: ConsoleDeps,
  levelLabels: (tenantId: string, matrixId: string) => Promise<{ dims: Dims }>,
) {
  app.post('/runs/:id/review-all', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    const run = await deps.runs.get(tenantId, idParam(request));
    const { dims } = await levelLabels(tenantId, run.matrixId);
    const form = formOf(request);
    const decision = field(form, 'decision');
    if (decision !== 'approved' && decision !== 'rejected')
      throw problems.badRequest('Choose Approve or Reject.', [
        { path: 'decision', message: 'approved or rejected' },
      ]);
    const levels = levelsOf(form, dims);
    const grid: GridFilter = {
      levels,
      status: field(form, 'status') === 'ready' ? 'ready' : undefined,
    };
    const reason = field(form, 'reason').slice(0, 500);
    const filter = { run_id: run.id, levels };
    const total = await deps.reviews.countMatching(tenantId, filter);
    const touching = Math.min(total, deps.bulkReviewMax);
    const expectedText = field(form, 'expected');
    const expected = /^\d{1,9}$/.test(expectedText) ? Number(expectedText) : null;
    if (expected === null || expected !== touching || touching === 0) {
      const content = confirmation(ctx, {
        runId: run.id,
        decision,
        grid,
        filter: describe(dims, levels),
        total,
        touching,
        max: deps.bulkReviewMax,
        reason,
        changedFrom: expected,
      });
      const title = touching ? `${verb(decision)} ${plural(touching)}?` : 'Nothing to review';
      return sendHtml(
        reply,
        page(ctx, title, content, [
          { href: `/console/runs/${run.id}`, label: 'Run' },
          { href: `/console/runs/${run.id}/review`, label: 'Review' },
        ]),
      );
    }
    const { updated } = await deps.reviews.bulk(
      { tenantId, keyId: sessionOf(request).auth.keyId },
      { decision, reason: reason || undefined, filter, limit: expected },
    );
    return seeOther(
      reply,
      `/console/runs/${run.id}/review?${gridQuery(grid, { [decision]: String(updated) })}`,
    );
  });
}
