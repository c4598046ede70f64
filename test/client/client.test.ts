import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmatrixProblem, createAdmatrixClient } from '../../client/src/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

// The generated client (client/) against the real api on a real socket.
let t: TestApp;
let baseUrl: string;
let apiKey: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  apiKey = (await t.key('client-co')).slice('Bearer '.length);
});
afterAll(() => t.close());

const campaignBody = {
  name: 'Typed',
  brief: { product: 'Fizz', key_message: 'Cold' },
  prompt_template: 'A {{tone}} ad for {{brief.product}}',
  video: { provider: 'local' as const, seconds: 4, size: '720x1280' },
};

describe('the typed client', () => {
  it('creates once when the answer to a POST is lost and the client retries it', async () => {
    const sent: string[] = [];
    let dropped = false;
    const admatrix = createAdmatrixClient({
      baseUrl,
      apiKey,
      // The server acts, then the connection dies before the answer arrives (once).
      fetch: async (request) => {
        sent.push(`${request.method} ${request.headers.get('idempotency-key')}`);
        const response = await fetch(request);
        if (request.method === 'POST' && !dropped) {
          dropped = true;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      },
    });
    const campaign = await admatrix.unwrap(
      admatrix.POST('/v1/campaigns', { body: { ...campaignBody, name: 'Once' } }),
    );
    expect(campaign.name).toBe('Once');
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^POST [0-9a-f-]{36}$/);
    expect(sent[1]).toBe(sent[0]); // the same key, so the server replays instead of acting again
    const { rows } = await t.testDb.pool.query(`SELECT id FROM campaigns WHERE name = 'Once'`);
    expect(rows).toEqual([{ id: campaign.id }]);
  });

  it('throws problem+json answers as AdmatrixProblem naming the field', async () => {
    const admatrix = createAdmatrixClient({ baseUrl, apiKey });
    const err = await admatrix
      .unwrap(admatrix.POST('/v1/campaigns', { body: { ...campaignBody, name: '' } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdmatrixProblem);
    const problem = err as AdmatrixProblem;
    expect(problem.status).toBe(400);
    expect(problem.requestId).toMatch(/^req_/);
    expect(problem.errors.map((e) => e.path)).toContain('name');

    const missing = await admatrix
      .unwrap(admatrix.GET('/v1/campaigns/{id}', { params: { path: { id: 'cmp_nope' } } }))
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, title: 'Not found' });

    const stranger = createAdmatrixClient({ baseUrl, apiKey: 'amx_wrong', attempts: 1 });
    await expect(stranger.unwrap(stranger.GET('/v1/campaigns'))).rejects.toMatchObject({
      status: 401,
    });
  });

  it('walks every page of a list', async () => {
    const own = (await t.key('client-pages')).slice('Bearer '.length);
    const admatrix = createAdmatrixClient({ baseUrl, apiKey: own });
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      await admatrix.unwrap(admatrix.POST('/v1/campaigns', { body: { ...campaignBody, name } }));
    const pages: number[] = [];
    const names: string[] = [];
    for await (const c of admatrix.pages(async (cursor) => {
      const page = await admatrix.unwrap(
        admatrix.GET('/v1/campaigns', { params: { query: { limit: 2, cursor } } }),
      );
      pages.push(page.data.length);
      return page;
    }))
      names.push(c.name);
    expect(pages).toEqual([2, 2, 1]);
    expect(names.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('waits as Retry-After asks on a 503 and tries again', async () => {
    let calls = 0;
    const admatrix = createAdmatrixClient({
      baseUrl,
      apiKey,
      fetch: async (request) => {
        calls++;
        if (calls === 1)
          return new Response(JSON.stringify({ title: 'Unavailable' }), {
            status: 503,
            headers: { 'retry-after': '0', 'content-type': 'application/problem+json' },
          });
        return fetch(request);
      },
    });
    const page = await admatrix.unwrap(admatrix.GET('/v1/campaigns'));
    expect(calls).toBe(2);
    expect(Array.isArray(page.data)).toBe(true);
  });
});
