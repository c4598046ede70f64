/**
 * Throughput through 1, 2 and 3 worker processes (`admatrix worker`, children) on an instant
 * fake gateway: variants per minute from POST /runs to every variant terminal, printed as
 * ratios against 1 worker in the same run (issue 15). One Postgres, one Redis, one media store.
 * Rounds go 1, 2, 3, 3, 2, 1 workers and each count keeps its faster round, so a load that
 * drifts during the bench (a shared machine) weighs on every count alike.
 * THROUGHPUT_VARIANTS sets a round's size (default 120; the issue's 10,000 is most of an hour
 * of CPU per round on 2 cores: every variant is an ffprobe, a thumbnail and two stores).
 * `node bench/run.ts throughput`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { benchApp } from './lib.ts';

const terminal = ['ready', 'failed', 'blocked', 'cancelled', 'held'];

/** A worker process, resolved once it says it started; its output is drained, not kept. */
function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [new URL('../src/main/cli.ts', import.meta.url).pathname, 'worker'],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-4096);
      if (seen.includes('"worker started"')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started`)));
  });
}

async function stopWorker(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function main() {
  const n = Number(process.env.THROUGHPUT_VARIANTS ?? 120);
  // Two dimensions whose product is exactly n.
  let tones = Math.floor(Math.sqrt(n));
  while (n % tones) tones--;
  const fake = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 0 } });
  const dir = await mkdtemp(join(tmpdir(), 'amx-throughput-'));
  const b = await benchApp({
    OPENAI_API_KEY: 'bench',
    OPENAI_BASE_URL: fake.baseURL,
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
  });
  const env = {
    DATABASE_URL: b.config.DATABASE_URL,
    REDIS_URL: b.config.REDIS_URL,
    QUEUE_PREFIX: b.config.QUEUE_PREFIX,
    STORAGE_DIR: b.config.STORAGE_DIR,
    WORK_DIR: b.config.WORK_DIR,
    OPENAI_API_KEY: 'bench',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_MAX_CONCURRENT: '1000',
    OPENAI_RPM: '1000000',
    RENDER_CONCURRENCY: '8',
    RENDER_POLL_INTERVAL_MS: '50',
    DATABASE_POOL_MAX: '5',
    LOG_LEVEL: 'info',
  };
  const post = async (url: string, payload: object, headers: Record<string, string> = {}) => {
    const res = await b.app.inject({
      method: 'POST',
      url,
      headers: { authorization: b.auth, ...headers },
      payload,
    });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string; variant_count: number };
  };
  const rates: { workers: number; variants: number; ms: number; perMin: number }[] = [];
  try {
    for (const [round, workers] of [1, 2, 3, 3, 2, 1].entries()) {
      const children = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
      try {
        // A campaign of its own per round: no prompt is ever one an earlier round rendered.
        const campaign = await post('/v1/campaigns', {
          name: `throughput ${round}`,
          brief: { product: 'Fizz', key_message: 'Cold' },
          prompt_template: `Round ${round}: {{tone}} in {{setting}}`,
          video: { provider: 'openai', seconds: 4, size: '720x1280' },
        });
        const levels = (k: string, count: number) =>
          Array.from({ length: count }, (_, i) => ({ key: `${k}${i}` }));
        const matrix = await post(`/v1/campaigns/${campaign.id}/matrices`, {
          dimensions: [
            { key: 'tone', levels: levels('t', tones) },
            { key: 'setting', levels: levels('s', n / tones) },
          ],
        });
        const started = performance.now();
        const run = await post(
          `/v1/campaigns/${campaign.id}/runs`,
          { matrix_id: matrix.id, design: { type: 'full' } },
          { 'idempotency-key': `throughput-${round}` },
        );
        for (;;) {
          const { rows } = await b.infra.database.pool.query<{ done: number }>(
            `SELECT count(*) FILTER (WHERE v.status = ANY($2))::int AS done
             FROM variants v JOIN run_variants rv ON rv.variant_id = v.id WHERE rv.run_id = $1`,
            [run.id, terminal],
          );
          if (rows[0]!.done >= run.variant_count) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const ms = performance.now() - started;
        rates.push({
          workers,
          variants: run.variant_count,
          ms,
          perMin: run.variant_count / (ms / 60_000),
        });
      } finally {
        await Promise.all(children.map(stopWorker));
      }
    }
  } finally {
    await b.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
  const best = [1, 2, 3].map(
    (w) => rates.filter((r) => r.workers === w).sort((x, y) => y.perMin - x.perMin)[0]!,
  );
  console.log(
    `rounds (workers: variants/min): ${rates.map((r) => `${r.workers}: ${r.perMin.toFixed(0)}`).join(', ')}`,
  );
  const floor = best[0]!.perMin;
  console.log('workers  variants  seconds  variants/min  vs 1 worker   (faster of two rounds)');
  for (const r of best)
    console.log(
      `${String(r.workers).padStart(7)}  ${String(r.variants).padStart(8)}  ${(r.ms / 1000).toFixed(1).padStart(7)}  ${r.perMin.toFixed(0).padStart(12)}  ${(r.perMin / floor).toFixed(2).padStart(10)}x`,
    );
}
