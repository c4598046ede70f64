import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp({
    BODY_LIMIT_BYTES: '4096',
    RATE_LIMIT_PER_MINUTE: '5',
    // openai must be configured for its catalog to be consulted: an unconfigured one is a 422 first.
    OPENAI_API_KEY: 'sk-test',
  });
  auth = await t.key('errors');
});
afterAll(() => t.close());

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth, ...headers },
    payload: payload as string,
  });

describe('problem+json', () => {
  it('names every invalid field with its path', async () => {
    const res = await post({
      ...campaignBody,
      brief: { product: '' },
      video: { seconds: 0, size: 'big' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const paths = (res.json().errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['brief.key_message', 'brief.product', 'video.seconds', 'video.size']);
  });

  it('names query parameters too', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/campaigns?limit=500',
      headers: { authorization: auth },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
    const cursor = await t.app.inject({
      method: 'GET',
      url: '/v1/campaigns?cursor=zzz',
      headers: { authorization: auth },
    });
    expect(cursor.json().errors[0].path).toBe('query.cursor');
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await post('{"name": ', { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(400);
    expect(res.json().title).toBe('Malformed request');
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await post({ ...campaignBody, name: 'x'.repeat(5000) });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 415 for a content type no route takes', async () => {
    const res = await post('<xml/>', { 'content-type': 'application/xml' });
    expect(res.statusCode).toBe(415);
  });

  it('answers 422 naming the field for settings the provider cannot render', async () => {
    const res = await post({
      ...campaignBody,
      video: { provider: 'openai', seconds: 5, size: '640x480' },
    });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['video.seconds', 'video.size']);
  });

  it("answers 422 for a model named like an Object property (the fuzz test's 500)", async () => {
    // A key of its own: this file's rate limit is 5 a minute per key.
    const own = await t.key('errors-model-names');
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const res = await post(
        { ...campaignBody, video: { ...campaignBody.video, model } },
        { authorization: own },
      );
      expect(res.statusCode, model).toBe(422);
      expect(res.json().errors[0].path).toBe('video.model');
    }
  });

  it('answers 404 as a problem for an unknown route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses the NUL character, which Postgres cannot store, naming where it is', async () => {
    const own = await t.key('errors-nul');
    const send = (method: 'GET' | 'POST', url: string, payload?: object) =>
      t.app.inject({
        method,
        url,
        headers: { authorization: own },
        ...(payload ? { payload } : {}),
      });
    const cases: [Promise<{ statusCode: number; json(): { errors: unknown } }>, string][] = [
      [
        send('POST', '/v1/campaigns', {
          ...campaignBody,
          brief: { ...campaignBody.brief, product: 'Fi\u0000zz' },
        }),
        'brief.product',
      ],
      [send('POST', '/v1/campaigns', { ...campaignBody, name: '\u0000' }), 'name'],
      [send('GET', '/v1/campaigns/cmp_%00'), 'params.id'],
      [send('GET', '/v1/variants?run_id=run_%00'), 'query.run_id'],
    ];
    for (const [response, path] of cases) {
      const res = await response;
      expect({ path, status: res.statusCode }).toEqual({ path, status: 400 });
      expect(res.json().errors).toEqual([{ path, message: 'contains the NUL character (U+0000)' }]);
    }
    const listed = await send('GET', '/v1/campaigns');
    expect(listed.json().data).toEqual([]);
  });

  it('answers 500 without internals when the database breaks', async () => {
    const other = await t.key('broken-db');
    await t.testDb.pool.query('ALTER TABLE campaigns RENAME TO campaigns_gone');
    try {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/campaigns',
        headers: { authorization: other },
      });
      expect(res.statusCode).toBe(500);
      const text = res.body;
      expect(text).not.toMatch(/relation|does not exist|select|postgres|at .*\.ts/i);
      expect(res.json()).toMatchObject({ status: 500, request_id: res.headers['x-request-id'] });
    } finally {
      await t.testDb.pool.query('ALTER TABLE campaigns_gone RENAME TO campaigns');
    }
  });

  it('answers 429 with Retry-After once a key exceeds its rate', async () => {
    const limited = await t.key('chatty');
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof t.app.inject>> | undefined;
    for (let i = 0; i < 7; i++) {
      last = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: limited },
      });
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.json()).toMatchObject({ status: 429, title: 'Too many requests' });
    // Another key has its own budget.
    const fresh = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: await t.key('quiet') },
    });
    expect(fresh.statusCode).toBe(200);
  });
});
