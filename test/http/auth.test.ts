import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
  });
  expect(body.request_id).toBe(res.headers['x-request-id']);
  return body;
}

describe('authentication', () => {
  it('rejects a request without a key', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/campaigns' });
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('rejects a malformed and an unknown key alike', async () => {
    for (const auth of ['Bearer nope', 'Basic abc', `Bearer amx_${'A'.repeat(43)}`]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/campaigns',
        headers: { authorization: auth },
      });
      expectProblem(res, 401);
    }
  });

  it('accepts a created key and tells who it is', async () => {
    const auth = await t.key('whoami', ['campaigns:read']);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: auth },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ scopes: ['campaigns:read'], key_prefix: auth.slice(7, 19) });
  });

  it('rejects a revoked key', async () => {
    const auth = await t.key('revoked-co');
    const before = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: auth },
    });
    expect(before.statusCode).toBe(200);
    const { createTenantService } = await import('../../src/tenants/service.ts');
    const revoked = await createTenantService({ db: t.testDb.db }).revokeKey(auth.slice(7, 19));
    expect(revoked).toHaveLength(1);
    const after = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: auth },
    });
    expectProblem(after, 401);
  });

  it('answers 403 naming the missing scope', async () => {
    const auth = await t.key('readonly', ['campaigns:read']);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: campaignBody,
    });
    expect(expectProblem(res, 403).detail).toContain('campaigns:write');
  });

  it('stores keys only as hashes', async () => {
    const auth = await t.key('hashed');
    const secret = auth.slice(7);
    const { rows } = await t.testDb.pool.query('SELECT * FROM api_keys');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });
});

describe('failed authentications', () => {
  const badKey = () => `Bearer amx_${randomBytes(32).toString('base64url')}`;
  const me = (authorization: string, remoteAddress = '127.0.0.1') =>
    limited.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization }, remoteAddress });
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ AUTH_FAILURES_PER_MINUTE: '5' });
  });
  afterAll(() => limited.close());

  it('answers 429 with Retry-After once an address is over the limit, and only that address', async () => {
    const good = await limited.key('limited-co');
    const address = '198.51.100.7';
    for (let i = 0; i < 5; i++) expectProblem(await me(badKey(), address), 401);
    const over = await me(badKey(), address);
    const body = expectProblem(over, 429);
    expect(body.detail).toMatch(/failed authentications/);
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Per address, as documented: a valid key from the same address waits out the window too...
    expectProblem(await me(good, address), 429);
    // ...while other addresses are untouched.
    expect((await me(good, '198.51.100.8')).statusCode).toBe(200);
    expectProblem(await me(badKey(), '198.51.100.8'), 401);
    // The counter lives under the deployment's prefix, with an expiry.
    const ttl = await limited.infra.redis.pttl(
      `${limited.config.QUEUE_PREFIX}:auth-failures:${address}`,
    );
    expect(ttl).toBeGreaterThan(0);
  });

  it('counts malformed credentials, not missing ones', async () => {
    const address = '198.51.100.9';
    for (let i = 0; i < 10; i++) {
      const res = await limited.app.inject({
        method: 'GET',
        url: '/v1/me',
        remoteAddress: address,
      });
      expectProblem(res, 401);
    }
    for (let i = 0; i < 5; i++) expectProblem(await me('Basic abc', address), 401);
    expectProblem(await me('Bearer nope', address), 429);
  });

  it('asks Postgres once for the same unknown key retried in a loop', async () => {
    let checkouts = 0;
    const count = () => void checkouts++;
    t.infra.database.pool.on('acquire', count);
    try {
      const key = badKey();
      for (let i = 0; i < 10; i++)
        expectProblem(
          await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: key } }),
          401,
        );
      expect(checkouts).toBe(1);
      // A different unknown key is looked up: the cache holds exact keys (their hashes) only.
      expectProblem(
        await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: badKey() } }),
        401,
      );
      expect(checkouts).toBe(2);
    } finally {
      t.infra.database.pool.off('acquire', count);
    }
  });
});

describe('tenancy', () => {
  it("answers 404 for another tenant's campaign, on read and on write", async () => {
    const mine = await t.key('tenant-a');
    const theirs = await t.key('tenant-b');
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: mine },
      payload: campaignBody,
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect(id).toMatch(/^cmp_/);

    const own = await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: mine },
    });
    expect(own.statusCode).toBe(200);
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: theirs },
    });
    expectProblem(read, 404);
    const write = await t.app.inject({
      method: 'PATCH',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: theirs },
      payload: { name: 'stolen' },
    });
    expectProblem(write, 404);
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/campaigns',
      headers: { authorization: theirs },
    });
    expect(list.json().data).toEqual([]);
    // The same 404 as for an id that never existed: nothing reveals that it does.
    const missing = await t.app.inject({
      method: 'GET',
      url: '/v1/campaigns/cmp_nothing',
      headers: { authorization: theirs },
    });
    expect(missing.json().detail).toBe(read.json().detail);
  });
});

describe('request ids', () => {
  it('keeps a caller request id and returns it', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
  it('makes one when the caller sent none or a hostile one', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'a b\nc' },
    });
    expect(res.headers['x-request-id']).toMatch(/^req_[0-9a-z]{26}$/);
  });
});
