/**
 * Fan-out: POST /runs of 10,000 variants to 202, against a floor measured in the same run: a
 * raw COPY of the same rows into a copy of the variants table plus addBulk of the same jobs.
 * Then 100,000 variants: time and peak RSS. `node bench/fanout.ts`
 */

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { from as copyFrom } from 'pg-copy-streams';
import { ulid } from 'ulid';
import { benchApp, mb, ms, withPeakRss } from './lib.ts';

type Bench = Awaited<ReturnType<typeof benchApp>>;

async function setup(b: Bench, levels: number[]) {
  const dims = ['tone', 'setting', 'city', 'partner', 'music'].slice(0, levels.length);
  const post = (url: string, payload: object) =>
    b.app.inject({ method: 'POST', url, headers: { authorization: b.auth }, payload });
  const campaign = (
    await post('/v1/campaigns', {
      name: 'bench',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: `Ad: ${dims.map((d) => `{{${d}}}`).join(', ')}`,
      video: { provider: 'local', seconds: 4, size: '720x1280' },
    })
  ).json();
  const matrix = await post(`/v1/campaigns/${campaign.id}/matrices`, {
    dimensions: dims.map((key, d) => ({
      key,
      levels: Array.from({ length: levels[d]! }, (_, i) => ({ key: `${key}${i}` })),
    })),
  });
  if (matrix.statusCode !== 201) throw new Error(matrix.body);
  return { campaignId: campaign.id as string, matrixId: matrix.json().id as string };
}

async function postRun(b: Bench, s: { campaignId: string; matrixId: string }, key: string) {
  const res = await b.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${s.campaignId}/runs`,
    headers: { authorization: b.auth, 'idempotency-key': key },
    payload: { matrix_id: s.matrixId, design: { type: 'full' } },
  });
  if (res.statusCode !== 202) throw new Error(res.body);
  return res.json() as { id: string; variant_count: number };
}

/** The floor: the same number of rows COPYed into a twin of variants, plus addBulk of the jobs. */
async function floor(b: Bench, n: number) {
  const db = b.infra.database;
  await db.db.execute(
    sql`CREATE TABLE variants_floor (LIKE variants INCLUDING DEFAULTS INCLUDING INDEXES)`,
  );
  const { rows } = await db.db.execute<{ tenant_id: string; campaign_id: string; run_id: string }>(
    sql`SELECT tenant_id, campaign_id, run_id FROM variants LIMIT 1`,
  );
  const ref = rows[0]!;
  const ids = Array.from({ length: n }, () => `var_${ulid().toLowerCase()}`);
  const lines = function* () {
    for (let i = 0; i < n; i++) {
      yield `${ids[i]}\t${ref.tenant_id}\t${ref.campaign_id}\t${ref.run_id}\tkey${i}\t{"tone":"t${i}"}\tAd: t${i}, s, c, p\tlocal\tcard-v1\t4\t720x1280\tpending\t0\n`;
    }
  };
  const queue = new Queue('render-local', {
    connection: b.infra.redis,
    prefix: `${b.config.QUEUE_PREFIX}floor`,
  });
  const start = performance.now();
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await pipeline(
      Readable.from(lines()),
      client.query(
        copyFrom(
          'COPY variants_floor (id, tenant_id, campaign_id, run_id, variant_key, levels, prompt, provider, model, seconds, size, status, cost_usd) FROM STDIN',
        ),
      ),
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      ids
        .slice(i, i + 1000)
        .map((id) => ({ name: 'render-local', data: { variantId: id }, opts: { jobId: id } })),
    );
  }
  const elapsed = performance.now() - start;
  await queue.obliterate({ force: true });
  await queue.close();
  await db.db.execute(sql`DROP TABLE variants_floor`);
  return elapsed;
}

export async function main() {
  const b = await benchApp({ MAX_VARIANTS_PER_RUN: '100000' });
  const baseline = process.memoryUsage().rss;
  try {
    // 100,000 first, while the process holds nothing else, so its peak RSS is its own.
    const big = await setup(b, [10, 10, 10, 10, 10]);
    const before = process.memoryUsage();
    const r = await withPeakRss(() => postRun(b, big, 'fan100k'));
    console.log(
      `  baseline       rss ${mb(baseline)} after start-up; ${mb(before.rss)} before the run`,
    );
    console.log('fan-out, 100,000 variants (first, in a fresh process)');
    console.log(`  time           ${ms(r.ms)}`);
    console.log(
      `  peak RSS       ${mb(r.peakRss)} (process maxRSS ${mb(process.resourceUsage().maxRSS * 1024)}; target < 300 MB)`,
    );

    // Warm-up: JIT, connection pools, prepared plans.
    const warm = await setup(b, [10, 10, 10]);
    await postRun(b, warm, 'warm');

    const s = await setup(b, [10, 10, 10, 10]);
    const runs: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const run = await postRun(b, { ...s, matrixId: s.matrixId }, `fan10k-${i}`);
      runs.push(performance.now() - t0);
      if (i === 0 && run.variant_count !== 10_000) throw new Error('expected 10,000 variants');
      floors.push(await floor(b, 10_000));
      // The next run must insert again, not reuse: start from a fresh campaign each time.
      await b.infra.database.db.execute(
        sql`TRUNCATE run_variants, variants, runs, idempotency_keys CASCADE`,
      );
    }
    const best = (xs: number[]) => Math.min(...xs);
    console.log('fan-out, 10,000 variants (POST /runs to 202, best of 3)');
    console.log(`  admatrix       ${ms(best(runs))}   (runs: ${runs.map(ms).join(', ')})`);
    console.log(
      `  floor          ${ms(best(floors))}   (COPY + addBulk: ${floors.map(ms).join(', ')})`,
    );
    console.log(
      `  ratio          ${(best(runs) / best(floors)).toFixed(2)}x the floor (target <= 1.5x and <= 1 s)`,
    );
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
