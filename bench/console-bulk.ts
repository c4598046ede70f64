/**
 * The console's "approve all matching" at its bound: CONSOLE_BULK_REVIEW_MAX (2,000) ready
 * variants decided by one confirmed POST, against POST /v1/variants/review deciding another
 * 2,000 by the same service in the same run (the floor). Variants reach ready through
 * lifecycle.ts's transitions, not renders. Prints, never asserts: `node bench/console-bulk.ts`.
 */
import { sql } from 'drizzle-orm';
import { transition } from '../src/variants/lifecycle.ts';
import { benchApp, consoleSession, fullRun, ms } from './lib.ts';

const half = 2_000;
const path = [
  ['queued', 'submitting'],
  ['submitting', 'submitted'],
  ['submitted', 'compositing'],
  ['compositing', 'ready'],
] as const;

export async function main() {
  const b = await benchApp({
    MAX_VARIANTS_PER_RUN: '10000',
    CONSOLE_BULK_REVIEW_MAX: String(half),
  });
  try {
    const api = (url: string, payload: object) =>
      b.app.inject({ method: 'POST', url, headers: { authorization: b.auth }, payload });
    // 2 × 20 × 10 × 10: each tone is one half.
    const { runId } = await fullRun(
      b,
      { tone: 2, a: 20, b: 10, c: 10 },
      { require_approval: true },
    );
    const db = b.infra.database.db;
    const { rows } = await db.execute<{ id: string }>(
      sql`SELECT variant_id AS id FROM run_variants WHERE run_id = ${runId}`,
    );
    for (const [from, to] of path)
      for (let i = 0; i < rows.length; i += 8)
        await Promise.all(
          rows.slice(i, i + 8).map((r) => transition(db, { id: r.id, from: [from], to })),
        );

    const { cookie, csrf } = await consoleSession(b);
    const form = new URLSearchParams({
      _csrf: csrf,
      decision: 'approved',
      'level.tone': 'tone0',
      expected: String(half),
    }).toString();

    // The API first: the one that runs first pays for warming up, so the ratio errs against it.
    let start = performance.now();
    const viaApi = await api('/v1/variants/review', {
      decision: 'approved',
      filter: { run_id: runId, levels: { tone: 'tone1' } },
    });
    const apiMs = performance.now() - start;
    if (viaApi.json().updated !== half) throw new Error(viaApi.body);
    start = performance.now();
    const viaConsole = await b.app.inject({
      method: 'POST',
      url: `/console/runs/${runId}/review-all`,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    });
    const consoleMs = performance.now() - start;
    if (viaConsole.statusCode !== 303) throw new Error(`console ${viaConsole.statusCode}`);
    console.log(
      `approve all matching, ${half} variants in one request: console ${ms(consoleMs)} (${(consoleMs / half).toFixed(2)} ms each)   /v1 bulk review ${ms(apiMs)}   ratio ${(consoleMs / apiMs).toFixed(2)}`,
    );
  } finally {
    await b.close();
  }
}

if (import.meta.main) await main();
