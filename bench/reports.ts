/**
 * Reports at scale: a campaign of 100,000 variants with 30 days of metrics (3,000,000 rows).
 * JSON, CSV (and XLSX) report time and peak RSS against a floor measured in the same run: the
 * report's single aggregation query run alone (plain query, all rows fetched at once), and the
 * same query through the report's streaming reader ("floor-stream"). Then a 100,000-row CSV
 * metrics upload through the app against a plain INSERT of the same rows. Prints, never
 * asserts: `node bench/reports.ts` (or `npm run bench reports`; `--only floor,json` for a subset).
 *
 * Each measurement runs in a child process of its own, so one phase's heap does not inflate the
 * next one's peak RSS. Reports are fetched over real HTTP and read without keeping the body.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createInfra } from '../src/main/infra.ts';
import { aggregateBatches, aggregateQuery } from '../src/reports/repository.ts';
import { createTenantService } from '../src/tenants/service.ts';
import { mb, ms, scratchDatabase, withPeakRss } from './lib.ts';

const VARIANTS = 100_000;
const DAYS = 30;
const RUNS = 3;
const self = fileURLToPath(import.meta.url);

async function attach(url: string) {
  const config = loadConfig({
    DATABASE_URL: url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    DATABASE_POOL_MAX: '4',
    METRICS_MAX_ROWS: '200000',
  });
  const logger = pino({ level: 'silent' });
  const infra = await createInfra(config, logger, 'api');
  const app = await buildApp({ config, logger, ...infra });
  await app.ready();
  const key = await createTenantService({ db: infra.database.db }).createKey({ tenant: 'bench' });
  return {
    app,
    infra,
    auth: `Bearer ${key.key}`,
    tenantId: key.tenantId,
    async close() {
      await app.close();
      await infra.close();
    },
  };
}

/** Campaign and matrix through the API; run, variants, deliveries and metrics in bulk SQL. */
async function seed(url: string) {
  const b = await attach(url);
  const dims: [string, number][] = [
    ['tone', 10],
    ['setting', 10],
    ['city', 20],
    ['offer', 50],
  ];
  const post = (path: string, payload: object) =>
    b.app.inject({ method: 'POST', url: path, headers: { authorization: b.auth }, payload });
  const campaign = (
    await post('/v1/campaigns', {
      name: 'bench',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: `Ad: ${dims.map(([d]) => `{{${d}}}`).join(', ')}`,
      video: { provider: 'local', seconds: 4, size: '720x1280' },
    })
  ).json();
  const matrix = await post(`/v1/campaigns/${campaign.id}/matrices`, {
    dimensions: dims.map(([key, n]) => ({
      key,
      levels: Array.from({ length: n }, (_, i) => ({ key: `${key}${i}` })),
    })),
  });
  if (matrix.statusCode !== 201) throw new Error(matrix.body);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const t0 = performance.now();
  const p = [b.tenantId, campaign.id, matrix.json().id];
  await db.query(
    `INSERT INTO runs (id, tenant_id, campaign_id, matrix_id, design, status, variant_count,
                       new_variant_count, estimated_cost_usd)
     VALUES ('run_bench', $1, $2, $3, '{"type":"full"}', 'completed', ${VARIANTS}, ${VARIANTS}, 0)`,
    p,
  );
  // Variant g has levels (g / 10000, g / 1000 % 10, g / 50 % 20, g % 50): the full factorial.
  await db.query(
    `INSERT INTO variants (id, tenant_id, campaign_id, run_id, variant_key, levels, prompt,
                           provider, model, seconds, size, status, cost_usd, actual_cost_usd,
                           submitted_at, ready_at, error_code, reviewed_at)
     SELECT 'var_' || lpad(g::text, 26, '0'), $1, $2, 'run_bench', 'k' || g,
            jsonb_build_object('tone', 'tone' || (g / 10000), 'setting', 'setting' || (g / 1000 % 10),
                               'city', 'city' || (g / 50 % 20), 'offer', 'offer' || (g % 50)),
            'prompt', 'local', 'local-card', 4, '720x1280',
            CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 5 = 0 THEN 'delivered' ELSE 'ready' END,
            0.05, CASE WHEN g % 50 = 0 THEN 0 ELSE 0.05 END,
            timestamptz '2025-01-01', timestamptz '2025-01-01' + (30 + g % 600) * interval '1 s',
            CASE WHEN g % 50 = 0 THEN 'provider_failed' END,
            CASE WHEN g % 3 = 0 THEN now() END
     FROM generate_series(0, ${VARIANTS - 1}) g`,
    p.slice(0, 2),
  );
  await db.query(`INSERT INTO run_variants SELECT 'run_bench', id FROM variants`);
  await db.query(
    `INSERT INTO deliveries (id, tenant_id, variant_id, campaign_id, destination, delivered_at)
     SELECT 'dlv_' || substr(id, 5), tenant_id, id, campaign_id,
            CASE WHEN substr(id, 30)::int % 2 = 0 THEN 'meta' ELSE 'tiktok' END, now()
     FROM variants WHERE status = 'delivered'`,
  );
  // FK checks skipped for the bulk load only (superuser session); the rows satisfy them.
  await db.query(`SET session_replication_role = replica`);
  await db.query(
    `INSERT INTO metrics (tenant_id, variant_id, campaign_id, date, platform, impressions, clicks,
                          conversions, spend_usd, video_views)
     SELECT v.tenant_id, v.id, v.campaign_id, date '2025-01-01' + d, '', n, c, c / 10, n * 0.004, n / 2
     FROM variants v CROSS JOIN generate_series(0, ${DAYS - 1}) d,
          LATERAL (SELECT 800 + (hashtext(v.id || d) & 511) AS n) i,
          LATERAL (SELECT floor(n * (0.01 + 0.001 * (v.levels->>'tone' = 'tone3')::int
                                     + 0.0005 * (v.levels->>'setting' = 'setting1')::int)
                             + (hashtext(v.id || d || 'c') & 1023) / 1024.0)::int AS c) k`,
  );
  await db.query(`SET session_replication_role = DEFAULT`);
  await db.query('VACUUM ANALYZE metrics, variants, run_variants, deliveries');
  const { rows } = await db.query('SELECT count(*)::int AS n FROM metrics');
  await db.end();
  await b.close();
  console.log(
    `seeded ${VARIANTS} variants, ${rows[0].n} metric rows in ${ms(performance.now() - t0)}`,
  );
  return campaign.id as string;
}

type Result = { ms: number[]; peakRss: number; baseRss: number; extra?: string };

/** One phase in a fresh process; prints its JSON result on the last line. */
function child(phase: string, url: string, campaignId: string): Result {
  // With the entry point's module hooks, so the phase loads what the api loads.
  const hooks = fileURLToPath(new URL('../src/main/hooks.ts', import.meta.url));
  const args = ['--import', hooks, self, '--phase', phase, url, campaignId];
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

async function phase(name: string, url: string, campaignId: string): Promise<Result> {
  const times: number[] = [];
  let extra = '';
  if (name === 'floor' || name === 'floor-stream') {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const tenantId = (await pool.query('SELECT id FROM tenants WHERE name = $1', ['bench'])).rows[0]
      .id as string;
    const scope = { tenantId, campaignId, runId: null };
    const baseRss = process.memoryUsage().rss;
    const { peakRss } = await withPeakRss(async () => {
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        let n = 0;
        if (name === 'floor') {
          const client = await pool.connect();
          // The same planner settings the report's transaction uses (see aggregateBatches).
          await client.query('SET jit = off');
          const { text, values } = aggregateQuery(scope);
          n = (await client.query(text, values)).rowCount ?? 0;
          client.release();
        } else {
          for await (const batch of aggregateBatches(pool, scope)) n += batch.length;
        }
        times.push(performance.now() - t0);
        extra = `${n} rows`;
      }
    });
    await pool.end();
    return { ms: times, peakRss, baseRss, extra };
  }

  const b = await attach(url);
  const address = await b.app.listen({ port: 0, host: '127.0.0.1' });
  const baseRss = process.memoryUsage().rss;
  const { peakRss } = await withPeakRss(async () => {
    if (name === 'upload') {
      const pool = b.infra.database.pool;
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM variants ORDER BY id');
      // An ad platform's export is in its own order, not ours: a fixed shuffle.
      const ids = rows.map((r) => r.id).sort((x, y) => hash(x) - hash(y));
      const lines = ids.map((id, i) => `${id},2025-03-01,${1000 + (i % 97)},${i % 31}`);
      const body = `variant_id,date,impressions,clicks\n${lines.join('\n')}\n`;
      for (const label of ['insert', 'unchanged', 'update']) {
        const payload =
          label === 'update' ? body.replaceAll(',2025-03-01,1', ',2025-03-01,2') : body;
        const t0 = performance.now();
        const res = await fetch(`${address}/v1/metrics`, {
          method: 'POST',
          headers: { authorization: b.auth, 'content-type': 'text/csv' },
          body: payload,
        });
        const text = await res.text();
        times.push(performance.now() - t0);
        extra += `${label}: ${res.status} ${text}; `;
      }
      // The database floor: the same rows as a plain INSERT (no checks, no conflict handling),
      // in the same 5,000-row statements and one transaction.
      const client = await pool.connect();
      const t0 = performance.now();
      await client.query('BEGIN');
      for (let i = 0; i < ids.length; i += 5_000) {
        const part = ids.slice(i, i + 5_000);
        await client.query(
          `INSERT INTO metrics (tenant_id, variant_id, campaign_id, date, platform, impressions, clicks)
           SELECT $2, v, $3, '2025-03-02', '', 1000 + n % 97, n % 31
           FROM unnest($1::text[]) WITH ORDINALITY AS u(v, n)`,
          [part, b.tenantId, campaignId],
        );
      }
      await client.query('COMMIT');
      times.push(performance.now() - t0);
      await client.query(`DELETE FROM metrics WHERE date IN ('2025-03-01', '2025-03-02')`);
      client.release();
      return;
    }
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${address}/v1/campaigns/${campaignId}/report?format=${name}`, {
        headers: { authorization: b.auth },
      });
      let bytes = 0;
      // Read and drop: the client keeps nothing, so RSS is the server's.
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) bytes += chunk.length;
      times.push(performance.now() - t0);
      extra = `${res.status}, ${mb(bytes)}`;
    }
  });
  await b.close();
  return { ms: times, peakRss, baseRss, extra };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main() {
  const at = process.argv.indexOf('--phase');
  if (at > 0) {
    const [name, url, campaignId] = process.argv.slice(at + 1);
    console.log(JSON.stringify(await phase(name!, url!, campaignId!)));
    return;
  }
  const db = await scratchDatabase();
  try {
    const campaignId = await seed(db.url);
    // `--only floor,json` runs a subset (a quick look on a shared machine).
    const only = process.argv.indexOf('--only');
    const phases =
      only > 0
        ? process.argv[only + 1]!.split(',')
        : ['floor', 'floor-stream', 'json', 'csv', 'xlsx', 'upload'];
    const results = new Map<string, Result>();
    for (const name of phases) {
      const r = child(name, db.url, campaignId);
      results.set(name, r);
      const rss = `peak RSS ${mb(r.peakRss)} (+${mb(r.peakRss - r.baseRss)} over idle)`;
      if (name === 'upload') {
        const [insert, unchanged, update, floor] = r.ms as [number, number, number, number];
        console.log(
          `upload       100,000-row CSV through the app: new ${ms(insert)}, same again ${ms(unchanged)}, changed ${ms(update)}  ${rss}\n` +
            `             floor: plain INSERT of the same rows ${ms(floor)}; new rows at ${(insert / floor).toFixed(2)}x\n` +
            `             ${r.extra}`,
        );
        continue;
      }
      console.log(
        `${name.padEnd(12)} ${r.ms.map(ms).join(' / ').padEnd(28)} median ${ms(median(r.ms))}  ${rss}  ${r.extra ?? ''}`,
      );
    }
    const floorResult = results.get('floor');
    if (!floorResult) return;
    const floor = median(floorResult.ms);
    console.log(`\nfloor: the aggregation query alone, plain query, median ${ms(floor)}`);
    for (const name of ['floor-stream', 'json', 'csv', 'xlsx']) {
      const r = results.get(name);
      if (!r) continue;
      const t = median(r.ms);
      console.log(`${name.padEnd(12)} ${(t / floor).toFixed(2)}x the floor (target ≤ 2x, ≤ 2 s)`);
    }
  } finally {
    await db.drop();
  }
}

if (import.meta.main) await main();
