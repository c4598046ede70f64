import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import {
  type HookReceiver,
  readyVariants,
  startHookReceiver,
  verifies,
  whoAmI,
} from '../webhooks/helpers.ts';

let t: TestApp;
let auth: string;
let keyId: string;
let rival: string;
let dir: string;
let rx: HookReceiver;
let secret: string;
let workers: ReturnType<typeof startTestWorkers>;
let run: Awaited<ReturnType<typeof readyVariants>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-review-'));
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '4' });
  auth = await t.key('review-co');
  keyId = (await whoAmI(t, auth)).key_id;
  rival = await t.key('review-rival');
  rx = await startHookReceiver();
  // Registered before the run, so its whole story arrives as webhooks.
  const ep = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: { authorization: auth },
    payload: {
      url: rx.url('/crm'),
      events: ['variant.ready', 'variant.approved', 'variant.delivered', 'run.completed'],
    },
  });
  secret = ep.json().secret;
  run = await readyVariants(t, auth, {
    levels: { tone: ['playful', 'serious'], setting: ['beach', 'city', 'park'] },
    key: 'review-run',
    requireApproval: true,
    reconcile: () => workers.reconcile(),
  });
}, 60_000);
afterAll(async () => {
  await workers.close();
  await rx.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown, as = auth) =>
  t.app.inject({ method: 'POST', url, headers: { authorization: as }, payload: payload as object });

async function variant(id: string) {
  return (
    await t.app.inject({
      method: 'GET',
      url: `/v1/variants/${id}`,
      headers: { authorization: auth },
    })
  ).json();
}

/** The run's variants by their levels, e.g. at('playful', 'beach'). */
function at(tone: string, setting: string) {
  const found = run.variants.find((v) => v.prompt.includes(`${tone} / ${setting}`));
  if (!found) throw new Error(`no variant ${tone}/${setting}`);
  return found.id;
}

describe('review', () => {
  it('holds back delivery until a variant is approved, and records who decided', async () => {
    expect(run.variants.every((v) => v.status === 'ready')).toBe(true);
    const id = at('serious', 'beach');
    const early = await post(`/v1/variants/${id}/deliveries`, { destination: 'meta_ads' });
    expect(early.statusCode).toBe(422);
    expect(early.json().detail).toMatch(/requires approval/);

    const res = await post(`/v1/variants/${id}/review`, {
      decision: 'approved',
      reason: 'on brand',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      status: 'approved',
      review: { decision: 'approved', reason: 'on brand', reviewed_by: keyId },
    });
    expect(Date.now() - Date.parse(res.json().review.reviewed_at)).toBeLessThan(10_000);
    const { rows } = await t.testDb.db.execute<{ reviewed_by: string; review_reason: string }>(
      sql`SELECT reviewed_by, review_reason FROM variants WHERE id = ${id}`,
    );
    expect(rows[0]).toEqual({ reviewed_by: keyId, review_reason: 'on brand' });

    const delivered = await post(`/v1/variants/${id}/deliveries`, {
      destination: 'meta_ads',
      external_id: 'ad_1',
    });
    expect(delivered.statusCode).toBe(201);
    expect((await variant(id)).status).toBe('delivered');
  });

  it('answers 409 to reviewing a variant that is not ready, and rejects for good', async () => {
    const id = at('serious', 'city');
    const rejected = await post(`/v1/variants/${id}/review`, {
      decision: 'rejected',
      reason: 'off',
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected', review: { decision: 'rejected' } });
    const again = await post(`/v1/variants/${id}/review`, { decision: 'approved' });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toMatch(/rejected/);
    const deliver = await post(`/v1/variants/${id}/deliveries`, { destination: 'meta_ads' });
    expect(deliver.statusCode).toBe(422);
  });

  it('approves in bulk by run and levels, only what is ready', async () => {
    const res = await post('/v1/variants/review', {
      decision: 'approved',
      reason: 'playful batch',
      filter: { run_id: run.runId, levels: { tone: 'playful' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ updated: 3 });
    for (const s of ['beach', 'city', 'park'])
      expect((await variant(at('playful', s))).status).toBe('approved');
    expect((await variant(at('serious', 'park'))).status).toBe('ready');
    const repeat = await post('/v1/variants/review', {
      decision: 'approved',
      filter: { campaign_id: run.campaignId, levels: { tone: 'playful' } },
    });
    expect(repeat.json()).toEqual({ updated: 0 });
    const { rows } = await t.testDb.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM events WHERE type = 'variant.approved'`,
    );
    expect(rows[0]!.n).toBe(4);
  });

  it('needs a run or campaign to bulk review', async () => {
    const res = await post('/v1/variants/review', { decision: 'approved', filter: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('filter');
  });

  it('answers 404 to another tenant and 403 without the write scope', async () => {
    const id = at('serious', 'park');
    expect(
      (await post(`/v1/variants/${id}/review`, { decision: 'approved' }, rival)).statusCode,
    ).toBe(404);
    for (const filter of [{ run_id: run.runId }, { campaign_id: run.campaignId }]) {
      const res = await post('/v1/variants/review', { decision: 'rejected', filter }, rival);
      expect(res.statusCode).toBe(404);
    }
    const readOnly = await t.key('review-co', ['campaigns:read']);
    expect(
      (await post(`/v1/variants/${id}/review`, { decision: 'approved' }, readOnly)).statusCode,
    ).toBe(403);
    expect((await variant(id)).status).toBe('ready');
  });

  it('told the endpoint everything, signed: ready, run completed, approved, delivered', async () => {
    const byType = await waitFor(() => {
      const counts: Record<string, number> = {};
      for (const h of rx.to('/crm')) {
        const type = JSON.parse(h.body).type as string;
        counts[type] = (counts[type] ?? 0) + 1;
      }
      return counts['variant.approved'] === 4 && counts['variant.delivered'] === 1
        ? counts
        : undefined;
    });
    expect(byType).toEqual({
      'variant.ready': 6,
      'run.completed': 1,
      'variant.approved': 4,
      'variant.delivered': 1,
    });
    for (const h of rx.to('/crm')) expect(verifies(h, secret)).toBe(true);
    const delivered = rx.to('/crm').find((h) => JSON.parse(h.body).type === 'variant.delivered')!;
    expect(JSON.parse(delivered.body).data).toMatchObject({
      variant_id: at('serious', 'beach'),
      run_id: run.runId,
      status: 'delivered',
      levels: { tone: 'serious', setting: 'beach' },
      delivery: { destination: 'meta_ads', external_id: 'ad_1' },
    });
    const approved = rx.to('/crm').find((h) => JSON.parse(h.body).type === 'variant.approved')!;
    expect(JSON.parse(approved.body).data.review).toMatchObject({ reviewed_by: keyId });
    // The platform AI flags ride on the approval too, as on the variant: the local renderer's
    // motion templates are algorithmic media, not AI-generated.
    for (const h of rx.to('/crm').filter((h) => JSON.parse(h.body).type === 'variant.approved')) {
      const data = JSON.parse(h.body).data;
      expect(data).toMatchObject({
        ai_generated: false,
        digital_source_type: 'http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia',
      });
      const v = await variant(data.variant_id);
      expect([v.ai_generated, v.digital_source_type]).toEqual([
        data.ai_generated,
        data.digital_source_type,
      ]);
    }
  });
});
