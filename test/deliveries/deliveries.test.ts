import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secrets.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { readyVariants } from '../webhooks/helpers.ts';

let t: TestApp;
let auth: string;
let rival: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let run: Awaited<ReturnType<typeof readyVariants>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-deliveries-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '4' });
  auth = await t.key('deliver-co');
  rival = await t.key('deliver-rival');
  run = await readyVariants(t, auth, {
    levels: { tone: ['bold', 'calm'], setting: ['beach', 'city'] },
    key: 'deliveries-run',
    reconcile: () => workers.reconcile(),
  });
}, 60_000);
afterAll(async () => {
  await workers.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (method: 'GET' | 'POST', url: string, payload?: unknown, as: string | null = auth) =>
  t.app.inject({
    method,
    url,
    headers: as ? { authorization: as } : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const id = (i: number) => run.variants[i]!.id;

async function deliveredEvents(variantId: string) {
  const { rows } = await t.testDb.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM events WHERE type = 'variant.delivered' AND data ->> 'variant_id' = ${variantId}`);
  return rows[0]!.n;
}

describe('delivery receipts', () => {
  it('records a delivery once per destination and external id, and marks the variant', async () => {
    const first = await call('POST', `/v1/variants/${id(0)}/deliveries`, {
      destination: 'meta_ads',
      external_id: 'cr_123',
      delivered_at: '2026-03-01T10:00:00+01:00',
      metadata: { ad_set: 'summer' },
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      variant_id: id(0),
      campaign_id: run.campaignId,
      destination: 'meta_ads',
      external_id: 'cr_123',
      delivered_at: '2026-03-01T09:00:00.000Z',
      metadata: { ad_set: 'summer' },
    });
    expect(first.json().id).toMatch(/^dlv_/);
    const repeat = await call('POST', `/v1/variants/${id(0)}/deliveries`, {
      destination: 'meta_ads',
      external_id: 'cr_123',
    });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toEqual(first.json());
    // Concurrent repeats: one record.
    const burst = await Promise.all(
      Array.from({ length: 5 }, () =>
        call('POST', `/v1/variants/${id(0)}/deliveries`, { destination: 'tiktok' }),
      ),
    );
    expect(burst.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(burst.map((r) => r.json().id)).size).toBe(1);
    expect(burst[0]!.json().external_id).toBeNull();

    const record = (await call('GET', `/v1/variants/${id(0)}`)).json();
    expect(record.status).toBe('delivered');
    expect(record.deliveries.map((d: { destination: string }) => d.destination)).toEqual([
      'meta_ads',
      'tiktok',
    ]);
    expect(await deliveredEvents(id(0))).toBe(1);
    const listed = (await call('GET', `/v1/variants?run_id=${run.runId}&status=delivered`)).json();
    expect(listed.data[0].deliveries).toHaveLength(2);
  });

  it('lists deliveries by campaign, run and destination, page by page', async () => {
    await call('POST', `/v1/variants/${id(1)}/deliveries`, {
      destination: 'google_ads',
      external_id: 'g1',
    });
    await call('POST', `/v1/variants/${id(2)}/deliveries`, {
      destination: 'google_ads',
      external_id: 'g2',
    });
    const google = (
      await call('GET', `/v1/deliveries?destination=google_ads&run_id=${run.runId}`)
    ).json();
    expect(google.data.map((d: { external_id: string }) => d.external_id)).toEqual(['g1', 'g2']);
    const page1 = (
      await call('GET', `/v1/deliveries?campaign_id=${run.campaignId}&limit=3`)
    ).json();
    expect(page1.data).toHaveLength(3);
    const page2 = (
      await call(
        'GET',
        `/v1/deliveries?campaign_id=${run.campaignId}&limit=3&cursor=${page1.next_cursor}`,
      )
    ).json();
    expect(page2.data).toHaveLength(1);
    expect(page2.next_cursor).toBeNull();
    const byVariant = (await call('GET', `/v1/deliveries?variant_id=${id(1)}`)).json();
    expect(byVariant.data).toHaveLength(1);
  });

  it('refuses a variant that is not deliverable', async () => {
    const rejected = await call('POST', `/v1/variants/${id(3)}/review`, { decision: 'rejected' });
    expect(rejected.statusCode).toBe(200);
    const res = await call('POST', `/v1/variants/${id(3)}/deliveries`, { destination: 'meta_ads' });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toMatch(/rejected/);
    expect((await call('GET', `/v1/deliveries?variant_id=${id(3)}`)).json().data).toEqual([]);
  });

  it('answers 404 to another tenant', async () => {
    expect(
      (await call('POST', `/v1/variants/${id(1)}/deliveries`, { destination: 'x' }, rival))
        .statusCode,
    ).toBe(404);
    expect(
      (await call('GET', `/v1/deliveries?campaign_id=${run.campaignId}`, undefined, rival))
        .statusCode,
    ).toBe(404);
    expect(
      (await call('GET', `/v1/deliveries?run_id=${run.runId}`, undefined, rival)).statusCode,
    ).toBe(404);
    expect((await call('GET', '/v1/deliveries', undefined, rival)).json().data).toEqual([]);
    expect((await call('POST', `/v1/variants/${id(1)}/links`, {}, rival)).statusCode).toBe(404);
  });
});

describe('signed download links', () => {
  async function links(variantId: string, body: unknown = {}) {
    const res = await call('POST', `/v1/variants/${variantId}/links`, body);
    expect(res.statusCode).toBe(200);
    const json = res.json() as { video_url: string; thumbnail_url: string; expires_at: string };
    const local = (u: string) => {
      const url = new URL(u);
      return `${url.pathname}${url.search}`;
    };
    return { ...json, video: local(json.video_url), thumbnail: local(json.thumbnail_url) };
  }

  it('serve the video (with Range) and thumbnail without a key until they expire', async () => {
    const l = await links(id(1));
    expect(Date.parse(l.expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const viaKey = await call('GET', `/v1/variants/${id(1)}/video`);
    const video = await call('GET', l.video, undefined, null);
    expect(video.statusCode).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect(video.rawPayload.equals(viaKey.rawPayload)).toBe(true);
    const part = await t.app.inject({
      method: 'GET',
      url: l.video,
      headers: { range: 'bytes=0-99' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${viaKey.rawPayload.length}`);
    expect(part.rawPayload.equals(viaKey.rawPayload.subarray(0, 100))).toBe(true);
    const thumb = await call('GET', l.thumbnail, undefined, null);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    const short = await links(id(1), { expires_in: 120 });
    expect(Date.parse(short.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('refuse tampered and expired links with 403', async () => {
    const l = await links(id(2));
    const url = new URL(l.video, 'http://x');
    const expires = Number(url.searchParams.get('expires'));
    const signature = url.searchParams.get('signature')!;
    const path = url.pathname;
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    const tampered = [
      `${path}?expires=${expires}&signature=${flipped}`,
      `${path}?expires=${expires + 3600}&signature=${signature}`,
      `${path.replace('/video', '/thumbnail')}?expires=${expires}&signature=${signature}`,
      `${path.replace(id(2), id(1))}?expires=${expires}&signature=${signature}`,
    ];
    for (const u of tampered) {
      const res = await call('GET', u, undefined, null);
      expect(res.statusCode, u).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    // A genuine signature whose time is up.
    const past = Math.floor(Date.now() / 1000) - 1;
    const box = createSecretBox(t.config.SECRETS_KEY);
    const expired = await call(
      'GET',
      `${path}?expires=${past}&signature=${box.sign(`GET ${path}\n${past}`)}`,
      undefined,
      null,
    );
    expect(expired.statusCode).toBe(403);
    expect(expired.json().detail).toMatch(/expired/);
    expect((await call('GET', `${path}?expires=${expires}`, undefined, null)).statusCode).toBe(400);
  });
});
