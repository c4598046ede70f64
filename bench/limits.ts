/**
 * Quota use on an OpenAI-shaped fake that enforces R creates per 60 s and C concurrent renders,
 * with the worker as a real child process. A burst of 2R variants must go out as R at once and
 * R a window later: the busiest 60 s window, as the fake stamped arrivals (refused ones
 * included), should hold R (share >= 0.95, never above 1.00), with no 429 and at most C
 * renders at once. The floor is the ideal schedule for the same burst: R, then R exactly one
 * window after the first arrival; the second batch's lag behind it is what the limiter costs.
 * `node bench/run.ts limits` (about two and a half minutes).
 */
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { scenario } from './pipeline.ts';

const windowMs = 60_000;

function busiest(ats: number[]) {
  let most = 0;
  for (let i = 0, j = 0; i < ats.length; i++) {
    while (ats[j]! <= ats[i]! - windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function shape(opts: { rpm: number; cap: number | null; renderMs: number }) {
  const { rpm, cap, renderMs } = opts;
  const variants = 2 * rpm;
  const fake = await startFakeVideoServer({
    rpm,
    rpmWindowMs: windowMs,
    maxConcurrent: cap,
    defaults: { queuedMs: 0, renderMs },
  });
  try {
    const r = await scenario({
      variants,
      fake,
      env: {
        RENDER_CONCURRENCY: '16',
        OPENAI_RPM: String(rpm),
        OPENAI_MAX_CONCURRENT: String(cap ?? 1_000),
        RENDER_POLL_INTERVAL_MS: '200',
      },
    });
    const ats = fake.createCalls.map((c) => c.at).sort((a, b) => a - b);
    const first = ats[0]!;
    const most = busiest(ats);
    const lag = (ats[rpm] ?? Number.NaN) - first - windowMs;
    console.log(
      `OpenAI shape: fake enforces R=${rpm}/60 s${cap ? ` and C=${cap}` : ', no concurrency cap'} (renders ${renderMs / 1000} s), burst of ${variants}`,
    );
    console.log(
      `  busiest window ${most} arrivals = ${(most / rpm).toFixed(2)} of R (target >= 0.95, never > 1.00)`,
    );
    console.log(
      `  create ${rpm + 1} at  +${((ats[rpm]! - first) / 1000).toFixed(2)} s after the first (floor: +60.00 s; lag ${(lag / 1000).toFixed(2)} s)`,
    );
    console.log(
      `  first ${rpm} creates spanned ${((ats[rpm - 1]! - first) / 1000).toFixed(2)} s; the next ${rpm} ${((ats.at(-1)! - ats[rpm]!) / 1000).toFixed(2)} s`,
    );
    console.log(
      `  last create at +${((ats.at(-1)! - first) / 1000).toFixed(2)} s; creates ${ats.length} for ${variants} variants`,
    );
    console.log(`  peak running   ${fake.peakConcurrent}${cap ? ` (must be <= ${cap})` : ''}`);
    console.log(`  429s received  ${fake.count429} (target 0)`);
    console.log(`  wall time      ${r.seconds.toFixed(1)} s submit to run completed`);
  } finally {
    await fake.close();
  }
}

export async function main() {
  // R alone binds: 2R go out as R at once and R one window later.
  await shape({ rpm: 30, cap: null, renderMs: 500 });
  // C / render time = 60/min > R: both limits bind in turn (C within a window, R across).
  await shape({ rpm: 30, cap: 3, renderMs: 3_000 });
}

if (import.meta.main) await main();
