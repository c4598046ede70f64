/**
 * Spots (issue 12): the 600-variant factorial (setting 4 x tone 3 x city 10 x partner 5) with
 * three shots whose prompts depend on (setting, tone), city and partner.
 * (1) unique shot renders against naive ones (one per variant and shot), from the quote;
 * (2) the spot quote's time against a plain quote of the same matrix, same run;
 * (3) the campaign rendered end to end on an instant fake gateway (which serves 64x64 clips, so
 *     fetching shots is cheap) by a worker child process: creates at the gateway, checked equal to
 *     the unique shots the quote counts, the worker's CPU per variant (its own and its ffmpeg
 *     children's) and its peak RSS (VmHWM). All 600 variants by default (~7 CPU-s each at load
 *     ~15: over half an hour of 2 cores); SPOTS_LEVELS=2,2,3,2 renders a 24-variant slice instead, and
 *     SPOTS_MAX_SECONDS stops waiting after that long (figures then per variant assembled so far);
 * (4) assembly CPU per variant (3 x 4 s 720x1280 shots cut together) against a floor measured
 *     in the same run: a bare ffmpeg encode of a 12 s colour source at the same size.
 * `node bench/run.ts spots`
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { benchApp, mb, ms } from './lib.ts';

const cli = fileURLToPath(new URL('../src/main/cli.ts', import.meta.url));
const ticks = 100; // USER_HZ on Linux

/** utime, stime, cutime, cstime of a process: its own CPU and its waited-for children's. */
function cpuSeconds(pid: number | 'self') {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return fields.slice(11, 15).reduce((a, f) => a + Number(f), 0) / ticks;
}
const childCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / ticks;
};
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

const fullLevels = [4, 3, 10, 5] as const;
const runLevels = (process.env.SPOTS_LEVELS?.split(',').map(Number) ?? [...fullLevels]) as [
  number,
  number,
  number,
  number,
];
const maxSeconds = Number(process.env.SPOTS_MAX_SECONDS ?? Number.POSITIVE_INFINITY);

const level = (prefix: string, k: number) =>
  Array.from({ length: k }, (_, i) => ({ key: `${prefix}${i}` }));

const spot = {
  shots: [
    { key: 'opening', prompt_template: 'Opening at {{setting}}, {{tone}} mood', seconds: 4 },
    { key: 'street', prompt_template: 'A street in {{city}}', seconds: 4 },
    { key: 'endcard', prompt_template: 'Logo of {{partner}} on a plain card', seconds: 4 },
  ],
  transition: { type: 'cut' },
};

export async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'amx-bench-spots-'));
  const fake = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 0 } });
  const openai = { OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: fake.baseURL };
  const b = await benchApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openai,
  });
  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    b.app.inject({ method: 'POST', url, headers: { authorization: b.auth, ...headers }, payload });
  const campaign = async (withSpot: boolean) => {
    const res = await post('/v1/campaigns', {
      name: 'bench',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'Ad {{setting}} {{tone}} {{city}} {{partner}}',
      video: { provider: 'openai', seconds: 4, size: '720x1280' },
      ...(withSpot ? { spot } : {}),
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    return res.json().id as string;
  };
  const matrix = async (campaignId: string, k: [number, number, number, number]) => {
    const res = await post(`/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        { key: 'setting', levels: level('s', k[0]) },
        { key: 'tone', levels: level('t', k[1]) },
        { key: 'city', levels: level('c', k[2]) },
        { key: 'partner', levels: level('p', k[3]) },
      ],
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    return res.json().id as string;
  };
  const quote = async (matrixId: string) => {
    let best = Number.POSITIVE_INFINITY;
    let body: {
      variant_count: number;
      shots: { unique: number; render_seconds: number; naive_render_seconds: number } | null;
    } | null = null;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await post(`/v1/matrices/${matrixId}/preview`, { design: { type: 'full' } });
      best = Math.min(best, performance.now() - start);
      if (res.statusCode !== 200) throw new Error(res.body);
      body = res.json();
    }
    return { ms: best, body: body! };
  };
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    // (1) and (2): the quote of the full factorial.
    const spotQuote = await quote(await matrix(await campaign(true), [...fullLevels]));
    const plainQuote = await quote(await matrix(await campaign(false), [...fullLevels]));
    const shots = spotQuote.body.shots!;
    console.log(`spots, ${spotQuote.body.variant_count} variants x 3 shots of 4 s`);
    console.log(
      `  renders        ${shots.unique} unique vs ${shots.naive_render_seconds / 4} naive: ${(shots.naive_render_seconds / shots.render_seconds).toFixed(1)}x fewer render seconds (${shots.render_seconds} s vs ${shots.naive_render_seconds} s)`,
    );
    console.log(
      `  quote          ${ms(spotQuote.ms)} vs plain quote ${ms(plainQuote.ms)}: ${(spotQuote.ms / plainQuote.ms).toFixed(2)}x (best of 5)`,
    );

    // (3): the campaign (or a slice) rendered end to end by a worker child process.
    const sliceCampaign = await campaign(true);
    const slice = await matrix(sliceCampaign, runLevels);
    const sliceShots = (await quote(slice)).body.shots!.unique;
    worker = spawn(process.execPath, [cli, 'worker'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: b.config.DATABASE_URL,
        REDIS_URL: b.config.REDIS_URL,
        QUEUE_PREFIX: b.config.QUEUE_PREFIX,
        STORAGE_DIR: b.config.STORAGE_DIR,
        WORK_DIR: b.config.WORK_DIR,
        ...openai,
        OPENAI_RPM: '1000000',
        OPENAI_MAX_CONCURRENT: '1000',
        RENDER_CONCURRENCY: '4',
        RENDER_POLL_INTERVAL_MS: '20',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve) =>
      worker!.stdout!.on('data', (d: Buffer) => {
        out = (out + d).slice(-200);
        if (out.includes('worker started')) resolve();
      }),
    );
    const pid = worker.pid!;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const run = await post(
      `/v1/campaigns/${sliceCampaign}/runs`,
      { matrix_id: slice, design: { type: 'full' } },
      { 'idempotency-key': 'bench-spots' },
    );
    if (run.statusCode !== 202) throw new Error(run.body);
    const { id: runId, variant_count: n } = run.json();
    const readyCount = async () =>
      Number(
        (
          await b.infra.database.pool.query(
            `SELECT count(*) AS n FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
             WHERE rv.run_id = $1 AND v.status = 'ready'`,
            [runId],
          )
        ).rows[0].n,
      );
    let done = 0;
    let rss = 0;
    for (;;) {
      // VmHWM is gone once the worker exits: read it while it runs.
      rss = peakRss(pid);
      done = await readyCount();
      // A cut-short run still waits for every shot's create, so the count below is complete.
      const cut = (performance.now() - t0) / 1000 > maxSeconds;
      if (done === n || (cut && fake.createCalls.length >= sliceShots)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const creates = fake.createCalls.length;
    console.log(
      `  run            ${done} of ${n} variants ready in ${seconds.toFixed(1)} s: ${creates} creates at the gateway vs ${sliceShots} unique shots (naive ${3 * n})`,
    );
    if (creates !== sliceShots)
      throw new Error(`${creates} creates at the gateway, ${sliceShots} unique shots quoted`);
    console.log(
      `  worker         ${(cpu / done).toFixed(2)} CPU-s per variant ready (shots fetched, assembled, composited, thumbnail; own + ffmpeg), peak RSS ${mb(rss)}`,
    );

    // Done with the worker (it may still have variants to go when SPOTS_MAX_SECONDS cut the
    // wait short): stopped so it does not share the cores with the measurement below.
    worker.kill('SIGTERM');
    await new Promise((r) => worker!.once('exit', r));
    worker = undefined;

    // (4): assembly alone against a bare encode of the same length and size.
    const { rows } = await b.infra.database.pool.query(
      `SELECT s.raw_key FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
       WHERE vs.variant_id = (SELECT min(variant_id) FROM variant_shots) ORDER BY vs.position`,
    );
    const clips = rows.map((r: { raw_key: string }) => ({
      path: b.infra.storage.path!(r.raw_key)!,
      seconds: 4,
    }));
    const reps = 3;
    const a0 = childCpu();
    for (let i = 0; i < reps; i++)
      await b.infra.media.assemble({
        clips,
        out: join(dir, `assembled-${i}.mp4`),
        width: 720,
        height: 1280,
        transition: { type: 'cut', seconds: 0 },
      });
    const assembly = (childCpu() - a0) / reps;
    const f0 = childCpu();
    for (let i = 0; i < reps; i++)
      spawnSync(b.config.FFMPEG_PATH ?? '/usr/bin/ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'color=c=gray:s=720x1280:r=30:d=12',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '20',
        '-threads',
        '2',
        '-pix_fmt',
        'yuv420p',
        '-y',
        join(dir, `floor-${i}.mp4`),
      ]);
    const floor = (childCpu() - f0) / reps;
    console.log(
      `  assembly       ${assembly.toFixed(2)} CPU-s per variant (3 x 4 s cut, 720x1280) vs bare 12 s colour encode ${floor.toFixed(2)} CPU-s: ${(assembly / floor).toFixed(1)}x`,
    );
  } finally {
    if (worker) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    await b.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}
