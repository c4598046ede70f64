import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError, problems } from '../http/problem.ts';
import { previewBody } from '../matrices/preview-schemas.ts';
import type { DesignInput } from '../matrices/schemas.ts';
import type { MatrixSource } from '../matrices/service.ts';
import { uploadForm } from './campaign-pages.ts';
import {
  type ConsoleDeps,
  idParam,
  pageContext,
  seeOther,
  sendHtml,
  sessionOf,
  tenantOf,
  usd,
} from './context.ts';
import { html, type SafeHtml } from './html.ts';
import { can, errorList, type PageContext, page } from './layout.ts';
import { logoForm } from './logo-pages.ts';
import { sameToken } from './session.ts';

const zipMagic = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const oleMagic = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);
const designTypes = ['pairwise', 'balanced', 'full', 'sample'] as const;

/** The multipart form: _csrf (checked here, as the body is streamed) and the file. */
async function readUpload(request: FastifyRequest, maxFileBytes: number): Promise<MatrixSource> {
  let csrf = '';
  let file: Buffer | undefined;
  let name: string | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === '_csrf') csrf = String(part.value);
      continue;
    }
    if (!sameToken(csrf, sessionOf(request).csrfToken)) {
      part.file.resume();
      throw new ProblemError({
        status: 403,
        slug: 'forbidden',
        title: 'Forbidden',
        detail: 'The form has expired; reload the page and try again.',
      });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of part.file as AsyncIterable<Buffer>) chunks.push(chunk);
    if (part.file.truncated)
      throw problems.payloadTooLarge(`Matrix files may be at most ${maxFileBytes} bytes.`);
    file = Buffer.concat(chunks);
    name = part.filename?.slice(0, 200) || undefined;
  }
  if (!file?.length)
    throw problems.badRequest('Choose a matrix file.', [
      { path: 'Matrix file', message: 'required' },
    ]);
  const head = file.subarray(0, 4);
  const extra = name ? { name } : {};
  return head.equals(zipMagic) || head.equals(oleMagic)
    ? { kind: 'xlsx', buffer: file, ...extra }
    : { kind: 'csv', text: file, ...extra };
}

/** The design a quote or a run form names; the matrix service checks the rest. */
export function designOf(q: Record<string, unknown>): DesignInput {
  const type = String(q.design ?? 'pairwise');
  const n = Number(q.n);
  const seed = 1;
  if (type === 'full') return { type: 'full' };
  if (type === 'balanced')
    return Number.isInteger(n) && n > 0
      ? { type: 'balanced', n, seed }
      : { type: 'balanced', seed };
  if (type === 'sample') {
    if (!Number.isInteger(n) || n < 1)
      throw problems.unprocessable('A sample needs a number of variants.', [
        { path: 'n', message: 'a whole number of at least 1' },
      ]);
    return { type: 'sample', n, seed };
  }
  return { type: 'pairwise', seed };
}

/**
 * The quote's request: the design, and a power question when the form gives an expected CTR and
 * impressions per variant (the API's schema judges them and fills its defaults).
 */
const fieldNames: Record<string, string> = {
  baseline_ctr: 'Expected CTR',
  target_mde: 'Expected CTR',
  impressions_per_variant: 'Impressions per variant',
};

function previewOf(q: Record<string, unknown>) {
  const design = designOf(q);
  const ctr = String(q.baseline_ctr ?? '').trim();
  const impressions = String(q.impressions ?? '').trim();
  if (!ctr && !impressions) return { design, sample_size: 0 };
  const parsed = previewBody.safeParse({
    design,
    sample_size: 0,
    power: { baseline_ctr: Number(ctr) / 100, impressions_per_variant: Number(impressions) },
  });
  if (!parsed.success)
    throw problems.unprocessable(
      'The expected CTR (a percentage) and impressions per variant go together.',
      parsed.error.issues.map((i) => ({
        path: fieldNames[String(i.path.at(-1))] ?? i.path.join('.'),
        message: i.message,
      })),
    );
  return parsed.data;
}

const pct = (x: number | null | undefined) =>
  typeof x === 'number' ? `${Math.round(x * 100)}%` : '—';
const pct2 = (x: number) => `${Number((x * 100).toPrecision(3))}%`;

type Dims = { key: string; label: string; levels: { key: string; label: string }[] }[];

/** "tone=playful" (how the service names an aliased level) as "Tone: Playful". */
function levelName(dims: Dims, ref: string): string {
  const [dim, level] = ref.split('=');
  const d = dims.find((x) => x.key === dim);
  return `${d?.label ?? dim}: ${d?.levels.find((l) => l.key === level)?.label ?? level}`;
}

/**
 * The design's statistics beyond coverage and balance, in plain words. Only these are shown: a
 * statistic the service adds later stays in the API's design_stats until it is given words here.
 */
function designRows(stats: Record<string, unknown>, dims: Dims) {
  const rows: { key: string; label: string; value: string }[] = [];
  const add = (key: string, label: string, value: (v: never) => string | null) => {
    const v = stats[key];
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) return;
    const text = value(v as never);
    if (text !== null) rows.push({ key, label, value: text });
  };
  add('parameters', 'Effects to estimate', (n: number) =>
    typeof n === 'number'
      ? `${n} (the baseline and each level against its dimension's first)`
      : null,
  );
  add('rank', 'Effects the design can tell apart', (n: number) =>
    typeof n === 'number' ? String(n) : null,
  );
  add('d_efficiency', 'Design efficiency', (n: number) =>
    typeof n === 'number'
      ? `${Math.round(n)} of 100 (100 when every two dimensions show each pair of levels equally often)`
      : null,
  );
  add('max_abs_correlation', 'Strongest overlap between two dimensions', (n: number) =>
    typeof n === 'number'
      ? `${n.toFixed(2)} (0 when every two dimensions are crossed in proportion, 1 when they move together)`
      : null,
  );
  add('orthogonal', 'Every pair of levels equally often', (b: boolean) =>
    typeof b === 'boolean' ? (b ? 'yes' : 'no') : null,
  );
  add('aliased_effects', 'Levels that cannot be told apart', (refs: string[]) =>
    Array.isArray(refs) ? refs.map((r) => levelName(dims, String(r))).join(', ') : null,
  );
  add(
    'smallest_estimable_design',
    'Smallest design that can estimate every level',
    (d: { n?: number }) => (typeof d?.n === 'number' ? `balanced, ${d.n} variants` : null),
  );
  return rows;
}

function quoteFragment(
  ctx: PageContext,
  m: { id: string; campaignId: string; document: { dimensions: Dims } },
  q: Record<string, unknown>,
  preview: Record<string, unknown> & {
    variant_count: number;
    estimated_cost_usd: number;
    budget: { fits: boolean; detail: string | null; remaining_usd: number | null };
    design_stats: Record<string, unknown>;
    power?: {
      baseline_ctr: number;
      impressions_per_variant: number;
      confidence: number;
      power: number;
      mde: Record<string, number | null>;
    };
  },
): SafeHtml {
  const stats = preview.design_stats;
  const rows = designRows(stats, m.document.dimensions);
  const power = preview.power;
  return html`<section id="quote" class="card" aria-live="polite"><h2>Quote</h2>
<dl class="quote">
<dt>Variants</dt><dd data-testid="variant-count">${preview.variant_count}</dd>
<dt>Cost</dt><dd>${usd(preview.estimated_cost_usd)}</dd>
<dt>Pair coverage</dt><dd>${pct(stats.pair_coverage as number)}</dd>
<dt>Level balance</dt><dd>${pct(stats.level_balance as number)}</dd>
${typeof stats.estimable === 'boolean' ? html`<dt>Estimable</dt><dd data-testid="estimable">${stats.estimable ? 'yes: every level effect can be estimated' : 'no'}</dd>` : ''}
${rows.map((r) => html`<dt>${r.label}</dt><dd data-stat="${r.key}">${r.value}</dd>`)}
<dt>Budget left</dt><dd>${usd(preview.budget.remaining_usd)}</dd>
</dl>
${typeof stats.warning === 'string' ? html`<p class="warning">${stats.warning}</p>` : ''}
${
  power
    ? html`<h3>Minimum detectable effect</h3>
<p class="muted">At ${pct2(power.baseline_ctr)} CTR and ${power.impressions_per_variant} impressions per variant (${Math.round(power.confidence * 100)}% confidence, ${Math.round(power.power * 100)}% power).</p>
<dl class="quote">${Object.entries(power.mde).map(([d, v]) => html`<dt>${m.document.dimensions.find((x) => x.key === d)?.label ?? d}</dt><dd data-testid="mde-${d}">${v === null ? 'not estimable' : `+${pct2(v)} CTR`}</dd>`)}</dl>`
    : ''
}
${preview.budget.fits ? '' : html`<p class="error" role="alert">${preview.budget.detail ?? 'Over budget.'}</p>`}
${
  can(ctx, 'campaigns:write')
    ? html`<form method="post" action="/console/campaigns/${m.campaignId}/runs">
<input type="hidden" name="_csrf" value="${ctx.csrfToken}">
<input type="hidden" name="matrix_id" value="${m.id}">
<input type="hidden" name="design" value="${String(q.design ?? 'pairwise')}">
<input type="hidden" name="n" value="${String(q.n ?? '')}">
<input type="hidden" name="idempotency_key" value="console-${randomUUID()}">
<button type="submit"${preview.budget.fits ? '' : html` disabled`}>Start run</button>
</form>`
    : html`<p class="muted">Starting a run needs a key with the campaigns:write scope.</p>`
}</section>`;
}

export async function matrixPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.post(
    '/campaigns/:id/matrices',
    { bodyLimit: deps.maxFileBytes + 64 * 1024, config: { csrfInParts: true } },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const ctx = pageContext(request);
      // The parts first: the CSRF token is one of them, and nothing is read before it is checked.
      const source = await readUpload(request, deps.maxFileBytes);
      const campaign = await deps.campaigns.get(tenantId, idParam(request));
      try {
        const { row } = await deps.matrices.create(tenantId, campaign.id, source);
        return seeOther(reply, `/console/matrices/${row.id}`);
      } catch (err) {
        if (!(err instanceof ProblemError) || err.status >= 500 || err.status === 404) throw err;
        // Every problem inline, with its row and column, next to the form to upload a fixed file.
        return sendHtml(
          reply,
          page(
            ctx,
            'The matrix needs fixing',
            html`<p class="error" role="alert">${err.detail ?? err.title}</p>${uploadForm(ctx, campaign.id, err.errors ?? [{ message: err.detail ?? err.title }])}`,
            [{ href: `/console/campaigns/${campaign.id}`, label: campaign.name }],
          ),
          err.status,
        );
      }
    },
  );

  app.get('/matrices/:id', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    const m = await deps.matrices.get(tenantId, idParam(request));
    const campaign = await deps.campaigns.get(tenantId, m.campaignId);
    const dims = m.document.dimensions;
    return sendHtml(
      reply,
      page(
        ctx,
        `Matrix ${m.name ?? m.id}`,
        html`<section class="card"><h2>Dimensions and levels</h2>
<div class="scroll"><table><thead><tr><th scope="col">Dimension</th><th scope="col">Levels</th></tr></thead>
<tbody>${dims.map((d) => html`<tr><th scope="row">${d.label}</th><td><ul class="chips">${d.levels.map((l) => html`<li>${l.label}${l.asset_id ? ' (logo)' : ''}</li>`)}</ul></td></tr>`)}</tbody></table></div>
<p>${m.allowedCount} allowed combinations of ${m.fullFactorialCount}.</p></section>
<section class="card"><h2>Design</h2>
<form method="get" action="/console/matrices/${m.id}/quote" hx-get="/console/matrices/${m.id}/quote" hx-target="#quote" hx-swap="outerHTML">
<label for="design">Design</label>
<select id="design" name="design">${designTypes.map((t) => html`<option value="${t}">${t}</option>`)}</select>
<label for="n">Variants (balanced, sample)</label>
<input id="n" name="n" type="number" min="1" inputmode="numeric">
<label for="baseline_ctr">Expected CTR in % (for the minimum detectable effect)</label>
<input id="baseline_ctr" name="baseline_ctr" type="number" min="0.001" max="99" step="any" inputmode="decimal">
<label for="impressions">Impressions per variant</label>
<input id="impressions" name="impressions" type="number" min="1" inputmode="numeric">
<button type="submit">See quote</button>
</form></section>
${can(ctx, 'campaigns:write') ? logoForm(ctx, m) : ''}
<section id="quote"></section>`,
        [{ href: `/console/campaigns/${campaign.id}`, label: campaign.name }],
      ),
    );
  });

  app.get('/matrices/:id/quote', async (request, reply) => {
    const tenantId = tenantOf(request);
    const ctx = pageContext(request);
    const q = request.query as Record<string, unknown>;
    const m = await deps.matrices.get(tenantId, idParam(request));
    // In place of the quote, htmx shows why there is none (it swaps 422s: layout.ts).
    const preview = await Promise.resolve()
      .then(() => deps.matrices.preview(tenantId, m.id, previewOf(q)))
      .catch((err: unknown) => {
        if (!(request.headers['hx-request'] && err instanceof ProblemError && err.status === 422))
          throw err;
        return err;
      });
    if (preview instanceof ProblemError)
      return sendHtml(
        reply,
        html`<section id="quote" class="card" aria-live="polite"><h2>Quote</h2><p class="error" role="alert">${preview.detail ?? preview.title}</p>${errorList(preview.errors ?? [])}</section>`,
        422,
      );
    const fragment = quoteFragment(ctx, m, q, preview);
    // Without htmx (no script) the quote is a page of its own.
    if (request.headers['hx-request']) return sendHtml(reply, fragment);
    return sendHtml(
      reply,
      page(ctx, 'Quote', fragment, [{ href: `/console/matrices/${m.id}`, label: 'Matrix' }]),
    );
  });
}
