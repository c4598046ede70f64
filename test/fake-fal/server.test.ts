import { describe, expect, it } from 'vitest';
import { waitUntil } from '../fake-provider/index.ts';
import { media, TINY } from '../fake-provider/media.ts';
import { onCleanup } from '../providers/helpers.ts';
import { mediaSpecOf, startFakeFal } from './index.ts';

const post = (url: string, body: unknown, key: string | null = 'Key k') =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: key } : {}) },
    body: JSON.stringify(body),
  });

describe('fake fal queue', () => {
  it('refuses requests without `Key`, and answers with loopback status/response/cancel URLs', async () => {
    const fake = await startFakeFal();
    onCleanup(() => fake.close());
    const url = `${fake.queueUrl}/fal-ai/pika/v2.2/text-to-video`;
    expect((await post(url, { prompt: 'p' }, null)).status).toBe(401);
    expect((await post(url, { prompt: 'p' }, 'Bearer k')).status).toBe(401);
    const res = await post(url, { prompt: 'p' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(res.headers.get('x-fal-request-id')).toBe(body.request_id);
    const base = `${fake.queueUrl}/fal-ai/pika/requests/${body.request_id}`;
    expect(body).toMatchObject({
      status: 'IN_QUEUE',
      status_url: `${base}/status`,
      response_url: base,
      cancel_url: `${base}/cancel`,
    });
    // Status and result use owner/app only; the full path is not a route for them.
    const status = await fetch(body.status_url!, { headers: { authorization: 'Key k' } });
    expect([200, 202]).toContain(status.status);
    expect((await post(url, {})).status).toBe(422);
  });

  it('queues what exceeds the concurrency cap instead of refusing it', async () => {
    const fake = await startFakeFal({ maxConcurrent: 2, defaults: { queuedMs: 5, renderMs: 80 } });
    onCleanup(() => fake.close());
    const url = `${fake.queueUrl}/fal-ai/veo3.1`;
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => post(url, { prompt: `c${i}` })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await waitUntil(
      () => [...fake.requests.values()].every((r) => r.state === 'COMPLETED') || undefined,
    );
    expect(fake.peakConcurrent).toBe(2);
    expect(fake.createCount(/^c\d$/)).toBe(5);
  });

  it('instant: completed before the submit answers, with a tiny clip as the result', async () => {
    const fake = await startFakeFal({ instant: true });
    onCleanup(() => fake.close());
    const res = await post(`${fake.queueUrl}/fal-ai/pika/v2.2/text-to-video`, { prompt: 'now' });
    const body = (await res.json()) as Record<string, string>;
    const status = await fetch(body.status_url!, { headers: { authorization: 'Key k' } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { status: string }).status).toBe('COMPLETED');
    const result = await fetch(body.response_url!, { headers: { authorization: 'Key k' } });
    const out = (await result.json()) as { video: { url: string } };
    const video = await fetch(out.video.url);
    expect(video.status).toBe(200);
    expect(Buffer.from(await video.arrayBuffer()).equals(await media('video', TINY))).toBe(true);
  });

  it('renders media at the picture the input asks for', () => {
    expect(mediaSpecOf({ aspect_ratio: '9:16', resolution: '720p', duration: 10 })).toEqual({
      width: 720,
      height: 1280,
      seconds: 10,
    });
    expect(mediaSpecOf({ aspect_ratio: '16:9', resolution: '1080p', duration: '8s' })).toEqual({
      width: 1920,
      height: 1080,
      seconds: 8,
    });
  });

  it('wants image_url on image-to-video, and fails a request whose image is not one', async () => {
    const fake = await startFakeFal({ defaults: { queuedMs: 5, renderMs: 5 } });
    onCleanup(() => fake.close());
    const url = `${fake.queueUrl}/fal-ai/pika/v2.2/image-to-video`;
    const missing = await post(url, { prompt: 'no frame' });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ detail: [{ loc: ['body', 'image_url'] }] });
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const ok = await post(url, {
      prompt: 'good frame',
      image_url: `data:image/png;base64,${png.toString('base64')}`,
    });
    expect(ok.status).toBe(200);
    expect(fake.createCalls.at(-1)!.image).toMatchObject({
      source: 'data_uri',
      type: 'image/png',
      width: 1,
      height: 1,
      bytes: png.length,
    });
    // Accepted at submit, as fal does; its runner then fails to load the image.
    const bad = await post(url, { prompt: 'bad frame', image_url: 'data:image/png;base64,AAAA' });
    expect(bad.status).toBe(200);
    const { response_url } = (await bad.json()) as { response_url: string };
    const result = await waitUntil(async () => {
      const r = await fetch(response_url, { headers: { authorization: 'Key k' } });
      return r.status === 400 ? undefined : r;
    });
    expect(result.status).toBe(422);
    expect(await result.json()).toMatchObject({ detail: [{ loc: ['body', 'image_url'] }] });
  });
});
