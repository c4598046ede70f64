import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keySlot from 'cluster-key-slot';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { signAssetLink } from '../../src/assets/links.ts';
import { createSecretBox } from '../../src/crypto/secrets.ts';
import { pngImage } from '../fake-provider/index.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { createTestBucket, type S3Tap, startS3Tap, type TestBucket } from '../helpers/s3.ts';
import { uploadImage } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

// STORAGE=s3 end to end: the worker renders and composites into the bucket, the api streams
// from it (Range included), and with S3_MEDIA_REDIRECT the api answers with presigned URLs.
// Every app and worker reaches S3 through a tap, which shows what each request read.
let t: TestApp;
let bucket: TestBucket;
let tap: S3Tap;
let dir: string;
let auth: string;
let workers: ReturnType<typeof startTestWorkers>;
let redirecting: FastifyInstance;

/** A second api on the same store that hands out the store's own links, living `ttl` seconds. */
async function redirectingApi(ttl: number) {
  const app = await buildApp({
    config: { ...t.config, S3_MEDIA_REDIRECT: true, S3_PRESIGN_TTL_SECONDS: ttl },
    logger: pino({ level: 'silent' }),
    ...t.infra,
    registry: new Registry(), // one per app, as one per process
  });
  await app.ready();
  return app;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-s3-run-'));
  bucket = await createTestBucket();
  tap = await startS3Tap();
  t = await createTestApp({
    ...bucket.env,
    S3_ENDPOINT: tap.url,
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
  });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  auth = await t.key('s3-co');
  redirecting = await redirectingApi(120);
});
afterAll(async () => {
  await workers?.close();
  await redirecting?.close();
  await t?.close();
  await tap?.close();
  await bucket?.drop();
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Objects read from the bucket (GETs on a content address) since the tap saw `mark` requests. */
const objectReads = (mark: number) =>
  tap.requests
    .slice(mark)
    .filter((r) => r.method === 'GET' && /\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(r.path))
    .map((r) => r.path);

describe('a run with media on S3', () => {
  it('stores every video and thumbnail in the bucket and serves them from there', {
    timeout: 120_000,
  }, async () => {
    const api = (method: 'GET' | 'POST', url: string, payload?: object, app = t.app) =>
      app.inject({
        method,
        url,
        headers: { authorization: auth, 'idempotency-key': `s3-${method}-${url}` },
        payload,
      });
    const campaign = (
      await api('POST', '/v1/campaigns', {
        name: 'On S3',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'A {{tone}} ad for {{brief.product}}',
        video: { provider: 'local', seconds: 1, size: '320x180' },
        overlay: { text_template: '{{tone}}' },
      })
    ).json();
    const matrix = (
      await api('POST', `/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [{ key: 'tone', levels: [{ key: 'playful' }, { key: 'calm' }] }],
      })
    ).json();
    const run = await api('POST', `/v1/campaigns/${campaign.id}/runs`, {
      matrix_id: matrix.id,
      design: { type: 'full' },
    });
    expect(run.statusCode, run.body).toBe(202);
    await waitFor(
      async () => {
        const r = (await api('GET', `/v1/runs/${run.json().id}`)).json();
        return r.status === 'completed' ? r : undefined;
      },
      { timeoutMs: 90_000, what: 'the run to complete' },
    );
    const { rows } = await t.testDb.pool.query<{
      video_key: string;
      thumbnail_key: string;
      video_sha256: string;
      id: string;
    }>(`SELECT id, video_key, thumbnail_key, video_sha256 FROM variants WHERE status = 'ready'`);
    const states = await t.testDb.pool.query(
      'SELECT status, error_code, error_message FROM variants',
    );
    expect(rows, JSON.stringify(states.rows)).toHaveLength(2);

    // Everything is in the bucket, nothing temporary is left, nothing went to STORAGE_DIR.
    const keys = await bucket.keys();
    for (const r of rows)
      expect(keys).toEqual(expect.arrayContaining([r.video_key, r.thumbnail_key]));
    expect(keys.filter((k) => k.startsWith('tmp/'))).toEqual([]);
    expect(await readdir(join(dir, 'storage')).catch(() => [])).toEqual([]);

    const v = rows[0]!;
    const beforeGet = tap.requests.length;
    const whole = await api('GET', `/v1/variants/${v.id}/video`);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(sha(whole.rawPayload)).toBe(v.video_sha256);
    // A GET reads the object, and the tap sees it: its silence on HEAD below means something.
    expect(objectReads(beforeGet)).toEqual([`/${bucket.bucket}/${v.video_key}`]);
    const thumbnail = await api('GET', `/v1/variants/${v.id}/thumbnail`);
    expect(thumbnail.statusCode).toBe(200);
    const part = await t.app.inject({
      method: 'GET',
      url: `/v1/variants/${v.id}/video`,
      headers: { authorization: auth, range: 'bytes=0-99' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${whole.rawPayload.length}`);
    expect(part.rawPayload).toEqual(whole.rawPayload.subarray(0, 100));

    // HEAD answers from the store's stat with the headers GET sends, and reads no object.
    const beforeHeads = tap.requests.length;
    const head = (url: string, headers: Record<string, string> = {}, app = t.app) =>
      app.inject({ method: 'HEAD', url, headers: { authorization: auth, ...headers } });
    const sameHeaders = [
      'content-type',
      'content-length',
      'etag',
      'accept-ranges',
      'cache-control',
    ];
    const pick = (h: Record<string, unknown>) =>
      Object.fromEntries(sameHeaders.map((k) => [k, h[k]]));
    const videoHead = await head(`/v1/variants/${v.id}/video`);
    expect(videoHead.statusCode).toBe(200);
    expect(pick(videoHead.headers)).toEqual(pick(whole.headers));
    expect(videoHead.headers['content-length']).toBe(String(whole.rawPayload.length));
    expect(videoHead.rawPayload).toHaveLength(0);
    const rangeHead = await head(`/v1/variants/${v.id}/video`, { range: 'bytes=0-99' });
    expect(rangeHead.statusCode).toBe(206);
    expect(rangeHead.headers['content-range']).toBe(part.headers['content-range']);
    expect(rangeHead.headers['content-length']).toBe('100');
    const thumbHead = await head(`/v1/variants/${v.id}/thumbnail`);
    expect(thumbHead.statusCode).toBe(200);
    expect(pick(thumbHead.headers)).toEqual(pick(thumbnail.headers));
    expect(thumbHead.headers['content-length']).toBe(String(thumbnail.rawPayload.length));
    expect(objectReads(beforeHeads)).toEqual([]);

    // Redirect mode: a 302 to the bucket, whose URL serves the same bytes (and ranges).
    const moved = await api('GET', `/v1/variants/${v.id}/video`, undefined, redirecting);
    expect(moved.statusCode).toBe(302);
    // The presigned URL lives 120 s: a browser keeps the redirect a minute less, never past it.
    expect(moved.headers['cache-control']).toBe('private, max-age=60');
    const movedHead = await head(`/v1/variants/${v.id}/video`, {}, redirecting);
    expect(movedHead.statusCode).toBe(302);
    expect(movedHead.headers['cache-control']).toBe('private, max-age=60');
    const location = moved.headers.location as string;
    expect(location.startsWith(`${tap.url}/${bucket.bucket}/`)).toBe(true);
    expect(location).toContain('X-Amz-Expires=120');
    const fetched = await fetch(location);
    expect(fetched.headers.get('content-type')).toBe('video/mp4');
    expect(sha(Buffer.from(await fetched.arrayBuffer()))).toBe(v.video_sha256);
    // A URL that lives a minute or less leaves no safe time to keep the redirect at all.
    const brief = await redirectingApi(60);
    try {
      const briefly = await head(`/v1/variants/${v.id}/video`, {}, brief);
      expect(briefly.statusCode).toBe(302);
      expect(briefly.headers['cache-control']).toBe('private, no-store');
    } finally {
      await brief.close();
    }
    // Another tenant still gets a 404, not a link.
    const other = await t.key('s3-other');
    const foreign = await redirecting.inject({
      method: 'GET',
      url: `/v1/variants/${v.id}/video`,
      headers: { authorization: other },
    });
    expect(foreign.statusCode).toBe(404);

    // A signed link of the api redirects too, once its signature checks out.
    const link = await api('POST', `/v1/variants/${v.id}/links`, {}, redirecting);
    expect(link.statusCode, link.body).toBe(200);
    const url = new URL(link.json().video_url);
    const viaLink = await redirecting.inject({ method: 'GET', url: url.pathname + url.search });
    expect(viaLink.statusCode).toBe(302);
    expect(link.json().expires_at > new Date(Date.now() + 3600_000).toISOString()).toBe(true);
    expect(viaLink.headers['cache-control']).toBe('private, max-age=60');
    const beforeLinkHead = tap.requests.length;
    const linkHead = await t.app.inject({ method: 'HEAD', url: url.pathname + url.search });
    expect(linkHead.statusCode).toBe(200);
    expect(linkHead.headers['content-length']).toBe(String(whole.rawPayload.length));
    expect(objectReads(beforeLinkHead)).toEqual([]);
    const forged = await redirecting.inject({
      method: 'GET',
      url: `${url.pathname}?expires=${url.searchParams.get('expires')}&signature=${'0'.repeat(64)}`,
    });
    expect(forged.statusCode).toBe(403);

    // Redis Cluster: every key the run wrote (queues, jobs, heartbeats, limits) hashes to one
    // slot, which BullMQ's multi-key scripts and the heartbeat's MGET need.
    const slots = new Set<number>();
    let cursor = '0';
    do {
      const [next, batch] = await t.infra.redis.scan(cursor, 'MATCH', `${t.config.QUEUE_PREFIX}:*`);
      cursor = next;
      for (const key of batch) slots.add(keySlot(key));
    } while (cursor !== '0');
    expect(slots.size).toBe(1);
  });

  it("stores a spot's format renditions in the bucket and serves or links them", {
    timeout: 120_000,
  }, async () => {
    const api = (url: string, payload?: object, app = t.app) =>
      app.inject({
        method: payload ? 'POST' : 'GET',
        url,
        headers: { authorization: auth, 'idempotency-key': `s3-spot-${url}` },
        payload,
      });
    const campaign = (
      await api('/v1/campaigns', {
        name: 'Spot on S3',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'A {{tone}} ad',
        video: { provider: 'local', seconds: 1, size: '320x180' },
        overlay: { text_template: '{{tone}}' },
        spot: {
          shots: [{ key: 'only', prompt_template: 'A {{tone}} shot', seconds: 1 }],
          formats: ['1:1'],
        },
      })
    ).json();
    const matrix = (
      await api(`/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [{ key: 'tone', levels: [{ key: 'brisk' }] }],
      })
    ).json();
    const run = await api(`/v1/campaigns/${campaign.id}/runs`, {
      matrix_id: matrix.id,
      design: { type: 'full' },
    });
    expect(run.statusCode, run.body).toBe(202);
    const variant = await waitFor(
      async () => {
        const page = (await api(`/v1/variants?run_id=${run.json().id}`)).json();
        return page.data[0]?.status === 'ready' ? page.data[0] : undefined;
      },
      { timeoutMs: 90_000, what: 'the spot variant to be ready' },
    );
    const [square] = variant.renditions;
    expect(square).toMatchObject({ format: '1:1', width: 180, height: 180 });
    const { rows } = await t.testDb.pool.query(
      'SELECT video_key FROM variant_renditions WHERE variant_id = $1',
      [variant.id],
    );
    expect(await bucket.keys()).toEqual(expect.arrayContaining([rows[0].video_key]));
    const path = `/v1/variants/${variant.id}/renditions/1:1`;
    const whole = await api(path);
    expect(whole.statusCode).toBe(200);
    expect(sha(whole.rawPayload)).toBe(square.sha256);
    const beforeHead = tap.requests.length;
    const head = await t.app.inject({
      method: 'HEAD',
      url: path,
      headers: { authorization: auth },
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(whole.rawPayload.length));
    expect(head.headers.etag).toBe(`"${square.sha256}"`);
    expect(objectReads(beforeHead)).toEqual([]);
    const moved = await api(path, undefined, redirecting);
    expect(moved.statusCode).toBe(302);
    const fetched = await fetch(moved.headers.location as string);
    expect(sha(Buffer.from(await fetched.arrayBuffer()))).toBe(square.sha256);
  });
});

describe('a first-frame link handed to a provider, on S3', () => {
  it('answers HEAD with type and length from its record, never redirects, and reads the object only for GET', async () => {
    const bytes = await pngImage(64, 36, 'blue');
    const asset = { id: await uploadImage(t, auth, bytes, 'frame.png'), sha256: sha(bytes) };
    expect(await bucket.keys()).toContain(
      `${asset.sha256.slice(0, 2)}/${asset.sha256.slice(2, 4)}/${asset.sha256}`,
    );
    // Minted as the worker mints it for Runway and fal (src/render/image.ts).
    const link = new URL(
      signAssetLink(createSecretBox(t.config.SECRETS_KEY), {
        baseUrl: 'https://admatrix.example',
        id: asset.id,
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      }),
    );
    const url = link.pathname + link.search;
    const mark = tap.requests.length;
    // On the api that redirects its own media routes: this link still answers itself.
    const head = await redirecting.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers.location).toBeUndefined();
    expect(head.headers['content-type']).toBe('image/png');
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.headers.etag).toBe(`"${asset.sha256}"`);
    expect(objectReads(mark)).toEqual([]);
    const get = await redirecting.inject({ method: 'GET', url });
    expect(get.statusCode).toBe(200);
    expect(get.headers.location).toBeUndefined();
    expect(get.rawPayload).toEqual(bytes);
    expect(objectReads(mark)).toHaveLength(1);
  });
});
