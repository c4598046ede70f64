/**
 * Fan-out: POST /runs of 10,000 variants to 202, against a floor measured in the same run: a
 * raw COPY of the same rows into a copy of the variants table plus addBulk of the same jobs.
 * Then 100,000 variants against the real API process (`admatrix api`, a child): time, and its
 * resident memory at start-up and at its peak during the POST (Linux /proc).
 * `node bench/run.ts fanout`
 */

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { from as copyFrom } from 'pg-copy-streams';
import { ulid } from 'ulid';
import { createDatabase } from '../src/db/client.ts';
import { createTenantService } from '../src/tenants/service.ts';
import { benchApp, mb, ms, scratchDatabase } from './lib.ts';

type Bench = Awaited<ReturnType<typeof benchApp>>;
type Post = (url: string, payload: object) => Promise<{ statusCode: number; body: string }>;

const injectPost =
  (b: Bench): Post =>
  (url, payload) =>
    b.app.inject({ method: 'POST', url, headers: { authorization: b.auth }, payload });

async function setup(post: Post, levels: number[]) {
  const dims = ['tone', 'setting', 'city', 'partner', 'music'].slice(0, levels.length);
  const campaign = JSON.parse(
    (
      await post('/v1/campaigns', {
        name: 'bench',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: `Ad: ${dims.map((d) => `{{${d}}}`).join(', ')}`,
        video: { provider: 'local', seconds: 4, size: '720x1280' },
      })
    ).body,
  );
  const matrix = await post(`/v1/campaigns/${campaign.id}/matrices`, {
    dimensions: dims.map((key, d) => ({
      key,
      levels: Array.from({ length: levels[d]! }, (_, i) => ({ key: `${key}${i}` })),
    })),
  });
  if (matrix.statusCode !== 201) throw new Error(matrix.body);
  return { campaignId: campaign.id as string, matrixId: JSON.parse(matrix.body).id as string };
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

/**
 * The floor: the same number of rows COPYed into a twin of variants, plus addBulk of the jobs
 * in chunks of 1,000, one at a time (lanes = 1) or, as admatrix enqueues, two at a time.
 */
async function floor(b: Bench, n: number, lanes: number) {
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
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const from = next;
      next += 1000;
      await queue.addBulk(
        ids
          .slice(from, from + 1000)
          .map((id) => ({ name: 'render-local', data: { variantId: id }, opts: { jobId: id } })),
      );
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const elapsed = performance.now() - start;
  await queue.obliterate({ force: true });
  await queue.close();
  await db.db.execute(sql`DROP TABLE variants_floor`);
  return elapsed;
}

/** Resident and peak resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function until(check: () => Promise<boolean>, deadlineMs: number, what: string) {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What the image sets (Dockerfile, NODE_OPTIONS): a heap sized for a service whose live set is
 * tens of MB. Without it V8 sizes the heap from the host's memory (a 4.4 GB limit on a 24 GiB
 * machine) and lets garbage pile up to hundreds of MB before collecting it.
 */
const imageNodeOptions = '--max-old-space-size=512 --max-semi-space-size=8';

/** 100,000 variants through the api process as it is deployed, over HTTP. */
async function hundredThousand(nodeOptions: string) {
  const scratch = await scratchDatabase();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench${ulid().toLowerCase().slice(-6)}`;
  const database = createDatabase({ url: scratch.url, max: 1 });
  const { key } = await createTenantService({ db: database.db }).createKey({ tenant: 'bench' });
  await database.pool.end();
  const port = await freePort();
  const api = spawn(
    process.execPath,
    [new URL('../src/main/cli.ts', import.meta.url).pathname, 'api'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: scratch.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '0',
        MAX_VARIANTS_PER_RUN: '100000',
        NODE_OPTIONS: nodeOptions,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  try {
    await until(
      () =>
        fetch(`${base}/readyz`)
          .then((r) => r.ok)
          .catch(() => false),
      30_000,
      'the api to be ready',
    );
    const post: Post = async (url, payload) => {
      const res = await fetch(base + url, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
      });
      return { statusCode: res.status, body: await res.text() };
    };
    const s = await setup(post, [10, 10, 10, 10, 10]);
    const startup = memoryOf(api.pid!);
    // Resets VmHWM, so the peak read after the POST is the POST's own.
    writeFileSync(`/proc/${api.pid}/clear_refs`, '5');
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/campaigns/${s.campaignId}/runs`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'fan100k' },
      body: JSON.stringify({ matrix_id: s.matrixId, design: { type: 'full' } }),
    });
    const elapsed = performance.now() - t0;
    if (res.status !== 202) throw new Error(await res.text());
    return { ms: elapsed, startup, during: memoryOf(api.pid!) };
  } finally {
    api.kill('SIGTERM');
    await new Promise((r) => api.once('exit', r));
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    await redis.quit();
    await scratch.drop();
  }
}

export async function main() {
  console.log(
    'fan-out, 100,000 variants (POST /runs to 202; the api as a child process, over HTTP)',
  );
  for (const [label, options] of [
    ["the image's NODE_OPTIONS", imageNodeOptions],
    ["V8's defaults for this host", ''],
  ] as const) {
    const r = await hundredThousand(options);
    console.log(
      `  ${label.padEnd(28)} ${ms(r.ms).padStart(8)}   RSS ${mb(r.startup.rss)} ready, peak ${mb(r.during.peak)} during the POST`,
    );
  }
  console.log('  (target: peak RSS < 300 MB)');
  const b = await benchApp();
  try {
    // Warm-up: JIT, connection pools, prepared plans.
    const warm = await setup(injectPost(b), [10, 10, 10]);
    await postRun(b, warm, 'warm');

    const s = await setup(injectPost(b), [10, 10, 10, 10]);
    const rounds = 5;
    const runs: number[] = [];
    const floors: number[] = [];
    const laneFloors: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const run = await postRun(b, s, `fan10k-${i}`);
      runs.push(performance.now() - t0);
      if (run.variant_count !== 10_000) throw new Error('expected 10,000 variants');
      floors.push(await floor(b, 10_000, 1));
      laneFloors.push(await floor(b, 10_000, 2));
      // The next run must insert again, not reuse: empty the campaign.
      await b.infra.database.db.execute(
        sql`TRUNCATE run_variants, variants, runs, idempotency_keys CASCADE`,
      );
    }
    const best = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratio = (floor: number[]) =>
      `${(best(runs) / best(floor)).toFixed(2)}x best to best, ${(median(runs) / median(floor)).toFixed(2)}x median to median`;
    console.log(`fan-out, 10,000 variants (POST /runs to 202, in-process, ${rounds} rounds)`);
    console.log(`  admatrix       ${ms(best(runs))}   (${runs.map(ms).join(', ')})`);
    console.log(
      `  floor          ${ms(best(floors))}   (COPY + addBulk one chunk at a time: ${floors.map(ms).join(', ')})`,
    );
    console.log(
      `  floor, 2 lanes ${ms(best(laneFloors))}   (COPY + addBulk two chunks at a time, as admatrix does: ${laneFloors.map(ms).join(', ')})`,
    );
    console.log(`  ratio          ${ratio(floors)} (target <= 1.5x and <= 1 s)`);
    console.log(`  ratio, 2 lanes ${ratio(laneFloors)}`);
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
