import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFalProvider } from '../../src/providers/fal/adapter.ts';
import { createFalWebhookVerifier, FAL_APP_HEADER } from '../../src/providers/fal/webhook.ts';
import { waitUntil } from '../fake-provider/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { onCleanup, startReceiver } from '../providers/helpers.ts';
import { type FakeFal, generateFalKey, signFalWebhook, startFakeFal } from './index.ts';

const T2V = 'fal-ai/pika/v2.2/text-to-video';
const spec = (prompt: string) => ({
  variantId: `var_${prompt.replace(/\W/g, '')}`,
  prompt,
  model: T2V,
  seconds: 5,
  size: '1280x720',
});

async function fakeWithReceiver(opts: Parameters<typeof startFakeFal>[0] = {}) {
  const fake = await startFakeFal(opts);
  onCleanup(() => fake.close());
  const receiver = await startReceiver();
  const provider = createFalProvider({
    key: 'k',
    queueUrl: fake.queueUrl,
    jwksUrl: fake.jwksUrl,
    webhookUrl: receiver.url,
  });
  return { fake, receiver, provider };
}

const now = () => Math.floor(Date.now() / 1000);

describe('fal webhooks from the fake, verified by the adapter', () => {
  it('accepts a genuine delivery and names the job and the request id to deduplicate on', async () => {
    const { fake, receiver, provider } = await fakeWithReceiver();
    const { jobId } = await provider.submit(spec('hooked'));
    await waitUntil(() => receiver.received.length === 1 || undefined);
    const [got] = receiver.received;
    const requestId = jobId.split('|')[1]!;
    expect(JSON.parse(got!.body)).toMatchObject({ request_id: requestId, status: 'OK' });
    // The path the adapter registered ends in the app; our route copies it into this header.
    expect(fake.createCalls[0]!.webhookUrl).toBe(`${receiver.url}/fal-ai/pika`);
    const headers = { ...got!.headers, [FAL_APP_HEADER]: 'fal-ai/pika' };
    expect(await provider.verifyWebhook!(got!.body, headers)).toEqual({
      jobId,
      event: 'completed',
      deliveryId: requestId,
    });
  });

  it('says failed for a content-policy delivery', async () => {
    const { receiver, provider } = await fakeWithReceiver();
    const { jobId } = await provider.submit(spec('bad [content-policy]'));
    await waitUntil(() => receiver.received.length === 1 || undefined);
    const [got] = receiver.received;
    const headers = { ...got!.headers, [FAL_APP_HEADER]: 'fal-ai/pika' };
    expect(await provider.verifyWebhook!(got!.body, headers)).toMatchObject({
      jobId,
      event: 'failed',
    });
  });

  it('rejects forged, stale, tampered and mismatched deliveries', async () => {
    const fake = await startFakeFal();
    onCleanup(() => fake.close());
    const verify = createFalWebhookVerifier({ jwksUrl: fake.jwksUrl });
    const body = JSON.stringify({ request_id: 'req-1', status: 'OK', payload: {} });
    const good = signFalWebhook(fake.signingKey, 'req-1', fake.userId, now(), body);
    expect(await verify(body, good)).toMatchObject({ deliveryId: 'req-1', event: 'completed' });

    const forged = signFalWebhook(generateFalKey(), 'req-1', fake.userId, now(), body);
    expect(await verify(body, forged)).toBeNull();
    const stale = signFalWebhook(fake.signingKey, 'req-1', fake.userId, now() - 301, body);
    expect(await verify(body, stale)).toBeNull();
    const future = signFalWebhook(fake.signingKey, 'req-1', fake.userId, now() + 301, body);
    expect(await verify(body, future)).toBeNull();
    expect(await verify(body.replace('"OK"', '"ERROR"'), good)).toBeNull();
    // The signed id is req-2, the body says req-1: not this delivery.
    const other = signFalWebhook(fake.signingKey, 'req-2', fake.userId, now(), body);
    expect(await verify(body, other)).toBeNull();
    const { 'x-fal-webhook-signature': _, ...unsigned } = good;
    expect(await verify(body, unsigned)).toBeNull();
  });

  it('refetches the JWKS once for a key it does not know, and no more often than allowed', async () => {
    const fake = await startFakeFal();
    onCleanup(() => fake.close());
    const verify = createFalWebhookVerifier({ jwksUrl: fake.jwksUrl, refetchAfterMs: 0 });
    const jwksGets = () => fake.log.filter((l) => l.url === '/.well-known/jwks.json').length;
    const body = JSON.stringify({ request_id: 'r', status: 'OK', payload: {} });
    expect(
      await verify(body, signFalWebhook(fake.signingKey, 'r', 'u', now(), body)),
    ).not.toBeNull();
    expect(jwksGets()).toBe(1);

    // fal rotated: the cached keys fail, one refetch finds the new one.
    const rotated = fake.rotateKey();
    expect(await verify(body, signFalWebhook(rotated, 'r', 'u', now(), body))).not.toBeNull();
    expect(jwksGets()).toBe(2);

    // An unknown key (a forger's): one refetch, still rejected.
    expect(await verify(body, signFalWebhook(generateFalKey(), 'r', 'u', now(), body))).toBeNull();
    expect(jwksGets()).toBe(3);

    const throttled = createFalWebhookVerifier({ jwksUrl: fake.jwksUrl });
    await throttled(body, signFalWebhook(rotated, 'r', 'u', now(), body));
    const before = jwksGets();
    for (let i = 0; i < 5; i++) {
      expect(
        await throttled(body, signFalWebhook(generateFalKey(), 'r', 'u', now(), body)),
      ).toBeNull();
    }
    expect(jwksGets()).toBe(before);
  });

  it('retries a delivery the receiver failed, and duplicates when switched to', async () => {
    const fake = await startFakeFal({ duplicateWebhooks: true, webhookRetryDelayMs: 10 });
    onCleanup(() => fake.close());
    let failuresLeft = 2;
    const { createServer } = await import('node:http');
    const statuses: number[] = [];
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = failuresLeft-- > 0 ? 500 : 200;
        statuses.push(status);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    onCleanup(() => new Promise((r) => srv.close(r)));
    const port = (srv.address() as { port: number }).port;
    const provider = createFalProvider({
      key: 'k',
      queueUrl: fake.queueUrl,
      webhookUrl: `http://127.0.0.1:${port}/hook`,
    });
    await provider.submit(spec('retried'));
    await waitUntil(() => statuses.length === 4 || undefined);
    await fake.webhooksSettled();
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(new Set(fake.sentWebhooks.map((s) => s.body)).size).toBe(1);
  });
});

describe("fal webhooks through the app's inbound route", () => {
  let t: TestApp;
  let fake: FakeFal;
  beforeAll(async () => {
    fake = await startFakeFal({ duplicateWebhooks: true });
    t = await createTestApp({ FAL_KEY: 'k', FAL_JWKS_URL: fake.jwksUrl });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  const inbound = async (requestId: string) => {
    const { rows } = await t.testDb.db.execute<{ webhook_id: string }>(
      sql`SELECT webhook_id FROM inbound_webhooks WHERE provider = 'fal' AND webhook_id = ${requestId}`,
    );
    return rows.length;
  };

  it('stores each request once: duplicates and replays are acknowledged as duplicates', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const provider = createFalProvider({
      key: 'k',
      queueUrl: fake.queueUrl,
      webhookUrl: `${address}/v1/providers/fal/webhook`,
    });
    const { jobId } = await provider.submit(spec('through the app'));
    const requestId = jobId.split('|')[1]!;
    await waitUntil(() => fake.sentWebhooks.length === 2 || undefined, { timeoutMs: 10_000 });
    await fake.webhooksSettled();
    expect(fake.sentWebhooks.map((s) => s.status)).toEqual([200, 200]);
    expect(await inbound(requestId)).toBe(1);

    // A replay, freshly signed by fal's key: deduplicated on the request id.
    const body = fake.sentWebhooks[0]!.body;
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/providers/fal/webhook/fal-ai/pika',
      headers: signFalWebhook(fake.signingKey, requestId, fake.userId, now(), body),
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, action: 'duplicate' });
  });

  it('answers a forged or stale delivery with problem+json 400 and stores nothing', async () => {
    const body = JSON.stringify({ request_id: 'req-forged', status: 'OK', payload: {} });
    for (const headers of [
      signFalWebhook(generateFalKey(), 'req-forged', fake.userId, now(), body),
      signFalWebhook(fake.signingKey, 'req-forged', fake.userId, now() - 3600, body),
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/providers/fal/webhook/fal-ai/pika',
        headers,
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await inbound('req-forged')).toBe(0);
    const fresh = await t.app.inject({
      method: 'POST',
      url: '/v1/providers/fal/webhook/fal-ai/pika',
      headers: signFalWebhook(fake.signingKey, 'req-forged', fake.userId, now(), body),
      payload: body,
    });
    expect(fresh.json()).toEqual({ received: true, action: 'none' });
  });
});
