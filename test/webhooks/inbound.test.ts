import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVideoServer, signWebhook, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { settledRun } from './helpers.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const pollMs = 60_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-inbound-'));
  fake = await startFakeVideoServer({ defaults: { queuedMs: 50, renderMs: 250 } });
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    OPENAI_WEBHOOK_SECRET: secret,
    ...openaiApiOnly,
  });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  fake.setWebhook({ url: `${address}/v1/providers/openai/webhook`, secret });
  // Polls a minute apart: only the webhook can finish a render within the test.
  workers = startTestWorkers(t, {
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: fake.baseURL,
    OPENAI_RPM: '100000',
    OPENAI_MAX_CONCURRENT: '50',
    RENDER_POLL_INTERVAL_MS: String(pollMs),
    RENDER_DEADLINE_MS: '600000',
  });
  auth = await t.key('inbound-co');
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function signed(body: string, id = `evt_${randomBytes(8).toString('hex')}`, key = secret) {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(key, id, ts, body),
  };
}

const receive = (headers: Record<string, string>, body: string) =>
  t.app.inject({ method: 'POST', url: '/v1/providers/openai/webhook', headers, payload: body });

describe('inbound provider webhooks', () => {
  it('finish renders at once instead of at the next poll', async () => {
    const started = Date.now();
    const s = await setupCampaign(t, auth, { levels: { tone: ['a', 'b', 'c'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'inbound' });
    const variants = await settledRun(t, run.id, () => workers.reconcile());
    expect(variants.map((v) => v.status)).toEqual(['ready', 'ready', 'ready']);
    expect(Date.now() - started).toBeLessThan(pollMs / 3);
    expect(fake.sentWebhooks.filter((w) => w.type === 'video.completed')).toHaveLength(3);
    expect(fake.sentWebhooks.every((w) => w.status === 200)).toBe(true);
    const { rows } = await t.testDb.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM inbound_webhooks WHERE provider = 'openai'`,
    );
    expect(rows[0]!.n).toBe(3);
    expect(variants.every((v) => v.provider_job_id && fake.videos.has(v.provider_job_id))).toBe(
      true,
    );
  });

  it('does nothing for a webhook-id it has seen, even freshly signed', async () => {
    const first = fake.sentWebhooks[0]!;
    const res = await receive(signed(first.body, first.eventId), first.body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, action: 'duplicate' });
    const again = await fake.redeliverWebhook(first.eventId);
    expect(again.status).toBe(200);
  });

  it('acknowledges a job it does not know, and refuses a bad signature', async () => {
    const body = JSON.stringify({
      id: 'evt_unknown',
      object: 'event',
      created_at: Math.floor(Date.now() / 1000),
      type: 'video.completed',
      data: { id: 'video_not_ours' },
    });
    const unknown = await receive(signed(body), body);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json().action).toBe('none');
    // Another kind of event, correctly signed: acknowledged, or the provider would retry it.
    const batch = JSON.stringify({ ...JSON.parse(body), id: 'evt_batch', type: 'batch.completed' });
    const other = await receive(signed(batch, 'evt_batch'), batch);
    expect(other.statusCode).toBe(200);
    expect(other.json().action).toBe('none');

    const forged = await receive(
      signed(body, 'evt_forged', `whsec_${randomBytes(32).toString('base64')}`),
      body,
    );
    expect(forged.statusCode).toBe(400);
    expect(forged.headers['content-type']).toContain('application/problem+json');
    const tampered = await receive(signed(body, 'evt_tampered'), body.replace('not_ours', 'ours'));
    expect(tampered.statusCode).toBe(400);
    const stale = signed(body, 'evt_stale');
    stale['webhook-timestamp'] = String(Math.floor(Date.now() / 1000) - 3600);
    expect((await receive(stale, body)).statusCode).toBe(400);
    const { rows } = await t.testDb.db.execute<{ webhook_id: string }>(
      sql`SELECT webhook_id FROM inbound_webhooks WHERE webhook_id LIKE 'evt_%' AND webhook_id IN ('evt_forged', 'evt_tampered', 'evt_stale')`,
    );
    expect(rows).toEqual([]);
  });

  it('wakes a render parked for its next poll', async () => {
    // A render that finishes only after the job has parked itself for the poll interval.
    fake.when('slowpoke', { queuedMs: 300, renderMs: 300 });
    const s = await setupCampaign(t, auth, { levels: { tone: ['slowpoke'], setting: ['y'] } });
    const run = await startRun(t, auth, { ...s, key: 'parked' });
    const [v] = await waitFor(async () => {
      const list = await variantsOf(t, run.id);
      return list[0]?.provider_job_id ? list : undefined;
    });
    await waitForRun(t, auth, run.id, 'completed', 20_000);
    expect((await variantsOf(t, run.id))[0]!.status).toBe('ready');
    const sent = fake.sentWebhooks.find((w) => w.videoId === v!.provider_job_id);
    expect(sent?.status).toBe(200);
  });
});
