/**
 * Pipeline throughput and provider limits, with the worker as a real child process.
 * (1) variants/s from submit to ready on an instant fake gateway, no overlay, against a floor
 *     measured in the same run: a raw SDK loop (create, poll, download) at the same
 *     concurrency with no database or queue; and the worker's CPU per variant (its own plus
 *     its ffmpeg children, from /proc).
 * (2) with the fake enforcing R create calls/min and C concurrent renders, the most creates
 *     any minute held as a share of R, the peak concurrency (must be <= C) and the 429s
 *     received. R binds: it is below C / render time and the run outlasts a minute.
 * `node bench/pipeline.ts`
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { benchApp } from './lib.ts';

const cli = fileURLToPath(new URL('../src/main/cli.ts', import.meta.url));
const ticks = 100; // USER_HZ on Linux

function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime (fields 14-17 of stat; 12-15 after the comm split)
  return fields.slice(11, 15).reduce((a, f) => a + Number(f), 0) / ticks;
}

/**
 * One run of `variants` through the api (in process) and a worker (a child process), submit
 * to completed. With `fake` the worker renders on that OpenAI-shaped gateway; any other
 * provider comes in through `env` (the worker's) and `apiEnv` (the api validates campaigns
 * against the providers it has keys for), with `video` naming it.
 */
export async function scenario(opts: {
  variants: number;
  env: Record<string, string>;
  fake?: Awaited<ReturnType<typeof startFakeVideoServer>>;
  apiEnv?: Record<string, string>;
  video?: Record<string, unknown>;
  /** Started just before the run is submitted; its finisher runs once the worker has exited. */
  probe?: (b: Awaited<ReturnType<typeof benchApp>>) => Promise<() => Promise<void>>;
}) {
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-'));
  const openai: Record<string, string> = opts.fake
    ? { OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: opts.fake.baseURL }
    : {};
  const b = await benchApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    MAX_VARIANTS_PER_RUN: '100000',
    ...openai,
    ...opts.apiEnv,
  });
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: b.config.DATABASE_URL,
    REDIS_URL: b.config.REDIS_URL,
    QUEUE_PREFIX: b.config.QUEUE_PREFIX,
    STORAGE_DIR: b.config.STORAGE_DIR,
    WORK_DIR: b.config.WORK_DIR,
    ...openai,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const worker = spawn(process.execPath, [cli, 'worker'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The worker's `render step` log lines: where a variant's time goes, step by step.
  const steps: { step: string; to: string; ms: number }[] = [];
  let finish: (() => Promise<void>) | undefined;
  let out = '';
  await new Promise<void>((resolve) => {
    worker.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('worker started')) resolve();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"render step"')) continue;
        const { step, to, ms } = JSON.parse(line) as { step: string; to: string; ms: number };
        steps.push({ step, to, ms });
      }
    });
  });
  try {
    const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
      b.app.inject({
        method: 'POST',
        url,
        headers: { authorization: b.auth, ...headers },
        payload,
      });
    // Two dimensions: one may hold at most 50 levels.
    const levels = (prefix: string, k: number) =>
      Array.from({ length: k }, (_, i) => ({ key: `${prefix}${i}` }));
    const campaign = (
      await post('/v1/campaigns', {
        name: 'bench',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'Ad {{tone}} {{setting}}',
        video: opts.video ?? { provider: 'openai', seconds: 4, size: '720x1280' },
      })
    ).json();
    if (!campaign.id) throw new Error(JSON.stringify(campaign));
    const matrix = (
      await post(`/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [
          { key: 'tone', levels: levels('t', 20) },
          { key: 'setting', levels: levels('s', opts.variants / 20) },
        ],
      })
    ).json();
    if (!matrix.id) throw new Error(JSON.stringify(matrix));
    finish = await opts.probe?.(b);
    const cpu0 = cpuSeconds(worker.pid!);
    const t0 = performance.now();
    const run = (
      await post(
        `/v1/campaigns/${campaign.id}/runs`,
        { matrix_id: matrix.id, design: { type: 'full' } },
        { 'idempotency-key': 'bench' },
      )
    ).json();
    for (;;) {
      const state = (
        await b.app.inject({
          method: 'GET',
          url: `/v1/runs/${run.id}`,
          headers: { authorization: b.auth },
        })
      ).json();
      if (state.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(worker.pid!) - cpu0;
    return { seconds, cpu, steps };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    try {
      await finish?.();
    } finally {
      await b.close();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The floor: the SDK alone, same concurrency, same fake, no database, queue or storage. */
export async function sdkFloor(
  fake: Awaited<ReturnType<typeof startFakeVideoServer>>,
  n: number,
  concurrency: number,
) {
  const client = new OpenAI({ apiKey: 'bench', baseURL: fake.baseURL, maxRetries: 0 });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const video = await client.videos.create({
          prompt: `floor ${i}`,
          seconds: '4',
          size: '720x1280',
        });
        while ((await client.videos.retrieve(video.id)).status !== 'completed')
          await new Promise((r) => setTimeout(r, 5));
        const res = await client.videos.downloadContent(video.id);
        await res.arrayBuffer();
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

export async function main() {
  const n = 300;
  const concurrency = 8;
  const instant = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 0 } });
  try {
    const floor = await sdkFloor(instant, n, concurrency);
    instant.reset();
    const r = await scenario({
      variants: n,
      fake: instant,
      env: {
        RENDER_CONCURRENCY: String(concurrency),
        OPENAI_RPM: '1000000',
        OPENAI_MAX_CONCURRENT: '1000',
        RENDER_POLL_INTERVAL_MS: '20',
      },
    });
    console.log(
      `pipeline, ${n} variants on an instant gateway, no overlay, worker concurrency ${concurrency}`,
    );
    console.log(
      `  admatrix       ${(n / r.seconds).toFixed(1)} variants/s (${r.seconds.toFixed(1)} s, submit to ready incl. fetch, probe, thumbnail)`,
    );
    console.log(
      `  floor          ${(n / floor).toFixed(1)} variants/s (raw SDK create/poll/download loop, ${floor.toFixed(1)} s)`,
    );
    console.log(`  ratio          ${(r.seconds / floor).toFixed(2)}x the floor's time`);
    console.log(
      `  worker CPU     ${((r.cpu / n) * 1000).toFixed(1)} ms per variant (process + ffmpeg children)`,
    );
  } finally {
    await instant.close();
  }

  // R must bind, so it sits below C / render time (6 / 0.4 s = 900/min) and the run outlasts
  // one window: the first R creates go out at once, the rest wait for the window to slide.
  const rpm = 240;
  const cap = 6;
  const windowMs = 60_000;
  const limited = await startFakeVideoServer({
    rpm,
    rpmWindowMs: windowMs,
    maxConcurrent: cap,
    defaults: { queuedMs: 0, renderMs: 400 },
  });
  try {
    const variants = 360;
    const r = await scenario({
      variants,
      fake: limited,
      env: {
        RENDER_CONCURRENCY: '32',
        OPENAI_RPM: String(rpm),
        OPENAI_MAX_CONCURRENT: String(cap),
        RENDER_POLL_INTERVAL_MS: '50',
      },
    });
    const calls = limited.createCalls.map((c) => c.at).sort((a, b) => a - b);
    // The most creates any window held: R is the most the limit allows, and using all of it is
    // the point of a limiter that neither wastes budget nor draws 429s.
    let busiest = 0;
    for (let i = 0, j = 0; i < calls.length; i++) {
      while (calls[j]! <= calls[i]! - windowMs) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    console.log(
      `provider limits: fake enforces R=${rpm} creates per ${windowMs / 1000} s and C=${cap} concurrent (renders take 0.4 s)`,
    );
    console.log(
      `  busiest window ${busiest} creates = ${(busiest / rpm).toFixed(2)} of R (target >= 0.95, at most 1)`,
    );
    console.log(`  peak running   ${limited.peakConcurrent} (must be <= ${cap})`);
    console.log(`  429s received  ${limited.count429}`);
    console.log(`  wall time      ${r.seconds.toFixed(1)} s for ${variants} variants`);
  } finally {
    await limited.close();
  }
}

if (import.meta.main) await main();
