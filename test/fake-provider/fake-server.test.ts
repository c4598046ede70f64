import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import OpenAI, {
  APIConnectionError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import type { Video } from 'openai/resources/videos';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeVideoServer,
  type FakeVideoServerOptions,
  hasFtyp,
  manualClock,
  startFakeVideoServer,
  waitUntil,
} from './index.ts';

const started: FakeVideoServer[] = [];
async function fakeWith(opts: FakeVideoServerOptions = {}) {
  const fake = await startFakeVideoServer(opts);
  started.push(fake);
  return { fake, client: sdk(fake) };
}
function sdk(fake: FakeVideoServer) {
  return new OpenAI({ apiKey: 'test', baseURL: fake.baseURL, maxRetries: 0 });
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.close()));
});

async function untilDone(client: OpenAI, id: string, seen: string[] = []): Promise<Video> {
  return waitUntil(
    async () => {
      const v = await client.videos.retrieve(id);
      seen.push(`${v.status}:${v.progress}`);
      return v.status === 'completed' || v.status === 'failed' ? v : undefined;
    },
    { what: `video ${id} to finish` },
  );
}

async function readAll(res: Response): Promise<Buffer> {
  if (!res.body) throw new Error('no body');
  const chunks: Buffer[] = [];
  for await (const c of Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)) {
    chunks.push(Buffer.from(c as Uint8Array));
  }
  return Buffer.concat(chunks);
}

describe('fake /v1/videos driven by the real openai SDK', () => {
  it('creates, moves through queued and in_progress, completes, and serves real MP4 bytes', async () => {
    const { fake, client } = await fakeWith({
      defaults: { queuedMs: 20, renderMs: 80, progressSteps: 4 },
    });
    const created = await client.videos.create({
      prompt: 'a red car',
      seconds: '8',
      size: '1280x720',
    });
    expect(created).toMatchObject({
      object: 'video',
      status: 'queued',
      progress: 0,
      prompt: 'a red car',
    });
    expect(created.id).toMatch(/^video_/);

    const seen: string[] = [];
    const done = await untilDone(client, created.id, seen);
    expect(done).toMatchObject({
      status: 'completed',
      progress: 100,
      seconds: '8',
      size: '1280x720',
    });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.expires_at).toBe((done.completed_at ?? 0) + 3600);
    // Real time: which states a poll catches depends on machine load (the exact progression is
    // tested with a manual clock), but status and progress must only ever move forward.
    const order = ['queued', 'in_progress', 'completed'];
    const steps = seen
      .map((s) => s.split(':'))
      .map(([st, p]) => order.indexOf(st ?? '') * 1000 + Number(p));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.every((n) => n >= 0)).toBe(true);

    const res = await client.videos.downloadContent(created.id);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const mp4 = await readAll(res);
    expect(hasFtyp(mp4)).toBe(true);
    expect(mp4.length).toBe(Number(res.headers.get('content-length')));

    const thumb = await client.videos.downloadContent(created.id, { variant: 'thumbnail' });
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await readAll(thumb)).subarray(8, 12).toString('latin1')).toBe('WEBP');
    const sprite = await client.videos.downloadContent(created.id, { variant: 'spritesheet' });
    expect(sprite.headers.get('content-type')).toBe('image/jpeg');
    expect([...(await readAll(sprite)).subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(fake.createCount()).toBe(1);
  });

  it('answers 404 in the error shape for content that is not ready', async () => {
    const { client } = await fakeWith({ defaults: { outcome: 'never_finish', queuedMs: 0 } });
    const v = await client.videos.create({ prompt: 'slow' });
    const err = await client.videos.downloadContent(v.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).requestID).toMatch(/^req_/);
    expect((err as NotFoundError).message).toContain('in_progress');
  });

  it('pages the list with after/limit/order and keeps the prompt on every object', async () => {
    const { client } = await fakeWith();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.videos.create({ prompt: `p${i}` })).id);

    const first = await client.videos.list({ limit: 2 });
    expect(first.data.map((v) => v.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    expect(first.last_id).toBe(ids[3]);

    const all: Video[] = [];
    for await (const v of client.videos.list({ limit: 2, order: 'asc' })) all.push(v);
    expect(all.map((v) => v.id)).toEqual(ids);
    expect(all.map((v) => v.prompt)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);

    const tail = await client.videos.list({ after: ids[2], order: 'asc', limit: 2 });
    expect(tail.data.map((v) => v.id)).toEqual([ids[3], ids[4]]);
    expect(tail.has_more).toBe(false);
  });

  it('fails moderation after accepting: retrieve returns the failed video normally', async () => {
    const { client } = await fakeWith({
      behave: [{ match: 'forbidden', outcome: 'failed_moderation' }],
    });
    const v = await client.videos.create({ prompt: 'something forbidden' });
    expect(v.status).toBe('queued');
    const done = await untilDone(client, v.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('moderation_blocked');
    await expect(client.videos.downloadContent(v.id)).rejects.toBeInstanceOf(NotFoundError);
    // An unmatched prompt is untouched by the rule.
    expect(
      (await untilDone(client, (await client.videos.create({ prompt: 'fine' })).id)).status,
    ).toBe('completed');
  });

  it('rejects at create with 400 for a rule and for invalid seconds/size', async () => {
    const { fake, client } = await fakeWith({ behave: { match: /^bad/, outcome: 'reject_400' } });
    const ruled = await client.videos.create({ prompt: 'bad prompt' }).catch((e: unknown) => e);
    expect(ruled).toBeInstanceOf(BadRequestError);
    expect((ruled as BadRequestError).code).toBe('moderation_blocked');

    const seconds = await client.videos
      .create({ prompt: 'ok', seconds: '5' as '4' })
      .catch((e: unknown) => e);
    expect(seconds).toBeInstanceOf(BadRequestError);
    expect((seconds as BadRequestError).param).toBe('seconds');
    const size = await client.videos
      .create({ prompt: 'ok', size: '640x480' as '720x1280' })
      .catch((e: unknown) => e);
    expect((size as BadRequestError).param).toBe('size');
    expect(fake.videos.size).toBe(0);
    expect(fake.createCalls.map((c) => c.status)).toEqual([400, 400, 400]);
  });

  it('accepts a configured short-clip set for local development', async () => {
    const { client } = await fakeWith({ allowedSeconds: ['1', '2'], allowedSizes: ['64x64'] });
    const v = await client.videos.create({
      prompt: 'short',
      seconds: '1' as '4',
      size: '64x64' as '720x1280',
    });
    expect(v).toMatchObject({ seconds: '1', size: '64x64' });
    await expect(client.videos.create({ prompt: 'x', seconds: '4' })).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it('answers 5xx as InternalServerError, optionally after creating the render', async () => {
    const { fake, client } = await fakeWith({
      behave: [
        { match: 'boom', outcome: 'error_5xx', httpStatus: 503 },
        { match: 'ghost', outcome: 'error_5xx', createAnyway: true },
      ],
    });
    const err = await client.videos.create({ prompt: 'boom' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
    expect(fake.videos.size).toBe(0);

    await expect(client.videos.create({ prompt: 'ghost' })).rejects.toBeInstanceOf(
      InternalServerError,
    );
    const listed = await client.videos.list();
    expect(listed.data.map((v) => v.prompt)).toEqual(['ghost']);
  });

  it('drops the connection after creating, so the client cannot know it succeeded', async () => {
    const { fake, client } = await fakeWith({
      behave: { match: 'lost', outcome: 'drop_connection' },
    });
    await expect(client.videos.create({ prompt: 'lost reply' })).rejects.toBeInstanceOf(
      APIConnectionError,
    );
    const [found] = (await client.videos.list()).data;
    expect(found?.prompt).toBe('lost reply');
    expect(fake.createCalls[0]).toMatchObject({ status: 0, videoId: found?.id });
  });

  it('answers 429 with retry-after-ms and Retry-After, failTimes then succeeds', async () => {
    const { fake, client } = await fakeWith({
      behave: { match: 'busy', outcome: 'rate_limit_429', retryAfterMs: 1500, failTimes: 2 },
    });
    for (let i = 0; i < 2; i++) {
      const err = await client.videos.create({ prompt: 'busy' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitError);
      expect((err as RateLimitError).headers.get('retry-after-ms')).toBe('1500');
      expect((err as RateLimitError).headers.get('retry-after')).toBe('2');
    }
    expect((await client.videos.create({ prompt: 'busy' })).status).toBe('queued');
    expect(fake.count429).toBe(2);
    expect(fake.createCount('busy')).toBe(3);
  });

  it('enforces an rpm limit on creates with a retry-after-ms inside the window', async () => {
    const { fake, client } = await fakeWith({ rpm: 3, rpmWindowMs: 60_000 });
    for (let i = 0; i < 3; i++) await client.videos.create({ prompt: `r${i}` });
    const err = await client.videos.create({ prompt: 'r3' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const wait = Number((err as RateLimitError).headers.get('retry-after-ms'));
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    // Reads are not rate limited.
    expect((await client.videos.list()).data).toHaveLength(3);
    expect(fake.count429).toBe(1);
  });

  it('caps concurrent renders with 429 "Too many running tasks" and tracks the peak', async () => {
    // A manual clock: "the quick render is still running" must not depend on machine speed.
    const clock = manualClock();
    const { fake, client } = await fakeWith({
      clock: clock.now,
      maxConcurrent: 2,
      behave: [
        { match: 'stuck', outcome: 'never_finish' },
        { match: 'quick', queuedMs: 0, renderMs: 30 },
      ],
    });
    await client.videos.create({ prompt: 'stuck' });
    const quick = await client.videos.create({ prompt: 'quick' });
    clock.advance(10);
    const err = await client.videos.create({ prompt: 'third' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).message).toContain('Too many running tasks');
    expect((err as RateLimitError).headers.get('retry-after-ms')).toBe('20');

    clock.advance(20);
    expect((await client.videos.retrieve(quick.id)).status).toBe('completed');
    expect((await client.videos.create({ prompt: 'third' })).status).toBe('queued');
    expect(fake.peakConcurrent).toBe(2);
    expect(fake.count429).toBe(1);
    // The never-finishing render still holds its slot.
    expect(fake.runningCount()).toBe(2);
  });

  it('keeps a never-finishing render in_progress below 100%, for hours', async () => {
    const clock = manualClock();
    const { fake, client } = await fakeWith({
      clock: clock.now,
      behave: { match: 'forever', outcome: 'never_finish', queuedMs: 0, renderMs: 100 },
    });
    const v = await client.videos.create({ prompt: 'forever' });
    clock.advance(3 * 3_600_000);
    expect(await client.videos.retrieve(v.id)).toMatchObject({
      status: 'in_progress',
      progress: 75,
    });
    await expect(client.videos.downloadContent(v.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(fake.runningCount()).toBe(1);
  });

  it('counts create calls per prompt (exact string or RegExp)', async () => {
    const { fake, client } = await fakeWith();
    await client.videos.create({ prompt: 'variant A' });
    await client.videos.create({ prompt: 'variant A' });
    await client.videos.create({ prompt: 'variant B', seconds: '12', size: '1792x1024' });
    expect(fake.createCount('variant A')).toBe(2);
    expect(fake.createCount('variant')).toBe(0);
    expect(fake.createCount(/^variant/)).toBe(3);
    expect(fake.createCalls[2]).toMatchObject({
      kind: 'create',
      prompt: 'variant B',
      seconds: '12',
      size: '1792x1024',
      model: undefined,
    });
  });
});

describe('signed webhooks', () => {
  let receiver: Server;
  let receiverUrl = '';
  const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('posts video.completed / video.failed that client.webhooks.unwrap accepts', async () => {
    received.length = 0;
    const { fake, client } = await fakeWith({
      webhook: { url: receiverUrl },
      behave: { match: 'nope', outcome: 'failed_moderation' },
    });
    const secret = fake.webhookSecret ?? '';
    expect(secret).toMatch(/^whsec_/);
    const ok = await client.videos.create({ prompt: 'fine' });
    const bad = await client.videos.create({ prompt: 'nope' });
    await waitUntil(() => received.length === 2, { what: 'two webhooks' });

    const events = await Promise.all(
      received.map((r) =>
        client.webhooks.unwrap(r.body, r.headers as Record<string, string>, secret),
      ),
    );
    const byVideo = new Map(
      events.map((e) => [(e as unknown as { data: { id: string } }).data.id, e.type as string]),
    );
    expect(byVideo.get(ok.id)).toBe('video.completed');
    expect(byVideo.get(bad.id)).toBe('video.failed');
    expect(received[0]?.headers['webhook-id']).toMatch(/^evt_/);
    expect(fake.sentWebhooks.map((w) => w.status)).toEqual([200, 200]);

    const tampered = received[0]?.body.replace('video_', 'video_x') ?? '';
    await expect(
      client.webhooks.unwrap(tampered, received[0]?.headers as Record<string, string>, secret),
    ).rejects.toThrow(/signature/);
  });
});
