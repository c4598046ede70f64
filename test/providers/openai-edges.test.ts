import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createOpenAIProvider, retryAfterMsFrom } from '../../src/providers/openai.ts';
import { AMBIGUOUS_CREATE } from '../../src/providers/types.ts';
import { signWebhook, waitUntil } from '../fake-provider/index.ts';
import {
  type Canned,
  fakeWith,
  providerError,
  spec,
  startCannedServer,
  startReceiver,
} from './helpers.ts';

const errorBody = (code: string | null, message = 'nope') =>
  JSON.stringify({ error: { message, type: 'server_error', param: null, code } });

function video(over: Record<string, unknown>) {
  return {
    id: 'video_1',
    object: 'video',
    status: 'queued',
    progress: 0,
    created_at: Math.floor(Date.now() / 1000),
    completed_at: null,
    expires_at: null,
    error: null,
    model: 'sora-2',
    prompt: 'p',
    seconds: '4',
    size: '1280x720',
    remixed_from_video_id: null,
    ...over,
  };
}

async function cannedProvider(answer: (method: string, url: string) => Canned) {
  const server = await startCannedServer(answer);
  const client = new OpenAI({ apiKey: 'test', baseURL: server.baseURL, maxRetries: 0 });
  return { provider: createOpenAIProvider({ client }), calls: server.calls };
}

describe('retryAfterMsFrom', () => {
  const now = Date.parse('2026-11-02T10:00:00Z');
  it.each([
    [{ 'retry-after-ms': '1500', 'retry-after': '9' }, 1500],
    [{ 'retry-after-ms': '12.2' }, 13],
    [{ 'retry-after': '7' }, 7000],
    [{ 'retry-after': 'Mon, 02 Nov 2026 10:00:30 GMT' }, 30_000],
    [{ 'retry-after': 'Mon, 02 Nov 2026 09:59:00 GMT' }, 0],
    [{ 'retry-after-ms': 'soon', 'retry-after': '2' }, 2000],
    [{ 'retry-after': 'whenever' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(retryAfterMsFrom(new Headers(headers), now)).toBe(expected);
  });
});

describe('openai provider: responses the fake does not produce', () => {
  it('a 503 on a read honours an HTTP-date Retry-After', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const { provider } = await cannedProvider(() => ({
      status: 503,
      headers: { 'retry-after': at, 'x-request-id': 'req_canned' },
      body: errorBody(null),
    }));
    const e = await providerError(provider.status('video_1'));
    expect(e).toMatchObject({ kind: 'transient', code: 'server_error', status: 503 });
    expect(e.requestId).toBe('req_canned');
    expect(e.retryAfterMs).toBeGreaterThan(28_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('a 408 is ambiguous on create (gateways use it for upstream timeouts), plain on reads', async () => {
    const { provider } = await cannedProvider(() => ({ status: 408, body: errorBody(null) }));
    expect(await providerError(provider.submit(spec()))).toMatchObject({
      kind: 'transient',
      code: AMBIGUOUS_CREATE,
      status: 408,
    });
    expect(await providerError(provider.status('video_1'))).toMatchObject({
      kind: 'transient',
      code: 'request_timeout',
    });
  });

  it('a 409 is transient and a 422 permanent with a derived code', async () => {
    const { provider } = await cannedProvider((_, url) =>
      url.includes('conflict')
        ? { status: 409, body: errorBody(null) }
        : { status: 422, body: errorBody(null) },
    );
    expect(await providerError(provider.status('conflict'))).toMatchObject({
      kind: 'transient',
      code: 'conflict',
    });
    expect(await providerError(provider.submit(spec()))).toMatchObject({
      kind: 'permanent',
      code: 'unprocessable_entity',
    });
  });

  it('a create answered 200 without an id is ambiguous', async () => {
    const { provider } = await cannedProvider(() => ({ status: 200, body: '{"object":"video"}' }));
    expect((await providerError(provider.submit(spec()))).code).toBe(AMBIGUOUS_CREATE);
  });

  it('a status outside the protocol is an error, not a guess', async () => {
    const { provider } = await cannedProvider(() => ({
      status: 200,
      body: JSON.stringify(video({ status: 'cancelled' })),
    }));
    expect(await providerError(provider.status('video_1'))).toMatchObject({
      kind: 'transient',
      code: 'unknown_status',
    });
  });

  it('findExisting will not answer null while a render in the window hides its prompt', async () => {
    const { provider, calls } = await cannedProvider(() => ({
      status: 200,
      body: JSON.stringify({
        object: 'list',
        data: [video({ id: 'video_anon', prompt: null })],
        has_more: false,
        last_id: 'video_anon',
      }),
    }));
    const e = await providerError(
      provider.findExisting(spec({ prompt: 'p' }), { since: new Date(Date.now() - 1000) }),
    );
    expect(e).toMatchObject({ kind: 'permanent', code: 'existing_render_unverifiable' });
    expect(calls).toEqual(['GET /v1/videos?order=desc&limit=100']);
  });
});

describe('openai provider: webhooks', () => {
  it('accepts the signed events the gateway sends and rejects tampered ones', async () => {
    const receiver = await startReceiver();
    const { fake, client } = await fakeWith({ webhook: { url: receiver.url } });
    fake.when('[mod]', { outcome: 'failed_moderation' });
    const secret = fake.webhookSecret!;
    const provider = createOpenAIProvider({ client, webhookSecret: secret });
    const ok = await provider.submit(spec({ prompt: 'hooked' }));
    const blocked = await provider.submit(spec({ prompt: 'hooked [mod]' }));
    await waitUntil(() => receiver.received.length === 2, { what: 'two webhooks' });

    const verified = await Promise.all(
      receiver.received.map((r) => provider.verifyWebhook!(r.body, r.headers)),
    );
    expect(verified).toEqual(
      expect.arrayContaining([
        { jobId: ok.jobId, event: 'completed' },
        { jobId: blocked.jobId, event: 'failed' },
      ]),
    );

    const first = receiver.received[0]!;
    const forged = first.body.replace(/video_[0-9a-f]+/, 'video_forged');
    expect(forged).not.toBe(first.body);
    expect(await provider.verifyWebhook!(forged, first.headers)).toBeNull();
    const { 'webhook-signature': _, ...unsigned } = first.headers;
    expect(await provider.verifyWebhook!(first.body, unsigned)).toBeNull();

    const other = createOpenAIProvider({ client, webhookSecret: `whsec_${'A'.repeat(43)}=` });
    expect(await other.verifyWebhook!(first.body, first.headers)).toBeNull();
    expect(createOpenAIProvider({ client }).verifyWebhook).toBeUndefined();
  });

  it('tells correctly signed events that are not about videos apart, and refuses stale ones', async () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const { client } = await fakeWith();
    const provider = createOpenAIProvider({ client, webhookSecret: secret });
    const sign = (body: string, ts: number) => ({
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secret, 'evt_1', ts, body),
    });
    const now = Math.floor(Date.now() / 1000);
    const batch = JSON.stringify({ id: 'evt_1', type: 'batch.completed', data: { id: 'b_1' } });
    const vid = JSON.stringify({ id: 'evt_1', type: 'video.completed', data: { id: 'video_9' } });

    expect(await provider.verifyWebhook!(batch, sign(batch, now))).toEqual({
      event: 'other',
      type: 'batch.completed',
    });
    expect(await provider.verifyWebhook!(vid, sign(vid, now))).toEqual({
      jobId: 'video_9',
      event: 'completed',
    });
    expect(await provider.verifyWebhook!(vid, sign(vid, now - 600))).toBeNull();
  });
});
