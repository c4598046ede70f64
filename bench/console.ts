/**
 * The web console at scale: a campaign of 10,000 variants (10 × 10 × 10 × 10, design full, on
 * local, not rendered). Server time per console page (app.inject, median of N) against the
 * /v1 JSON call the page is built on, measured in the same run; and the bytes a browser fetches
 * for its first page (HTML, CSS, htmx, console.js). Prints, never asserts: `node bench/console.ts`.
 */
import { benchApp, consoleSession, fullRun, ms } from './lib.ts';

const N = Number(process.env.CONSOLE_N ?? 20);

async function median(fn: () => Promise<{ statusCode: number }>): Promise<number> {
  const times: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    const res = await fn();
    times.push(performance.now() - start);
    if (res.statusCode >= 400) throw new Error(`status ${res.statusCode}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

export async function main() {
  const b = await benchApp({ MAX_VARIANTS_PER_RUN: '10000' });
  try {
    const api = (method: 'GET' | 'POST', url: string, payload?: object, headers = {}) =>
      b.app.inject({
        method,
        url,
        headers: { authorization: b.auth, ...headers },
        ...(payload ? { payload } : {}),
      });
    const { campaignId, matrixId, runId } = await fullRun(b, {
      tone: 10,
      setting: 10,
      city: 10,
      offer: 10,
    });
    const campaign = { id: campaignId };
    const matrix = { id: matrixId };
    const { cookie } = await consoleSession(b);
    const page = (url: string) => b.app.inject({ method: 'GET', url, headers: { cookie } });
    const mid = (await api('GET', `/v1/variants?run_id=${runId}&limit=100`)).json().data.at(-1)
      .id as string;

    const rows: [
      string,
      () => Promise<{ statusCode: number }>,
      () => Promise<{ statusCode: number }>,
    ][] = [
      [
        'run progress',
        () => page(`/console/runs/${runId}/progress`),
        () => api('GET', `/v1/runs/${runId}`),
      ],
      [
        'review grid, page 1',
        () => page(`/console/runs/${runId}/review`),
        () => api('GET', `/v1/variants?run_id=${runId}&limit=48`),
      ],
      [
        'review grid, later page',
        () => page(`/console/runs/${runId}/review?after=${mid}`),
        () =>
          api(
            'GET',
            `/v1/variants?run_id=${runId}&limit=48&cursor=${Buffer.from(mid).toString('base64url')}`,
          ),
      ],
      [
        'review grid, filtered',
        () => page(`/console/runs/${runId}/review?level.tone=tone3&status=queued`),
        () => api('GET', `/v1/variants?run_id=${runId}&limit=48&status=queued&levels[tone]=tone3`),
      ],
      [
        'quote (full)',
        () => page(`/console/matrices/${matrix.id}/quote?design=full`),
        () =>
          api('POST', `/v1/matrices/${matrix.id}/preview`, {
            design: { type: 'full' },
            sample_size: 0,
          }),
      ],
      [
        'what won (report)',
        () => page(`/console/campaigns/${campaign.id}/report`),
        () => api('GET', `/v1/campaigns/${campaign.id}/report`),
      ],
    ];
    console.log(
      `10,000-variant campaign, median of ${N}: console page vs the /v1 call it is built on`,
    );
    for (const [name, consoleCall, v1Call] of rows) {
      const c = await median(consoleCall);
      const v = await median(v1Call);
      console.log(
        `${name.padEnd(26)} console ${ms(c).padStart(9)}   /v1 ${ms(v).padStart(9)}   ratio ${(c / v).toFixed(2)}`,
      );
    }
    const first = await page(`/console/runs/${runId}/review`);
    const css = await page('/console/static/console.css');
    const htmx = await page('/console/static/htmx.min.js');
    const js = await page('/console/static/console.js');
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      `first review page: HTML ${kb(first.rawPayload.length)} + CSS ${kb(css.rawPayload.length)} + htmx ${kb(htmx.rawPayload.length)} + console.js ${kb(js.rawPayload.length)} (uncompressed; thumbnails load lazily)`,
    );
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
