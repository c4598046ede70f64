import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  type RateLimitError,
  toFile,
} from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeVideoServer,
  type FakeVideoServerOptions,
  hasFtyp,
  manualClock,
  pngImage,
  startFakeVideoServer,
  waitUntil,
} from './index.ts';

const started: FakeVideoServer[] = [];
const closers: Array<() => Promise<unknown>> = [];
async function fakeWith(opts: FakeVideoServerOptions = {}) {
  const fake = await startFakeVideoServer(opts);
  started.push(fake);
  return { fake, client: sdk(fake, 'test') };
}
function sdk(fake: FakeVideoServer, apiKey: string) {
  return new OpenAI({ apiKey, baseURL: fake.baseURL, maxRetries: 0 });
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** Width and height from the first `tkhd` box (16.16 fixed point), to check media without ffprobe. */
function trackSize(mp4: Buffer): [number, number] {
  const at = mp4.indexOf('tkhd', 0, 'latin1');
  return [mp4.readUInt32BE(at + 80) >>> 16, mp4.readUInt32BE(at + 84) >>> 16];
}

describe('fake video server: time, limits and inspection', () => {
  it('derives status and progress steps from the clock', async () => {
    const clock = manualClock();
    const { client } = await fakeWith({
      clock: clock.now,
      defaults: { queuedMs: 100, renderMs: 400, progressSteps: 4 },
    });
    const { id } = await client.videos.create({ prompt: 'timed' });
    const at = async (ms: number) => {
      clock.advance(ms);
      const v = await client.videos.retrieve(id);
      return `${v.status}:${v.progress}`;
    };
    expect(await at(0)).toBe('queued:0');
    expect(await at(100)).toBe('in_progress:0');
    expect(await at(100)).toBe('in_progress:25');
    expect(await at(100)).toBe('in_progress:50');
    expect(await at(150)).toBe('in_progress:75');
    expect(await at(50)).toBe('completed:100');
  });

  it('expires downloads an hour after completion', async () => {
    const clock = manualClock();
    const { client } = await fakeWith({ clock: clock.now, defaults: { queuedMs: 0, renderMs: 0 } });
    const created = await client.videos.create({ prompt: 'expiring' });
    // Even a zero-latency render is answered `queued` at create, as the real API does.
    expect(created).toMatchObject({ status: 'queued', progress: 0 });
    const id = created.id;
    expect((await client.videos.retrieve(id)).status).toBe('completed');
    clock.advance(3_599_999);
    expect(
      hasFtyp(Buffer.from(await (await client.videos.downloadContent(id)).arrayBuffer())),
    ).toBe(true);
    clock.advance(1);
    await expect(client.videos.downloadContent(id)).rejects.toThrow(/expired/);
    expect((await client.videos.retrieve(id)).status).toBe('completed');
  });

  it('lets the rpm window slide and accepts again once it has', async () => {
    const clock = manualClock();
    const { fake, client } = await fakeWith({ clock: clock.now, rpm: 2, rpmWindowMs: 1000 });
    await client.videos.create({ prompt: 'a' });
    clock.advance(400);
    await client.videos.create({ prompt: 'b' });
    const err = await client.videos.create({ prompt: 'c' }).catch((e: unknown) => e);
    expect((err as RateLimitError).headers.get('retry-after-ms')).toBe('600');
    clock.advance(600);
    expect((await client.videos.create({ prompt: 'c' })).status).toBe('queued');
    expect(fake.createCount('c')).toBe(2);
    fake.setLimits({ rpm: null });
    await client.videos.create({ prompt: 'd' });
    expect(fake.count429).toBe(1);
  });

  it('checks the bearer key when configured', async () => {
    const { fake } = await fakeWith({ apiKey: 'sk-right' });
    await expect(sdk(fake, 'sk-wrong').videos.list()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(sdk(fake, 'sk-wrong').videos.create({ prompt: 'x' })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    expect((await sdk(fake, 'sk-right').videos.list()).data).toEqual([]);
    expect(fake.createCount()).toBe(0);
  });

  it('deletes finished videos only and remixes completed ones', async () => {
    const clock = manualClock();
    const { fake, client } = await fakeWith({
      clock: clock.now,
      behave: { match: 'hold', outcome: 'never_finish' },
    });
    const held = await client.videos.create({ prompt: 'hold' });
    await expect(client.videos.delete(held.id)).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.videos.remix(held.id, { prompt: 'x' })).rejects.toBeInstanceOf(
      BadRequestError,
    );

    const src = await client.videos.create({ prompt: 'source', seconds: '8', size: '1024x1792' });
    clock.advance(1000);
    const remix = await client.videos.remix(src.id, { prompt: 'source, but blue' });
    expect(remix).toMatchObject({
      status: 'queued',
      prompt: 'source, but blue',
      remixed_from_video_id: src.id,
      seconds: '8',
      size: '1024x1792',
    });
    expect(fake.createCalls.at(-1)).toMatchObject({ kind: 'remix', remixOf: src.id, status: 200 });

    expect(await client.videos.delete(src.id)).toEqual({
      id: src.id,
      object: 'video.deleted',
      deleted: true,
    });
    await expect(client.videos.retrieve(src.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.videos.remix('video_nope', { prompt: 'x' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await client.videos.list()).data.map((v) => v.id)).toEqual([remix.id, held.id]);
  });

  it('records what the SDK sends: string seconds, metadata fields, the reference file, no idempotency key', async () => {
    const { fake, client } = await fakeWith();
    const bytes = await pngImage(720, 1280);
    const png = await toFile(bytes, 'ref.png', { type: 'image/png' });
    // VideoCreateParams has no metadata; extra keys still travel as bracketed form fields.
    const body = {
      prompt: 'with extras',
      model: 'sora-2-pro',
      seconds: 8,
      input_reference: png,
      metadata: { campaign: 'c1' },
    };
    await client.videos.create(body as unknown as OpenAI.Videos.VideoCreateParams, {
      idempotencyKey: 'k1',
    });
    expect(fake.createCalls[0]).toMatchObject({
      model: 'sora-2-pro',
      seconds: '8',
      metadata: { campaign: 'c1' },
      fields: {
        prompt: 'with extras',
        model: 'sora-2-pro',
        seconds: '8',
        'metadata[campaign]': 'c1',
      },
      inputReference: {
        kind: 'file',
        filename: 'ref.png',
        mimetype: 'image/png',
        bytes: bytes.length,
        image: {
          type: 'image/png',
          width: 720,
          height: 1280,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        },
      },
      // The OpenAI client has no idempotency header, so the option is silently dropped.
      idempotencyKey: undefined,
    });
    await client.videos.create({ prompt: 'keyed' }, { headers: { 'Idempotency-Key': 'k2' } });
    expect(fake.createCalls[1]?.idempotencyKey).toBe('k2');
  });

  it('refuses an input_reference that is not an image of the requested size, as the API does', async () => {
    const { fake, client } = await fakeWith();
    const create = (
      file: Awaited<ReturnType<typeof toFile>>,
      size: '720x1280' | '1280x720' = '720x1280',
    ) =>
      client.videos.create({ prompt: 'ref', size, input_reference: file }).then(
        () => null,
        (err: { status?: number; error?: { param?: string; message?: string } }) => err,
      );
    const wrongSize = await create(
      await toFile(await pngImage(1280, 720), 'ref.png', { type: 'image/png' }),
    );
    expect(wrongSize).toMatchObject({ status: 400, error: { param: 'input_reference' } });
    expect(wrongSize?.error?.message).toMatch(/must match the requested width and height/);
    const notImage = await create(
      await toFile(Buffer.from('GIF89a....'), 'a.png', { type: 'image/png' }),
    );
    expect(notImage).toMatchObject({ status: 400, error: { param: 'input_reference' } });
    const gif = await create(
      await toFile(await pngImage(720, 1280), 'a.gif', { type: 'image/gif' }),
    );
    expect(gif).toMatchObject({ status: 400, error: { param: 'input_reference' } });
    expect(fake.videos.size).toBe(0);
    expect(
      await create(
        await toFile(await pngImage(1280, 720), 'ok.png', { type: 'image/png' }),
        '1280x720',
      ),
    ).toBeNull();
    expect(fake.videos.size).toBe(1);
  });

  it('accepts a JSON create and answers unknown routes and missing prompts in the error shape', async () => {
    const { fake } = await fakeWith();
    const post = (path: string, body: unknown) =>
      fetch(`${fake.baseURL}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await post('/videos', { prompt: 'json', seconds: '4', metadata: { k: 'v' } });
    expect(ok.status).toBe(200);
    expect(fake.createCalls[0]?.metadata).toEqual({ k: 'v' });
    const missing = await post('/videos', { seconds: '4' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: {
        message: "Missing required parameter: 'prompt'.",
        type: 'invalid_request_error',
        param: 'prompt',
        code: 'missing_required_parameter',
      },
    });
    const unknown = await fetch(`${fake.baseURL}/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toMatch(/^req_/);
    expect(((await unknown.json()) as { error: { type: string } }).error.type).toBe(
      'invalid_request_error',
    );
  });

  it('streams content slowly and can stall headers past the client timeout', async () => {
    const { client } = await fakeWith({
      defaults: { queuedMs: 0, renderMs: 0, contentChunkBytes: 256, contentChunkDelayMs: 15 },
      behave: { match: 'stall', contentDelayMs: 2000, queuedMs: 0, renderMs: 0 },
    });
    const { id } = await client.videos.create({ prompt: 'slow' });
    const t0 = performance.now();
    const res = await client.videos.downloadContent(id);
    const bytes = Buffer.from(await res.arrayBuffer());
    const chunks = Math.ceil(bytes.length / 256);
    expect(chunks).toBeGreaterThan(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual((chunks - 1) * 15 - 5);
    expect(hasFtyp(bytes)).toBe(true);

    const stall = await client.videos.create({ prompt: 'stall' });
    await expect(
      client.videos.downloadContent(stall.id, {}, { timeout: 50 }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('creates the render even when the answer comes too late for the client', async () => {
    const { fake, client } = await fakeWith({ behave: { match: 'late', createDelayMs: 500 } });
    await expect(client.videos.create({ prompt: 'late' }, { timeout: 50 })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
    expect((await client.videos.list()).data.map((v) => v.prompt)).toEqual(['late']);
    expect(fake.createCount('late')).toBe(1);
  });

  it('fails moderation failTimes times, then completes the same prompt', async () => {
    const clock = manualClock();
    const { client } = await fakeWith({
      clock: clock.now,
      behave: { match: 'flaky', outcome: 'failed_moderation', failTimes: 1 },
    });
    const first = await client.videos.create({ prompt: 'flaky' });
    const second = await client.videos.create({ prompt: 'flaky' });
    clock.advance(1000);
    expect((await client.videos.retrieve(first.id)).error?.code).toBe('moderation_blocked');
    expect((await client.videos.retrieve(second.id)).status).toBe('completed');
  });

  it('renders media at the requested size when asked', async () => {
    const { client } = await fakeWith({
      mediaMatchesRequest: true,
      allowedSizes: ['128x72'],
      allowedSeconds: ['2'],
      defaults: { queuedMs: 0, renderMs: 0 },
    });
    const { id } = await client.videos.create({
      prompt: 'sized',
      size: '128x72' as '720x1280',
      seconds: '2' as '4',
    });
    const mp4 = Buffer.from(await (await client.videos.downloadContent(id)).arrayBuffer());
    expect(trackSize(mp4)).toEqual([128, 72]);
  });

  it('sends due webhooks on demand with a manual clock, redelivers with the same id, resets', async () => {
    const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => receiver.close(resolve)));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

    const clock = manualClock();
    const { fake, client } = await fakeWith({
      clock: clock.now,
      webhook: { url, secret: 'plain-secret' },
    });
    const v = await client.videos.create({ prompt: 'hooked' });
    await fake.deliverDueWebhooks();
    expect(fake.sentWebhooks).toHaveLength(0);
    clock.advance(60_000);
    await fake.deliverDueWebhooks();
    await fake.deliverDueWebhooks();
    expect(fake.sentWebhooks.map((w) => [w.type, w.videoId, w.status])).toEqual([
      ['video.completed', v.id, 204],
    ]);

    const first = fake.sentWebhooks[0];
    await fake.redeliverWebhook(first?.eventId ?? '');
    await waitUntil(() => received.length === 2, { what: 'redelivery' });
    expect(received[1]?.headers['webhook-id']).toBe(first?.eventId);
    for (const r of received) {
      const event = await client.webhooks.unwrap(
        r.body,
        r.headers as Record<string, string>,
        'plain-secret',
      );
      expect(event.type as string).toBe('video.completed');
    }

    fake.reset();
    expect([fake.videos.size, fake.createCount(), fake.sentWebhooks.length, fake.count429]).toEqual(
      [0, 0, 0, 0],
    );
  });
});
