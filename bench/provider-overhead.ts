/**
 * Pipeline overhead per provider (issue 11): for the OpenAI shape, Runway and fal, N variants
 * through the real admatrix pipeline (api, BullMQ worker as a child process, Postgres,
 * storage, ffprobe and thumbnail) against a floor measured in the same run: a bare loop
 * calling the same SDK or protocol directly (create, poll, download) at the same concurrency
 * on the same instant fake, with no database, queue or storage. Both sides poll every 20 ms.
 * Printed: wall time per variant on each side, the difference (the overhead admatrix adds per
 * variant at that concurrency), the ratio, and the worker's CPU per variant.
 * `node bench/run.ts provider-overhead` (about a minute).
 */
import RunwayML from '@runwayml/sdk';
import { startFakeFal } from '../test/fake-fal/index.ts';
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { startFakeRunway } from '../test/fake-runway/index.ts';
import { ms } from './lib.ts';
import { scenario, sdkFloor } from './pipeline.ts';

// OVERHEAD_N (a multiple of 20: the matrix is 20 tones by N/20 settings) amortises the
// worker's warm-up over more variants; the default keeps the bench near a minute and a half.
const N = Number(process.env.OVERHEAD_N ?? 60);
if (!Number.isInteger(N / 20) || N <= 0) throw new Error('OVERHEAD_N must be a multiple of 20');
const CONCURRENCY = 4;
const POLL_MS = 20;
const pause = (t: number) => new Promise((r) => setTimeout(r, t));

/** Runs `one(i)` for i < n, `concurrency` at a time; returns the wall seconds. */
async function loop(n: number, concurrency: number, one: (i: number) => Promise<void>) {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function drain(res: Response) {
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}`);
  await res.arrayBuffer();
}

function stepMedians(steps: { step: string; to: string; ms: number }[]) {
  const by = new Map<string, number[]>();
  for (const s of steps) {
    const key = `${s.step}->${s.to}`;
    by.set(key, [...(by.get(key) ?? []), s.ms]);
  }
  return [...by]
    .map(([key, v]) => {
      const sorted = v.sort((a, b) => a - b);
      return `${key} ${sorted[Math.floor(sorted.length / 2)]} (x${v.length})`;
    })
    .join(', ');
}

interface Shape {
  name: string;
  floorWhat: string;
  /** The bare loop's wall seconds for n renders. */
  floor(n: number): Promise<number>;
  /** Between the floor and the pipeline, so both start from an empty fake. */
  reset?(): void;
  run: Omit<Parameters<typeof scenario>[0], 'variants'>;
  close(): Promise<void>;
}

async function openaiShape(): Promise<Shape> {
  const fake = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 0 } });
  return {
    name: 'OpenAI shape',
    floorWhat: 'openai SDK videos.create/retrieve/downloadContent',
    floor: (n) => sdkFloor(fake, n, CONCURRENCY),
    reset: () => fake.reset(),
    run: {
      fake,
      env: { OPENAI_RPM: '1000000', OPENAI_MAX_CONCURRENT: '1000' },
    },
    close: () => fake.close(),
  };
}

async function runwayShape(): Promise<Shape> {
  // Zero pending and render time: SUCCEEDED from the create on; a 64x64 1 s clip as output.
  const fake = await startFakeRunway({
    maxConcurrent: 1_000,
    defaults: { pendingMs: 0, renderMs: 0 },
    mediaMatchesRequest: false,
  });
  const client = new RunwayML({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
  return {
    name: 'Runway',
    floorWhat: '@runwayml/sdk textToVideo.create, tasks.retrieve, output GET',
    floor: (n) =>
      loop(n, CONCURRENCY, async (i) => {
        const task = await client.textToVideo.create({
          model: 'gen4.5',
          promptText: `floor ${i}`,
          ratio: '1280:720',
          duration: 2,
        });
        for (;;) {
          const t = await client.tasks.retrieve(task.id);
          if (t.status === 'SUCCEEDED') {
            await drain(await fetch(t.output![0]!));
            return;
          }
          if (t.status === 'FAILED' || t.status === 'CANCELLED') throw new Error(t.status);
          await pause(POLL_MS);
        }
      }),
    run: {
      video: { provider: 'runway', model: 'gen4.5', seconds: 2, size: '1280x720' },
      apiEnv: { RUNWAYML_API_SECRET: 'bench' },
      env: {
        RUNWAYML_API_SECRET: fake.apiKey,
        RUNWAYML_BASE_URL: fake.url,
        RUNWAY_POLL_MIN_MS: String(POLL_MS),
        RUNWAY_RPM: '1000000',
        RUNWAY_MAX_CONCURRENT: '1000',
      },
    },
    close: () => fake.close(),
  };
}

async function falShape(): Promise<Shape> {
  // Instant: COMPLETED before the submit answers; a 64x64 1 s clip as the video.
  const fake = await startFakeFal({ key: 'bench', maxConcurrent: 1_000, instant: true });
  const model = 'fal-ai/pika/v2.2/text-to-video';
  const auth = { authorization: 'Key bench' };
  return {
    name: 'fal',
    floorWhat: 'queue protocol by fetch: submit, status, result, media GET',
    floor: (n) =>
      loop(n, CONCURRENCY, async (i) => {
        const submitted = await fetch(`${fake.queueUrl}/${model}`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: `floor ${i}`,
            aspect_ratio: '16:9',
            resolution: '720p',
            duration: 5,
          }),
        });
        if (!submitted.ok) throw new Error(`submit answered ${submitted.status}`);
        const q = (await submitted.json()) as { status_url: string; response_url: string };
        for (;;) {
          const s = await fetch(q.status_url, { headers: auth });
          const { status } = (await s.json()) as { status: string };
          if (status === 'COMPLETED') break;
          await pause(POLL_MS);
        }
        const result = await fetch(q.response_url, { headers: auth });
        const out = (await result.json()) as { video: { url: string } };
        await drain(await fetch(out.video.url));
      }),
    run: {
      video: { provider: 'fal', model, seconds: 5, size: '1280x720' },
      apiEnv: { FAL_KEY: 'bench' },
      env: {
        FAL_KEY: 'bench',
        FAL_QUEUE_URL: fake.queueUrl,
        FAL_JWKS_URL: fake.jwksUrl,
        FAL_RPM: '1000000',
        FAL_MAX_CONCURRENT: '1000',
      },
    },
    close: () => fake.close(),
  };
}

export async function main() {
  console.log(
    `${N} variants per provider on instant fakes, concurrency ${CONCURRENCY} on both sides, polls ${POLL_MS} ms apart, no overlay`,
  );
  const rows: string[] = [];
  for (const make of [openaiShape, runwayShape, falShape]) {
    const shape = await make();
    try {
      // Warm the fake (media cache, JIT) so neither side pays for it.
      await shape.floor(CONCURRENCY);
      shape.reset?.();
      const floor = await shape.floor(N);
      shape.reset?.();
      const r = await scenario({
        variants: N,
        ...shape.run,
        env: {
          RENDER_CONCURRENCY: String(CONCURRENCY),
          RENDER_POLL_INTERVAL_MS: String(POLL_MS),
          ...shape.run.env,
        },
      });
      const perFloor = (floor / N) * 1000;
      const perPipe = (r.seconds / N) * 1000;
      console.log(`${shape.name}`);
      console.log(
        `  bare loop  ${ms(perFloor)} per variant (${floor.toFixed(2)} s; ${shape.floorWhat})`,
      );
      console.log(
        `  admatrix   ${ms(perPipe)} per variant (${r.seconds.toFixed(2)} s submit to run completed)`,
      );
      console.log(
        `  overhead   ${ms(perPipe - perFloor)} per variant; ratio ${(r.seconds / floor).toFixed(2)}x the floor; worker CPU ${ms((r.cpu / N) * 1000)} per variant`,
      );
      console.log(`  worker steps (median ms, from its render-step log): ${stepMedians(r.steps)}`);
      rows.push(
        `${shape.name.padEnd(13)} floor ${ms(perFloor).padStart(8)}  admatrix ${ms(perPipe).padStart(8)}  overhead ${ms(perPipe - perFloor).padStart(8)}  ratio ${(r.seconds / floor).toFixed(2)}x`,
      );
    } finally {
      await shape.close();
    }
  }
  console.log('summary (wall time per variant at the same concurrency)');
  for (const row of rows) console.log(`  ${row}`);
}

if (import.meta.main) await main();
