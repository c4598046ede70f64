import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookSender, parseRetryAfter } from '../../../src/webhooks/sender/index.ts';
import { type Receiver, startReceiver, watchClientSockets } from './receiver.ts';

const body = JSON.stringify({ type: 'variant.ready', data: { title: 'Crème brûlée ✓' } });
const headers = { 'content-type': 'application/json', 'webhook-id': 'evt_1' };
const local = { allowHosts: ['127.0.0.1'], allowHttp: ['127.0.0.1'] };

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => receiver.reset());

const sender = createWebhookSender(local);
const send = (path = '/hook') => sender.send({ url: receiver.url(path), headers, body });

describe('a delivery attempt', () => {
  it('POSTs the exact body and headers', async () => {
    receiver.handle((_req, res) => res.writeHead(200).end('thanks'));
    const result = await send('/in?tenant=t1');
    expect(result).toEqual({
      outcome: 'delivered',
      status: 200,
      responseExcerpt: 'thanks',
      durationMs: expect.any(Number),
    });
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/in?tenant=t1', body });
    expect(request?.headers).toMatchObject({
      ...headers,
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it.each([200, 201, 202, 204, 299])('%i is delivered', async (status) => {
    receiver.handle((_req, res) => res.writeHead(status).end());
    expect(await send()).toMatchObject({ outcome: 'delivered', status });
  });

  it.each([301, 302, 307, 308])('does not follow a %i', async (status) => {
    receiver.handle((req, res) =>
      req.path === '/hook'
        ? res.writeHead(status, { location: '/moved' }).end()
        : res.writeHead(200).end(),
    );
    const result = await send();
    expect(result).toMatchObject({
      outcome: 'failed',
      status,
      error: 'redirect not followed (to /moved)',
    });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook']);
  });

  it('410 means gone', async () => {
    receiver.handle((_req, res) => res.writeHead(410).end('endpoint removed'));
    expect(await send()).toMatchObject({
      outcome: 'gone',
      status: 410,
      responseExcerpt: 'endpoint removed',
    });
  });

  it('429 with Retry-After in seconds is throttled', async () => {
    receiver.handle((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    const result = await send();
    expect(result).toMatchObject({ outcome: 'throttled', status: 429, retryAfterMs: 7000 });
  });

  it('503 with an HTTP-date Retry-After is throttled until then', async () => {
    receiver.handle((_req, res) =>
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 120_000).toUTCString() }).end(),
    );
    const result = await send();
    expect(result).toMatchObject({ outcome: 'throttled', status: 503 });
    // HTTP-dates have whole seconds, so up to one is lost.
    expect(result.retryAfterMs).toBeGreaterThan(118_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it.each([
    [429, undefined],
    [503, 'soon'],
    [500, '7'],
    [400, undefined],
  ])('%i with Retry-After %j is a plain failure', async (status, retryAfter) => {
    receiver.handle((_req, res) =>
      res.writeHead(status, retryAfter ? { 'retry-after': retryAfter } : {}).end('nope'),
    );
    const result = await send();
    expect(result).toEqual({
      outcome: 'failed',
      status,
      responseExcerpt: 'nope',
      durationMs: expect.any(Number),
    });
  });

  it('fails on timeout when the receiver never answers', async () => {
    receiver.handle(() => {});
    const quick = createWebhookSender({ ...local, timeoutMs: 200 });
    const result = await quick.send({ url: receiver.url(), headers, body });
    expect(receiver.requests).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out after 200 ms' });
    expect(result.status).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(195);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('keeps the status when only the body stalls past the timeout', async () => {
    receiver.handle((_req, res) => {
      res.writeHead(200);
      res.write('accepted, processing');
    });
    const quick = createWebhookSender({ ...local, timeoutMs: 300 });
    const result = await quick.send({ url: receiver.url(), headers, body });
    expect(result).toMatchObject({
      outcome: 'delivered',
      status: 200,
      responseExcerpt: 'accepted, processing',
    });
  });

  it('reads no more than maxResponseBytes of a 10 MB body, and promptly', async () => {
    const total = 10 * 1024 * 1024;
    const chunk = Buffer.from('0123456789abcdef'.repeat(4096));
    receiver.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(total) });
      let written = 0;
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const sockets = watchClientSockets();
    try {
      const result = await send();
      expect(result.outcome).toBe('delivered');
      expect(result.responseExcerpt).toBe(chunk.subarray(0, 2048).toString());
      expect(result.durationMs).toBeLessThan(2000);
      // One socket read at most (≤ 64 KiB) before we hung up, nowhere near the 10 MB.
      expect(sockets.created).toHaveLength(1);
      expect(sockets.created[0]!.destroyed).toBe(true);
      expect(sockets.created[0]!.bytesRead).toBeLessThan(1024 * 1024);
    } finally {
      sockets.stop();
    }
  });

  it('honours a custom cap without splitting a UTF-8 character, and drops NULs', async () => {
    const small = createWebhookSender({ ...local, maxResponseBytes: 7 });
    receiver.handle((_req, res) => res.writeHead(500).end('a\0ééé'));
    // 7 bytes are "a", NUL, "é", "é" and half an "é".
    const result = await small.send({ url: receiver.url(), headers, body });
    expect(result.responseExcerpt).toBe('aéé');
  });

  it('omits the excerpt when the body is empty or the cap is 0', async () => {
    receiver.handle((_req, res) => res.writeHead(200).end('ignored'));
    const none = createWebhookSender({ ...local, maxResponseBytes: 0 });
    const result = await none.send({ url: receiver.url(), headers, body });
    expect(result).toEqual({ outcome: 'delivered', status: 200, durationMs: expect.any(Number) });
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    receiver.handle(() => controller.abort());
    const result = await sender.send({
      url: receiver.url(),
      headers,
      body,
      signal: controller.signal,
    });
    expect(result).toMatchObject({ outcome: 'failed', error: 'aborted' });
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('does not start when the signal is already aborted', async () => {
    const result = await sender.send({
      url: receiver.url(),
      headers,
      body,
      signal: AbortSignal.abort(),
    });
    expect(result).toMatchObject({ outcome: 'failed', error: 'aborted' });
    expect(receiver.connections).toBe(0);
  });

  it('reports a refused connection as failed', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sender.send({ url: `http://127.0.0.1:${port}/`, headers, body });
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('sets the framing headers itself, whatever the caller passed', async () => {
    const result = await sender.send({
      url: receiver.url(),
      headers: { ...headers, 'Content-Length': '1', 'transfer-encoding': 'chunked' },
      body,
    });
    expect(result.outcome).toBe('delivered');
    expect(receiver.requests[0]?.body).toBe(body);
    expect(receiver.requests[0]?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(receiver.requests[0]?.headers['transfer-encoding']).toBeUndefined();
  });

  it('turns a header Node refuses into a failed attempt instead of throwing', async () => {
    const result = await sender.send({
      url: receiver.url(),
      headers: { 'x-bad': 'line\r\nx-injected: 1' },
      body,
    });
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/Invalid character in header/);
    expect(receiver.connections).toBe(0);
  });

  it('refuses URLs that break the URL rules, without connecting', async () => {
    const port = receiver.port;
    const cases = [
      [`http://user:pw@127.0.0.1:${port}/`, 'url must not contain credentials'],
      [`ftp://127.0.0.1:${port}/`, 'url must use https'],
      ['not a url', 'url is not a valid absolute URL'],
    ];
    for (const [url, error] of cases) {
      expect(await sender.send({ url: url!, headers, body })).toMatchObject({
        outcome: 'blocked',
        error,
      });
    }
    const httpsOnly = createWebhookSender({ allowHosts: ['127.0.0.1'] });
    expect(await httpsOnly.send({ url: receiver.url(), headers, body })).toMatchObject({
      outcome: 'blocked',
      error: 'url must use https',
    });
    expect(receiver.connections).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 28, 0);
  it.each([
    ['7', 7000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Wed, 21 Oct 2015 07:29:30 GMT', 90_000],
    ['Wednesday, 21-Oct-15 07:28:10 GMT', 10_000],
    ['Wed, 21 Oct 2015 07:00:00 GMT', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2015-10-21T07:29:00Z', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
