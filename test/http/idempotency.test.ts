import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('idem');
});
afterAll(() => t.close());

const create = (key: string, body: unknown = campaignBody, as = auth) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: as, 'idempotency-key': key },
    payload: body as object,
  });

const campaignCount = async () =>
  Number((await t.testDb.pool.query('SELECT count(*) FROM campaigns')).rows[0].count);

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body', async () => {
    const first = await create('k-replay');
    const again = await create('k-replay', { ...campaignBody, brief: { ...campaignBody.brief } });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/application\/json/);
  });

  it('treats the same body with keys in another order as the same request', async () => {
    const first = await create('k-order');
    const reordered = Object.fromEntries(Object.entries(campaignBody).reverse());
    const again = await create('k-order', reordered);
    expect(again.json().id).toBe(first.json().id);
  });

  it('answers 422 when the key comes back with another body', async () => {
    await create('k-mismatch');
    const res = await create('k-mismatch', { ...campaignBody, name: 'Different' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('headers.idempotency-key');
  });

  it('leaves the key alone when it is sent to an unknown route', async () => {
    const first = await create('k-endpoint');
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${first.json().id}/nothing`,
      headers: { authorization: auth, 'idempotency-key': 'k-endpoint' },
      payload: campaignBody,
    });
    // No such route: the 404 comes before any key handling, and must not touch the stored record.
    expect(res.statusCode).toBe(404);
    expect((await create('k-endpoint')).headers['idempotent-replayed']).toBe('true');
  });

  it('executes concurrent duplicates once; the others see 409 or the replay', async () => {
    const before = await campaignCount();
    const responses = await Promise.all(Array.from({ length: 12 }, () => create('k-race')));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    const ids = new Set(responses.filter((r) => r.statusCode === 201).map((r) => r.json().id));
    expect(ids.size).toBe(1);
    expect(await campaignCount()).toBe(before + 1);
    for (const r of responses.filter((x) => x.statusCode === 409)) {
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
  });

  it('scopes keys per tenant', async () => {
    const other = await t.key('idem-other');
    const mine = await create('k-tenant');
    const theirs = await create('k-tenant', campaignBody, other);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().id).not.toBe(mine.json().id);
  });

  it('does not consume the key on a request that fails validation', async () => {
    const bad = await create('k-invalid', { ...campaignBody, name: '' });
    expect(bad.statusCode).toBe(400);
    const good = await create('k-invalid');
    expect(good.statusCode).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('frees the key after a 4xx of the handler: nothing was written, the retry runs', async () => {
    const body = { ...campaignBody, video: { provider: 'openai', seconds: 5, size: '720x1280' } };
    const first = await create('k-422', body);
    expect(first.statusCode).toBe(422);
    const again = await create('k-422', body);
    expect(again.statusCode).toBe(422);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    const fixed = await create('k-422');
    expect(fixed.statusCode).toBe(201);
  });

  it('does not use up the key on a 404', async () => {
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/variants/var_01jz0000000000000000000000/deliveries',
      headers: { authorization: auth, 'idempotency-key': 'k-404' },
      payload: { destination: 'meta_ads' },
    });
    expect(missing.statusCode).toBe(404);
    const valid = await create('k-404');
    expect(valid.statusCode).toBe(201);
    expect(valid.headers['idempotent-replayed']).toBeUndefined();
    const { rows } = await t.testDb.pool.query(
      `SELECT response_status FROM idempotency_keys WHERE key = 'k-404'`,
    );
    expect(rows).toEqual([{ response_status: 201 }]);
  });

  it('frees the key after a 5xx so the retry runs', async () => {
    await t.testDb.pool.query('ALTER TABLE campaigns RENAME TO campaigns_away');
    try {
      expect((await create('k-5xx')).statusCode).toBe(500);
    } finally {
      await t.testDb.pool.query('ALTER TABLE campaigns_away RENAME TO campaigns');
    }
    const retry = await create('k-5xx');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('rejects an unusable key', async () => {
    const res = await create('x'.repeat(300));
    expect(res.statusCode).toBe(400);
  });

  it('keeps records for the retention period', async () => {
    await create('k-ttl');
    const { rows } = await t.testDb.pool.query(
      `SELECT extract(epoch FROM expires_at - created_at) AS ttl FROM idempotency_keys WHERE key = 'k-ttl'`,
    );
    expect(Number(rows[0].ttl)).toBe(24 * 3600);
  });
});

describe('stored responses', () => {
  const endpoint = (key: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { authorization: auth, 'idempotency-key': key },
      payload: { url: 'https://hooks.example.com/admatrix', events: ['variant.ready'] },
    });

  it('are sealed at rest: no webhook secret in plaintext, and the replay still returns it', async () => {
    const first = await endpoint('k-secret');
    expect(first.statusCode).toBe(201);
    const secret: string = first.json().secret;
    expect(secret).toMatch(/^whsec_/);
    const { rows } = await t.testDb.pool.query(
      `SELECT * FROM idempotency_keys WHERE key = 'k-secret'`,
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).not.toContain('whsec_');
    expect(JSON.stringify(rows[0])).not.toContain(secret.slice(6));
    const again = await endpoint('k-secret');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().secret).toBe(secret);
  });

  it('replays a record stored in plaintext before sealing', async () => {
    const first = await create('k-legacy');
    await t.testDb.pool.query(
      `UPDATE idempotency_keys SET response_body = $1 WHERE key = 'k-legacy'`,
      [first.body],
    );
    expect((await create('k-legacy')).body).toBe(first.body);
  });
});
