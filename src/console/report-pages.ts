import type { FastifyInstance } from 'fastify';
import { type ForestRow, forestPlot } from './charts.ts';
import { type ConsoleDeps, idParam, pageContext, sendHtml, tenantOf } from './context.ts';
import { html } from './html.ts';
import { page } from './layout.ts';

type Loose = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const pair = (v: unknown): [number, number] | null =>
  Array.isArray(v) && v.length === 2 && num(v[0]) !== null && num(v[1]) !== null
    ? [v[0] as number, v[1] as number]
    : null;

const verdictWords: Record<string, string> = {
  conclusive: 'a clear difference',
  directional: 'a hint, not yet certain',
  insufficient_data: 'not enough data yet',
};

/** The report's JSON head, read defensively: its statistics are being reworked elsewhere. */
async function reportJson(deps: ConsoleDeps, tenantId: string, campaignId: string): Promise<Loose> {
  const stream = await deps.reports.render(tenantId, campaignId, { format: 'json' });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Loose;
}

export async function reportPages(app: FastifyInstance, deps: ConsoleDeps) {
  app.get('/campaigns/:id/report', async (request, reply) => {
    const tenantId = tenantOf(request);
    const campaign = await deps.campaigns.get(tenantId, idParam(request));
    const report = await reportJson(deps, tenantId, campaign.id);
    const dims = Array.isArray(report.by_dimension) ? (report.by_dimension as Loose[]) : [];
    const summary = (report.summary ?? {}) as Loose;
    const sections = dims.map((d) => {
      const name = String(d.label ?? d.dimension ?? 'dimension');
      const levels = Array.isArray(d.levels) ? (d.levels as Loose[]) : [];
      const rows: ForestRow[] = levels.map((l) => ({
        label: String(l.label ?? l.level ?? ''),
        reference: l.reference === true,
        effect: l.reference === true ? 1 : num(l.effect),
        ci: pair(l.effect_ci),
        verdict: verdictWords[String(l.verdict)] ?? String(l.verdict ?? ''),
      }));
      return html`<section class="card"><h2>${name}</h2>
${forestPlot(name, rows)}
<table><thead><tr><th scope="col">Level</th><th scope="col">Impressions</th><th scope="col">CTR</th><th scope="col">Verdict</th></tr></thead>
<tbody>${levels.map((l) => {
        const ctr = num(l.ctr);
        const note = typeof l.note === 'string' ? l.note : '';
        return html`<tr><td>${String(l.label ?? l.level ?? '')}${l.reference === true ? ' (reference)' : ''}</td><td>${num(l.impressions) ?? 0}</td><td>${ctr === null ? '—' : `${(ctr * 100).toFixed(2)}%`}</td><td>${verdictWords[String(l.verdict)] ?? String(l.verdict ?? '')}${note ? html`<br><span class="muted">${note}</span>` : ''}</td></tr>`;
      })}</tbody></table></section>`;
    });
    return sendHtml(
      reply,
      page(
        pageContext(request),
        `What won: ${campaign.name}`,
        html`<p class="actions"><a class="button" href="/console/campaigns/${campaign.id}/report.csv" download>Download CSV</a>
<a class="button" href="/console/campaigns/${campaign.id}/report.xlsx" download>Download XLSX</a></p>
<p>${num(summary.variants) ?? 0} variants, ${num(summary.impressions) ?? 0} impressions, ${num(summary.clicks) ?? 0} clicks.</p>
${sections.length ? sections : html`<p>No dimensions to report yet.</p>`}`,
        [{ href: `/console/campaigns/${campaign.id}`, label: campaign.name }],
      ),
    );
  });

  for (const format of ['csv', 'xlsx'] as const) {
    app.get(`/campaigns/:id/report.${format}`, async (request, reply) => {
      const tenantId = tenantOf(request);
      const id = idParam(request);
      const stream = await deps.reports.render(tenantId, id, { format });
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
