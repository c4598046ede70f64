import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/webhooks/dispatch.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun } from '../helpers/scenario.ts';
import { type ConsoleClient, signIn } from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-variants-co');
  c = await signIn(t, bearer);
});
afterAll(() => t?.close());

/** An opening per tone and one pack shot every variant shares: reused after the first. */
const spot = {
  shots: [
    { key: 'opening', prompt_template: 'Opening, {{tone}} mood', seconds: 4 },
    { key: 'pack', prompt_template: 'Pack shot of {{brief.product}}', seconds: 4 },
  ],
  transition: { type: 'cut', seconds: 0 },
};

/**
 * A spot campaign's run on the local provider, with no worker in this file: its variants and
 * shots are queued as the run's fan-out wrote them.
 */
async function spotRun(name: string) {
  const s = await setupCampaign(t, bearer, {
    levels: { tone: ['calm', 'bold'], setting: ['beach', 'city'] },
    labels: { tone: 'Tone', 'tone.bold': 'Bold <b>"loud"</b>' },
    video: { provider: 'local', model: 'card-v1', seconds: 4, size: '720x1280' },
    template: 'Ad: {{tone}} {{setting}}',
    spot,
  });
  const run = await startRun(t, bearer, { ...s, key: `spot-${name}` });
  const { rows } = await t.testDb.pool.query<{ id: string }>(
    'SELECT id FROM variants WHERE run_id = $1 ORDER BY id',
    [run.id],
  );
  return { ...s, runId: run.id, variantIds: rows.map((r) => r.id) };
}

/**
 * Rendering is not what these tests are about (no worker here): the variant is moved to ready
 * as the render worker's last step would, so reviews and deliveries have something to act on.
 */
async function markReady(variantId: string) {
  await t.testDb.pool.query(`UPDATE variants SET status = 'ready' WHERE id = $1`, [variantId]);
}

describe('console variant view: its shots and deliveries', () => {
  it("shows a variant's shots (key, status, reused, cost) and its deliveries as /v1 lists them", async () => {
    const r = await spotRun('view');
    const [first, second] = r.variantIds as [string, string];
    await markReady(second);
    const hook = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { authorization: bearer },
      payload: { url: 'https://hooks.example.com/variants', events: ['variant.delivered'] },
    });
    expect(hook.statusCode).toBe(201);
    const endpointId = hook.json().id as string;
    const delivered = await t.app.inject({
      method: 'POST',
      url: `/v1/variants/${second}/deliveries`,
      headers: { authorization: bearer },
      payload: { destination: 'meta', external_id: 'ad-<42>', metadata: { placement: 'reels' } },
    });
    expect(delivered.statusCode, delivered.body).toBe(201);
    const v1 = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/variants/${second}`,
        headers: { authorization: bearer },
      })
    ).json() as {
      shots: { key: string; status: string; reused: boolean; cost_usd: number }[];
    };
    expect(v1.shots.map((s) => s.key)).toEqual(['opening', 'pack']);

    const page = await c.get(`/console/variants/${second}`);
    expect(page.statusCode).toBe(200);
    for (const s of v1.shots) {
      const row = new RegExp(
        `<tr data-shot="${s.key}"><td>${s.key}</td><td>${s.status}</td><td>${s.reused ? 'yes' : 'no'}`,
      );
      expect(page.body).toMatch(row);
      expect(page.body).toContain(`$${s.cost_usd.toFixed(2)}`);
    }
    // The pack shot is the same for every variant: the later one reuses it at no cost.
    expect(v1.shots.find((s) => s.key === 'pack')?.reused).toBe(true);
    expect(page.body).toContain('<td>meta</td><td>ad-&lt;42&gt;</td>');
    expect(page.body).toContain('{&quot;placement&quot;:&quot;reels&quot;}');
    expect(page.body).not.toContain('ad-<42>');
    // The variant.delivered event, not yet fanned out to the endpoint.
    expect(page.body).toMatch(
      /<td>variant\.delivered<\/td><td>[^<]+<\/td><td colspan="4">not dispatched yet/,
    );
    // The outbox dispatcher (as a worker runs it) writes the endpoint's delivery: the page then
    // names the endpoint and links to its attempt log for that event.
    const dispatcher = createDispatcher({
      db: t.infra.database.db,
      queues: t.infra.queues,
      logger: pino({ level: 'silent' }),
    });
    expect(await dispatcher.kick()).toBeGreaterThan(0);
    const after = await c.get(`/console/variants/${second}`);
    const link = new RegExp(
      `<a href="/console/webhooks/${endpointId}\\?event=(evt_[0-9a-z]+)">https://hooks.example.com/variants</a></td><td>pending \\(retrying\\)</td><td>0</td>`,
    );
    const eventId = link.exec(after.body)?.[1];
    expect(eventId, after.body).toBeDefined();
    const attempts = await c.get(`/console/webhooks/${endpointId}?event=${eventId}`);
    expect(attempts.statusCode).toBe(200);
    expect(attempts.body).toContain('No attempts yet.');
    expect(attempts.body).toContain("Every event's attempts");
    // A key without webhooks:manage sees the deliveries but not the endpoints' trail.
    const campaignsOnly = await signIn(t, await t.key('console-variants-co', ['campaigns:read']));
    const limited = await campaignsOnly.get(`/console/variants/${second}`);
    expect(limited.body).toContain('<td>meta</td>');
    expect(limited.body).not.toContain('hooks.example.com');

    const none = await c.get(`/console/variants/${first}`);
    expect(none.body).toContain('No deliveries recorded for this variant.');
    expect(none.body).toContain('No webhook events about this variant.');
    // The campaign's deliveries link each row to its variant's page.
    const list = await c.get(`/console/campaigns/${r.campaignId}/deliveries`);
    expect(list.body).toContain(`<a href="/console/variants/${second}">${second}</a>`);
    // The review grid's cards show the shots too.
    const grid = await c.get(`/console/runs/${r.runId}/review`);
    expect(grid.body.match(/<table class="shots">/g)).toHaveLength(r.variantIds.length);
    expect(grid.body).toContain(`<a href="/console/variants/${second}">`);
    // Level labels with markup render as text, on the cards and on a variant's page.
    const bold = grid.body.match(/<a href="\/console\/variants\/(var_[0-9a-z]+)">Bold/)?.[1];
    expect(bold).toBeDefined();
    const boldPage = await c.get(`/console/variants/${bold}`);
    for (const body of [grid.body, boldPage.body]) {
      expect(body).toContain('Bold &lt;b&gt;&quot;loud&quot;&lt;/b&gt;');
      expect(body).not.toContain('<b>"loud"');
    }
  });

  it("answers 404 for another tenant's variant, and for an id that is no variant", async () => {
    const r = await spotRun('isolation');
    const other = await signIn(t, await t.key('console-variants-other'));
    const res = await other.get(`/console/variants/${r.variantIds[0]}`);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('opening');
    expect((await c.get('/console/variants/var_00000000000000000000000000')).statusCode).toBe(404);
    expect((await c.get('/console/variants/nope')).statusCode).toBe(404);
  });
});

describe('console for a read-only key', () => {
  it('offers no control the key cannot use, and the server refuses them all the same', async () => {
    const r = await spotRun('scopes');
    const [readyId, failedId] = r.variantIds as [string, string];
    await markReady(readyId);
    // As a render worker leaves a variant it gave up on: the run page then offers a retry.
    await t.testDb.pool.query(
      `UPDATE variants SET status = 'failed', error_code = 'provider_error' WHERE id = $1`,
      [failedId],
    );
    const full = c;
    const ro = await signIn(t, await t.key('console-variants-co', ['campaigns:read']));
    const runUrl = `/console/runs/${r.runId}`;
    const quoteUrl = `/console/matrices/${r.matrixId}/quote?design=full`;
    const pages = [
      '/console',
      `/console/campaigns/${r.campaignId}`,
      `/console/matrices/${r.matrixId}`,
      quoteUrl,
      runUrl,
      `${runUrl}/review`,
    ];
    const controls = [
      '>New campaign</a>',
      '>Edit campaign</a>',
      'Matrix file',
      '>Upload logo</button>',
      '>Start run</button>',
      '>Cancel run</button>',
      '>Retry failed (1)</button>',
      '>Approve</button>',
      '>Reject</button>',
      '>Approve selected</button>',
      'Approve all 1 matching',
      'name="ids"',
      '/console/webhooks"',
      '>What won (report)</a>',
    ];
    const seen = async (client: ConsoleClient) => {
      const bodies = await Promise.all(pages.map((u) => client.get(u)));
      for (const b of bodies) expect(b.statusCode).toBe(200);
      const all = bodies.map((b) => b.body).join('\n');
      return controls.filter((x) => all.includes(x));
    };
    // The full key sees every one of them, so their absence below is the scopes, not the pages.
    expect(await seen(full)).toEqual(controls);
    expect(await seen(ro)).toEqual([]);
    const quote = await ro.get(quoteUrl);
    expect(quote.body).toContain('Starting a run needs a key with the campaigns:write scope.');

    // Forms it could only submit are not served, and every change is refused.
    for (const url of ['/console/campaigns/new', `/console/campaigns/${r.campaignId}/edit`])
      expect((await ro.get(url)).statusCode).toBe(403);
    const posts: [string, Record<string, string>][] = [
      [`/console/variants/${readyId}/review`, { decision: 'approved' }],
      [`${runUrl}/review`, { decision: 'approved', ids: readyId }],
      [`${runUrl}/review-all`, { decision: 'approved', expected: '1' }],
      [`${runUrl}/cancel`, {}],
      [`${runUrl}/retry`, {}],
      [
        `/console/campaigns/${r.campaignId}/runs`,
        { matrix_id: r.matrixId, design: 'full', idempotency_key: 'console-ro' },
      ],
    ];
    for (const [url, form] of posts) {
      const res = await ro.post(url, form);
      expect(res.statusCode, url).toBe(403);
      expect(res.body).toContain('lacks the scope campaigns:write');
    }
    const logo = await ro.upload(`/console/matrices/${r.matrixId}/logos`, {
      name: 'l.png',
      body: 'x',
    });
    expect(logo.statusCode).toBe(403);
    const state = await t.testDb.pool.query(
      `SELECT (SELECT status FROM variants WHERE id = $1) AS variant,
              (SELECT status FROM runs WHERE id = $2) AS run,
              (SELECT count(*)::int FROM runs WHERE campaign_id = $3) AS runs,
              (SELECT reviewed_at FROM variants WHERE id = $1) AS reviewed`,
      [readyId, r.runId, r.campaignId],
    );
    expect(state.rows[0]).toMatchObject({ variant: 'ready', runs: 1, reviewed: null });
    expect(state.rows[0].run).not.toBe('cancelled');
  });
});

describe('console sign-in field', () => {
  it('is a masked text field with autocomplete off, so password managers do not offer to save the key', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/console/sign-in' });
    const input = /<input id="api_key"[^>]*>/.exec(res.body)?.[0] ?? '';
    expect(input).toContain('type="text"');
    expect(input).toContain('autocomplete="off"');
    expect(input).toContain('spellcheck="false"');
    expect(input).toContain('class="secret"');
    expect(input).toContain('data-1p-ignore');
    expect(input).toContain('data-lpignore="true"');
    expect(res.body).not.toContain('type="password"');
    expect(res.body).toContain('<label for="api_key">API key</label>');
    expect(res.body).toContain('<button type="submit">Sign in</button>');
    const css = await readFile(
      new URL('../../src/console/static/console.css', import.meta.url),
      'utf8',
    );
    expect(css).toMatch(/input\.secret\s*\{[^}]*-webkit-text-security:\s*disc/);
    const served = await t.app.inject({ method: 'GET', url: '/console/static/console.css' });
    expect(served.body).toContain('-webkit-text-security: disc');
  });
});

describe('console quote: design statistics in plain words', () => {
  it('labels every design statistic in words, names aliased levels by their labels, and shows no internal name', async () => {
    const r = await spotRun('quote');
    // Two variants cannot estimate three parameters: the quote names what cannot be told apart.
    const res = await c.get(`/console/matrices/${r.matrixId}/quote?design=sample&n=2`);
    expect(res.statusCode).toBe(200);
    for (const label of [
      'Effects to estimate',
      'Effects the design can tell apart',
      'Design efficiency',
      'Strongest overlap between two dimensions',
      'Every pair of levels equally often',
      'Levels that cannot be told apart',
      'Smallest design that can estimate every level',
    ])
      expect(res.body).toContain(`<dt>${label}</dt>`);
    expect(res.body).toMatch(/data-stat="aliased_effects">[^<]*(Tone|setting): /);
    expect(res.body).toMatch(/data-stat="smallest_estimable_design">balanced, \d+ variants</);
    const text = res.body.replace(/data-stat="[a-z_]+"/g, '');
    for (const raw of [
      'd_efficiency',
      'max_abs_correlation',
      'aliased_effects',
      'smallest_estimable_design',
      'd efficiency',
      'max abs correlation',
      'aliased effects',
      'tone=',
      'setting=',
    ])
      expect(text).not.toContain(raw);
    const full = await c.get(`/console/matrices/${r.matrixId}/quote?design=full`);
    expect(full.body).toMatch(/data-stat="d_efficiency">100 of 100/);
    expect(full.body).toMatch(/data-stat="orthogonal">yes</);
  });
});

describe('console report: levels compared with each other', () => {
  it('shows the pairs of non-reference levels when asked, with verdicts in words', async () => {
    const s = await setupCampaign(t, bearer, {
      levels: { tone: ['calm', 'bold', 'witty'], setting: ['beach', 'city'] },
      labels: { tone: 'Tone', 'tone.witty': 'Witty <i>"dry"</i>' },
      video: { provider: 'local', model: 'card-v1', seconds: 4, size: '720x1280' },
    });
    const run = await startRun(t, bearer, { ...s, key: 'compare-report' });
    const { rows } = await t.testDb.pool.query<{ id: string; levels: { tone: string } }>(
      'SELECT id, levels FROM variants WHERE run_id = $1 ORDER BY id',
      [run.id],
    );
    const ctr: Record<string, number> = { calm: 0.01, bold: 0.012, witty: 0.02 };
    const csv = rows.map((v, i) => {
      const impressions = 100_000 + i * 7_000;
      return `${v.id},2026-11-01,meta,${impressions},${Math.round(impressions * ctr[v.levels.tone]! * (1 + (i % 3) * 0.01))}`;
    });
    const upload = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: bearer, 'content-type': 'text/csv' },
      payload: ['variant_id,date,platform,impressions,clicks', ...csv].join('\n'),
    });
    expect(upload.statusCode, upload.body).toBeLessThan(300);
    const plain = await c.get(`/console/campaigns/${s.campaignId}/report`);
    expect(plain.statusCode).toBe(200);
    expect(plain.body).not.toContain('levels compared with each other');
    expect(plain.body).toContain(
      '<a href="?compare=all">Also compare the other levels with each other</a>',
    );
    const compared = await c.get(`/console/campaigns/${s.campaignId}/report?compare=all`);
    expect(compared.statusCode).toBe(200);
    expect(compared.body).toContain('<caption>Tone: levels compared with each other</caption>');
    const row =
      /<tr><td>Witty &lt;i&gt;&quot;dry&quot;&lt;\/i&gt;<\/td><td>bold<\/td><td>(\d\.\d{3})<\/td><td>[^<]+<\/td><td>([^<]+)<\/td><\/tr>/.exec(
        compared.body,
      );
    expect(row, compared.body).not.toBeNull();
    expect(Number(row![1])).toBeGreaterThan(1);
    expect(row![2]).not.toMatch(/_/);
    // setting has one non-reference level: nothing to compare.
    expect(compared.body).not.toContain('setting: levels compared with each other');
    expect(compared.body).toContain('Compare each level with the reference only');
    // Choosing the heatmap's dimensions keeps the comparisons the page shows.
    expect(compared.body).toContain('<input type="hidden" name="compare" value="all">');
    expect(plain.body).not.toContain('name="compare"');
    // The downloads carry what the page shows: the comparisons with it, not without.
    const download = `/console/campaigns/${s.campaignId}/report.csv?compare=all`;
    expect(compared.body).toContain(`href="${download}"`);
    expect(compared.body).toContain(`report.xlsx?compare=all"`);
    expect(plain.body).toContain(`href="/console/campaigns/${s.campaignId}/report.csv"`);
    const kinds = async (url: string) => {
      const res = await c.get(url);
      expect(res.statusCode).toBe(200);
      return new Set(res.body.split('\n').map((line) => line.split(',')[0]));
    };
    const withPairs = await kinds(download);
    expect(withPairs.has('comparison')).toBe(true);
    expect(withPairs.has('variant')).toBe(true);
    expect((await kinds(`/console/campaigns/${s.campaignId}/report.csv`)).has('comparison')).toBe(
      false,
    );
  });
});
