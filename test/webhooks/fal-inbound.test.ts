import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFal, startFakeFal } from '../fake-fal/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let fal: FakeFal;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let address: string;
const pollMs = 60_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-fal-inbound-'));
  // Long enough in the queue and rendering that the poll right after the submit sees it
  // unfinished, so the job parks for a whole poll interval.
  fal = await startFakeFal({
    maxConcurrent: 8,
    defaults: { queuedMs: 300, renderMs: 1_000 },
    duplicateWebhooks: true,
  });
  // The api verifies fal's deliveries against the fake's JWKS (it needs FAL_KEY for that).
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    FAL_KEY: 'api-side-key',
    FAL_JWKS_URL: fal.jwksUrl,
  });
  address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  // PUBLIC_URL makes the adapter submit with `?fal_webhook=<address>/v1/providers/fal/webhook/…`.
  // Polls a minute apart: only the webhook can finish a render within the test.
  workers = startTestWorkers(t, {
    PUBLIC_URL: address,
    FAL_KEY: 'test-fal-key',
    FAL_QUEUE_URL: fal.queueUrl,
    FAL_JWKS_URL: fal.jwksUrl,
    FAL_RPM: '100000',
    FAL_MAX_CONCURRENT: '8',
    RENDER_CONCURRENCY: '8',
    RENDER_POLL_INTERVAL_MS: String(pollMs),
    RENDER_DEADLINE_MS: '600000',
  });
  auth = await t.key('fal-inbound-co');
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await fal?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The fake's answers to status reads of one request, in order. */
const statusReads = (requestId: string) =>
  fal.log
    .filter((l) => l.method === 'GET' && l.url.endsWith(`/requests/${requestId}/status`))
    .map((l) => l.status);

describe('fal webhooks in the pipeline', () => {
  it('a signed completion finishes the variant before the next poll would have', {
    timeout: 30_000,
  }, async () => {
    const started = Date.now();
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['hooked', 'wired'], setting: ['x'] },
      video: { provider: 'fal', seconds: 5, size: '1280x720' },
    });
    const run = await startRun(t, auth, { ...s, key: 'fal-webhook' });
    const done = await waitForRun(t, auth, run.id, 'completed', 20_000);
    expect(done.counts.ready).toBe(2);
    // Well inside the poll interval the first poll parked the job for.
    expect(Date.now() - started).toBeLessThan(pollMs / 3);
    await fal.webhooksSettled();

    for (const v of await variantsOf(t, run.id)) {
      expect(v.status).toBe('ready');
      expect(fal.createCount(v.prompt)).toBe(1);
      const call = fal.createCalls.find((c) => c.prompt === v.prompt)!;
      expect(call.webhookUrl).toBe(`${address}/v1/providers/fal/webhook/fal-ai/pika`);
      const requestId = call.requestId!;
      expect(v.provider_job_id).toBe(`fal-ai/pika|${requestId}`);
      // The poll after the submit saw it unfinished (202); the one read after it is the job
      // the webhook woke. Polling alone would have waited a minute for that second read.
      const reads = statusReads(requestId);
      expect(reads[0]).toBe(202);
      expect(reads.length).toBeLessThanOrEqual(2);
      // Delivered twice (fal's at-least-once), both accepted, acted on once.
      const sent = fal.sentWebhooks.filter((w) => w.requestId === requestId);
      expect(sent.map((w) => w.status)).toEqual([200, 200]);
    }
    const { rows } = await t.testDb.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM inbound_webhooks WHERE provider = 'fal'`,
    );
    expect(rows[0]!.n).toBe(2);
  });
});
