import type { FastifyInstance } from 'fastify';
import { ctrOverTime, type ForestRow, forestPlot, type HeatCell, heatmap } from './charts.ts';
import { type ConsoleDeps, idParam, pageContext, sendHtml, tenantOf } from './context.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { dailyByPlatform } from './repository.ts';

type Loose = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const pair = (v: unknown): [number, number] | null =>
  Array.isArray(v) && v.length === 2 && num(v[0]) !== null && num(v[1]) !== null
    ? [v[0] as number, v[1] as number]
    : null;

/** Clicks and impressions per pair of levels of two dimensions, summed over the report's variants. */
function pairCells(report: Loose, a: string, b: string) {
  const cells = new Map<string, HeatCell>();
  for (const v of Array.isArray(report.variants) ? (report.variants as Loose[]) : []) {
    const levels = (v.levels ?? {}) as Record<string, string>;
    const la = levels[a];
    const lb = levels[b];
    if (la === undefined || lb === undefined) continue;
    const key = JSON.stringify([la, lb]);
    const cell = cells.get(key) ?? { impressions: 0, clicks: 0 };
    cell.impressions += num(v.impressions) ?? 0;
    cell.clicks += num(v.clicks) ?? 0;
    cells.set(key, cell);
  }
  return (x: string, y: string) =>
    cells.get(JSON.stringify([x, y])) ?? { impressions: 0, clicks: 0 };
}

const levelsOf = (d: Loose) =>
  (Array.isArray(d.levels) ? (d.levels as Loose[]) : []).map((l) => ({
    key: String(l.level ?? ''),
    label: String(l.label ?? l.level ?? ''),
  }));

/** In words; the reference level is what the others are measured against, not a finding. */
const verdictOf = (l: Loose) =>
  l.reference === true
    ? 'the baseline'
    : (verdictWords[String(l.verdict)] ?? String(l.verdict ?? ''));

const verdictWords: Record<string, string> = {
  conclusive: 'a clear difference',
  directional: 'a hint, not yet certain',
  no_difference: 'no meaningful difference',
  inconclusive: 'no clear difference yet',
  insufficient_data: 'not enough data yet',
};

const ratioText = (v: unknown) => (num(v) === null ? '—' : (num(v) as number).toFixed(3));

/** Pairs of non-reference levels: odds ratio of one against the other, interval and verdict. */
function comparisonTable(name: string, pairs: Loose[]) {
  return html`<table><caption>${name}: levels compared with each other</caption>
<thead><tr><th scope="col">Level</th><th scope="col">Against</th><th scope="col">Odds ratio</th><th scope="col">Interval</th><th scope="col">Verdict</th></tr></thead>
<tbody>${pairs.map((c) => {
    const ci = pair(c.effect_ci);
    return html`<tr><td>${String(c.label ?? c.level ?? '')}</td><td>${String(c.versus_label ?? c.versus ?? '')}</td><td>${ratioText(c.effect)}</td><td>${ci ? `${ratioText(ci[0])} to ${ratioText(ci[1])}` : '—'}</td><td>${verdictOf(c)}</td></tr>`;
  })}</tbody></table>`;
}

/** The report's JSON head, read defensively: its statistics are being reworked elsewhere. */
async function reportJson(
  deps: ConsoleDeps,
  tenantId: string,
  campaignId: string,
  compare: boolean,
): Promise<Loose> {
  const stream = await deps.reports.render(tenantId, campaignId, {
    format: 'json',
    ...(compare ? { analysis: { compare: 'all' as const } } : {}),
  });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Loose;
}

export async function reportPages(app: FastifyInstance, deps: ConsoleDeps) {
  const reportsRead = { config: { consoleScope: 'reports:read' } } as const;
  app.get('/campaigns/:id/report', reportsRead, async (request, reply) => {
    const tenantId = tenantOf(request);
    const campaign = await deps.campaigns.get(tenantId, idParam(request));
    // Comparisons among non-reference levels join the report's adjusted family, so they are
    // asked for, not shown by default: each one widens every other interval a little.
    const compare = (request.query as { compare?: string }).compare === 'all';
    const [report, daily] = await Promise.all([
      reportJson(deps, tenantId, campaign.id, compare),
      dailyByPlatform(deps.db, { tenantId, campaignId: campaign.id }),
    ]);
    const dims = Array.isArray(report.by_dimension) ? (report.by_dimension as Loose[]) : [];
    const summary = (report.summary ?? {}) as Loose;
    // The first two dimensions unless the page asks for others (?rows=&cols=).
    const q = request.query as { rows?: string; cols?: string };
    const toggle = new URLSearchParams(
      Object.entries({ rows: q.rows, cols: q.cols }).filter((e): e is [string, string] => !!e[1]),
    );
    if (!compare) toggle.set('compare', 'all');
    const pick = (key: string | undefined, fallback: Loose | undefined) =>
      dims.find((d) => d.dimension === key) ?? fallback;
    const rowDim = pick(q.rows, dims[0]);
    const colDim = pick(
      q.cols,
      dims.find((d) => d !== rowDim),
    );
    const heat =
      rowDim && colDim && rowDim !== colDim
        ? html`<section class="card"><h2>CTR by ${String(rowDim.label ?? rowDim.dimension)} and ${String(colDim.label ?? colDim.dimension)}</h2>
<form method="get" class="filters"><label for="rows">Rows</label><select id="rows" name="rows">${dims.map((d) => html`<option value="${String(d.dimension)}"${d === rowDim ? html` selected` : ''}>${String(d.label ?? d.dimension)}</option>`)}</select>
<label for="cols">Columns</label><select id="cols" name="cols">${dims.map((d) => html`<option value="${String(d.dimension)}"${d === colDim ? html` selected` : ''}>${String(d.label ?? d.dimension)}</option>`)}</select>
${compare ? html`<input type="hidden" name="compare" value="all">` : ''}<button type="submit">Show</button></form>
${heatmap({ rowName: String(rowDim.label ?? rowDim.dimension), colName: String(colDim.label ?? colDim.dimension), rows: levelsOf(rowDim), cols: levelsOf(colDim), cell: pairCells(report, String(rowDim.dimension), String(colDim.dimension)) })}</section>`
        : html``;
    const sections = dims.map((d) => {
      const name = String(d.label ?? d.dimension ?? 'dimension');
      const levels = Array.isArray(d.levels) ? (d.levels as Loose[]) : [];
      const rows: ForestRow[] = levels.map((l) => ({
        label: String(l.label ?? l.level ?? ''),
        reference: l.reference === true,
        effect: l.reference === true ? 1 : num(l.effect),
        ci: pair(l.effect_ci),
        verdict: verdictOf(l),
      }));
      const pairs = Array.isArray(d.comparisons) ? (d.comparisons as Loose[]) : [];
      return html`<section class="card"><h2>${name}</h2>
${forestPlot(name, rows)}
${pairs.length ? comparisonTable(name, pairs) : ''}
<table><thead><tr><th scope="col">Level</th><th scope="col">Impressions</th><th scope="col">CTR</th><th scope="col">Verdict</th></tr></thead>
<tbody>${levels.map((l) => {
        const ctr = num(l.ctr);
        const note = typeof l.note === 'string' ? l.note : '';
        return html`<tr><td>${String(l.label ?? l.level ?? '')}${l.reference === true ? ' (reference)' : ''}</td><td>${num(l.impressions) ?? 0}</td><td>${ctr === null ? '—' : `${(ctr * 100).toFixed(2)}%`}</td><td>${verdictOf(l)}${note ? html`<br><span class="muted">${note}</span>` : ''}</td></tr>`;
      })}</tbody></table></section>`;
    });
    return sendHtml(
      reply,
      page(
        pageContext(request),
        `What won: ${campaign.name}`,
        html`<p class="actions"><a class="button" href="/console/campaigns/${campaign.id}/report.csv${compare ? '?compare=all' : ''}" download>Download CSV</a>
<a class="button" href="/console/campaigns/${campaign.id}/report.xlsx${compare ? '?compare=all' : ''}" download>Download XLSX</a></p>
<p><a href="?${toggle.toString()}">${compare ? 'Compare each level with the reference only' : 'Also compare the other levels with each other'}</a></p>
<p>${num(summary.variants) ?? 0} variants, ${num(summary.impressions) ?? 0} impressions, ${num(summary.clicks) ?? 0} clicks.</p>
${sections.length ? sections : html`<p>No dimensions to report yet.</p>`}
${heat}
${daily.length ? html`<section class="card"><h2>CTR over time</h2>${ctrOverTime(daily)}</section>` : ''}`,
        [{ href: `/console/campaigns/${campaign.id}`, label: campaign.name }],
      ),
    );
  });

  for (const format of ['csv', 'xlsx'] as const) {
    app.get(`/campaigns/:id/report.${format}`, reportsRead, async (request, reply) => {
      const tenantId = tenantOf(request);
      const id = idParam(request);
      // The downloads carry what the page showed: with its comparisons when it showed them.
      const compare = (request.query as { compare?: string }).compare === 'all';
      const stream = await deps.reports.render(tenantId, id, {
        format,
        ...(compare ? { analysis: { compare: 'all' as const } } : {}),
      });
      return reply
        .type(
          format === 'csv'
            ? 'text/csv; charset=utf-8'
            : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        )
        .header('content-disposition', `attachment; filename="report-${id}.${format}"`)
        .send(stream);
    });
  }
}
