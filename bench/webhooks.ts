/**
 * Webhook delivery, printed against floors measured in the same run: `node bench/webhooks.ts`.
 * (1) Throughput: 10 endpoints on one loopback receiver, E events committed at once, until every
 *     (event, endpoint) webhook has arrived. Floor: the same number of signed POSTs sent by a bare
 *     loop at the same concurrency straight to the receiver (signWebhook + the sender; no
 *     Postgres, no queue, no dispatcher).
 * (2) Lag: a run on the local provider; each variant.ready webhook's arrival minus the variant's
 *     ready_at, p50 and p99. Floor: one signed POST's round trip, p50 and p99, one at a time.
 * The receiver shares the process (and its event loop) with the workers, as the floor's does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { workerProcessors } from '../src/main/worker.ts';
import { createRedis } from '../src/queue/redis.ts';
import { startWorkers } from '../src/queue/workers.ts';
import { createDispatchNudge } from '../src/webhooks/jobs.ts';
import { startEventListener } from '../src/webhooks/listener.ts';
import {
  createWebhookSender,
  generateWebhookSecret,
  signWebhook,
} from '../src/webhooks/sender/index.ts';
import { benchApp, ms } from './lib.ts';

const ENDPOINTS = 10;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 48);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ratio = (x: number, floor: number) => `${(x / floor).toFixed(2)}x`;
const ms1 = (t: number) => `${t.toFixed(1)} ms`;

function startReceiver() {
  const arrivals = new Map<string, number>();
  const counts = new Map<string, number>();
  const waiters: { prefix: string; n: number; resolve: () => void }[] = [];
  const countOf = (prefix: string) =>
    [...counts].reduce((sum, [path, n]) => sum + (path.startsWith(prefix) ? n : 0), 0);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      counts.set(req.url ?? '', (counts.get(req.url ?? '') ?? 0) + 1);
      arrivals.set(
        `${req.url} ${req.headers['webhook-id']}`,
        performance.timeOrigin + performance.now(),
      );
      res.writeHead(204).end();
      for (const w of waiters.filter((w) => countOf(w.prefix) >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  return new Promise<{
    url: (path: string) => string;
    arrivals: Map<string, number>;
    /** Resolves once n requests to paths starting with prefix have arrived. */
    until: (prefix: string, n: number) => Promise<void>;
    close: () => Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: (path) => `http://127.0.0.1:${port}${path}`,
        arrivals,
        until: (prefix, n) =>
          countOf(prefix) >= n
            ? Promise.resolve()
            : new Promise((r) => waiters.push({ prefix, n, resolve: r })),
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-webhooks-'));
  const b = await benchApp({
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    DATABASE_POOL_MAX: '24',
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    LOCAL_MAX_CONCURRENT: '4',
    RENDER_CONCURRENCY: '4',
    RENDER_POLL_INTERVAL_MS: '20',
  });
  const logger = pino({ level: 'silent' });
  const connection = createRedis(b.config.REDIS_URL, 'worker');
  const workers = startWorkers({
    connection,
    prefix: b.config.QUEUE_PREFIX,
    logger,
    registry: workerProcessors(b.config, b.infra, logger),
  });
  const listener = startEventListener({
    url: b.config.DATABASE_URL,
    logger,
    onNotify: createDispatchNudge(b.infra.queues, logger),
  });
  const rx = await startReceiver();
  const post = (url: string, payload: object) =>
    b.app.inject({ method: 'POST', url, headers: { authorization: b.auth }, payload });
  const { tenant_id: tenantId } = (
    await b.app.inject({ url: '/v1/me', headers: { authorization: b.auth } })
  ).json();
  try {
    // (1) Throughput.
    for (let i = 0; i < ENDPOINTS; i++) {
      const res = await post('/v1/webhook-endpoints', {
        url: rx.url(`/t${i}`),
        events: ['run.completed'],
      });
      if (res.statusCode !== 201) throw new Error(res.body);
    }
    const total = EVENTS * ENDPOINTS;
    console.log(
      `\n(1) ${EVENTS} events x ${ENDPOINTS} endpoints = ${total} webhooks, delivery concurrency ${CONCURRENCY}`,
    );
    const t0 = performance.now();
    await b.infra.database.db.execute(sql`
      INSERT INTO events (id, tenant_id, type, data)
      SELECT 'evt_' || lpad(to_hex(g), 26, '0'), ${tenantId}, 'run.completed', jsonb_build_object('run_id', 'run_bench', 'n', g)
      FROM generate_series(1, ${EVENTS}) g`);
    await rx.until('/t', total);
    const oursMs = performance.now() - t0;

    const sender = createWebhookSender({ allowHosts: ['127.0.0.1'], allowHttp: ['127.0.0.1'] });
    const secret = generateWebhookSecret();
    const body = JSON.stringify({
      id: 'evt_floor',
      type: 'run.completed',
      created_at: new Date().toISOString(),
      data: { run_id: 'run_bench' },
    });
    const sendOne = (i: number) =>
      sender.send({
        url: rx.url(`/floor${i % ENDPOINTS}`),
        headers: signWebhook({
          id: `evt_floor_${i}`,
          timestamp: new Date(),
          body,
          secrets: [secret],
        }),
        body,
      });
    const f0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < total) await sendOne(next++);
      }),
    );
    const floorMs = performance.now() - f0;
    const oursRate = (total / oursMs) * 1000;
    const floorRate = (total / floorMs) * 1000;
    console.log(
      `  admatrix   ${ms(oursMs).padStart(9)}  ${oursRate.toFixed(0).padStart(6)} webhooks/s  ${((EVENTS / oursMs) * 1000).toFixed(0).padStart(5)} events/s`,
    );
    console.log(
      `  floor      ${ms(floorMs).padStart(9)}  ${floorRate.toFixed(0).padStart(6)} webhooks/s  (bare signed POSTs)`,
    );
    console.log(`  throughput ${ratio(oursRate, floorRate)} of the floor`);

    // (2) Lag from ready to arrival.
    if (VARIANTS === 0) return;
    const lagEndpoint = await post('/v1/webhook-endpoints', {
      url: rx.url('/lag'),
      events: ['variant.ready'],
    });
    if (lagEndpoint.statusCode !== 201) throw new Error(lagEndpoint.body);
    const tones = Array.from({ length: VARIANTS / 4 }, (_, i) => `tone${i}`);
    const campaign = (
      await post('/v1/campaigns', {
        name: 'bench',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'Ad: {{tone}} {{setting}}',
        video: { provider: 'local', seconds: 1, size: '320x180' },
      })
    ).json();
    const matrix = (
      await post(`/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [
          { key: 'tone', levels: tones.map((key) => ({ key })) },
          { key: 'setting', levels: ['a', 'b', 'c', 'd'].map((key) => ({ key })) },
        ],
      })
    ).json();
    const run = await b.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaign.id}/runs`,
      headers: { authorization: b.auth, 'idempotency-key': 'bench-lag' },
      payload: { matrix_id: matrix.id, design: { type: 'full' } },
    });
    if (run.statusCode !== 202) throw new Error(run.body);
    console.log(
      `\n(2) lag from ready to webhook arrival, ${VARIANTS} variants rendered on the local provider`,
    );
    await rx.until('/lag', VARIANTS);
    const { rows } = await b.infra.database.db.execute<{ id: string; ready_at: string }>(
      sql`SELECT e.id, v.ready_at FROM events e JOIN variants v ON v.id = e.data ->> 'variant_id' WHERE e.type = 'variant.ready'`,
    );
    const lags = rows
      .map((r) => rx.arrivals.get(`/lag ${r.id}`)! - new Date(r.ready_at).getTime())
      .sort((a, b) => a - b);
    const single: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s0 = performance.now();
      await sendOne(i);
      single.push(performance.now() - s0);
    }
    single.sort((a, b) => a - b);
    const [lag50, lag99, f50, f99] = [
      pct(lags, 50),
      pct(lags, 99),
      pct(single, 50),
      pct(single, 99),
    ];
    console.log(
      `  admatrix   p50 ${ms1(lag50).padStart(7)}   p99 ${ms1(lag99).padStart(7)}   (commit, NOTIFY, dispatch, job, signed POST)`,
    );
    console.log(
      `  floor      p50 ${ms1(f50).padStart(7)}   p99 ${ms1(f99).padStart(7)}   (one signed POST)`,
    );
    console.log(`  lag        p50 ${ratio(lag50, f50)}, p99 ${ratio(lag99, f99)} the floor`);
  } finally {
    await listener.close();
    await workers.close();
    connection.disconnect();
    await rx.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
