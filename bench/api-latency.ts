/**
 * The api's latency under load (issue 15): 100 connections polling `GET /v1/runs/{id}` (a run's
 * progress) while fan-outs are in flight — one after another, each a fresh campaign whose
 * 20,000-variant run is written and queued by `POST /v1/campaigns/{id}/runs` — against a
 * Fastify hello-world driven the same way in the same run (the floor: what this machine and
 * autocannon allow at all). Both servers listen on loopback in this process, as the api does.
 * `node bench/run.ts api-latency`
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { benchApp, ms } from './lib.ts';

const CONNECTIONS = 100;
const SECONDS = Number(process.env.LATENCY_SECONDS ?? 10);
const FANOUT_LEVELS = [10, 10, 10, 20]; // 20,000 variants a run

type Result = autocannon.Result;

function drive(url: string, headers: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: SECONDS, headers },
      (err: Error | null, result: Result) => (err ? reject(err) : resolve(result)),
    );
  });
}

function line(name: string, r: Result): string {
  const l = r.latency;
  return `${name.padEnd(34)} p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  ${Math.round(r.requests.average)} req/s  non-2xx ${r.non2xx}  errors ${r.errors}`;
}

async function floor(): Promise<Result> {
  const hello = Fastify();
  hello.get('/hello', async () => ({ hello: 'world' }));
  await hello.listen({ host: '127.0.0.1', port: 0 });
  const address = hello.server.address() as { port: number };
  try {
    return await drive(`http://127.0.0.1:${address.port}/hello`);
  } finally {
    await hello.close();
  }
}

export async function main() {
  const b = await benchApp({ MAX_VARIANTS_PER_RUN: '100000' });
  const headers = { authorization: b.auth, 'content-type': 'application/json' };
  await b.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(b.app.server.address() as { port: number }).port}`;
  const post = async (path: string, body: object, extra: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...headers, ...extra },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** A fresh campaign and matrix each time: a matrix's combinations are generated once. */
  const campaignWithMatrix = async (levels: number[]) => {
    const dims = levels.map((_, d) => `d${d}`);
    const campaign = await post('/v1/campaigns', {
      name: 'latency bench',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: `Ad: ${dims.map((d) => `{{${d}}}`).join(', ')}`,
      video: { provider: 'local', seconds: 4, size: '720x1280' },
    });
    const matrix = await post(`/v1/campaigns/${campaign.id}/matrices`, {
      dimensions: dims.map((key, d) => ({
        key,
        levels: Array.from({ length: levels[d]! }, (_, i) => ({ key: `${key}l${i}` })),
      })),
    });
    return { campaignId: campaign.id as string, matrixId: matrix.id as string };
  };
  const startRun = (s: { campaignId: string; matrixId: string }, key: string) =>
    post(
      `/v1/campaigns/${s.campaignId}/runs`,
      { matrix_id: s.matrixId, design: { type: 'full' } },
      { 'idempotency-key': key },
    );
  try {
    const floorResult = await floor();
    // The run whose progress is polled: small, so the poll is the api's own cost, not its size.
    const polled = await startRun(await campaignWithMatrix([4, 4]), 'polled');
    const progressUrl = `${base}/v1/runs/${polled.id}`;
    const idle = await drive(progressUrl, { authorization: b.auth });

    let loading = true;
    let fanouts = 0;
    let fanoutVariants = 0;
    let busyMs = 0;
    const fanoutLoop = (async () => {
      while (loading) {
        const s = await campaignWithMatrix(FANOUT_LEVELS);
        const start = performance.now();
        const run = await startRun(s, `fanout-${fanouts}`);
        busyMs += performance.now() - start;
        fanouts++;
        fanoutVariants += Number(run.variant_count);
      }
    })();
    const loadStart = performance.now();
    const loaded = await drive(progressUrl, { authorization: b.auth });
    const windowMs = performance.now() - loadStart;
    loading = false;
    await fanoutLoop;

    console.log(`${CONNECTIONS} connections, ${SECONDS} s each, loopback, one process`);
    console.log(line('floor: fastify hello-world', floorResult));
    console.log(line('GET /v1/runs/{id}, idle', idle));
    console.log(line('GET /v1/runs/{id}, during fan-outs', loaded));
    console.log(
      `  fan-outs during the window: ${fanouts} runs, ${fanoutVariants.toLocaleString('en')} variants written and queued, POSTs busy ${ms(busyMs)} of ${ms(windowMs)}`,
    );
    const ratio = (r: Result) => (r.latency.p99 / Math.max(floorResult.latency.p99, 1)).toFixed(1);
    console.log(`  p99 against the floor: idle ${ratio(idle)}x, during fan-outs ${ratio(loaded)}x`);
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
