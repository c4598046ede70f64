import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let campaignId: string;
beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('idem-multipart');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth },
    payload: campaignBody,
  });
  campaignId = res.json().id;
});
afterAll(() => t.close());

function form(csv: string, fields: Record<string, string> = {}) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('file', new Blob([Buffer.from(csv)]), 'matrix.csv');
  return f;
}

const upload = (key: string, payload: FormData) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaignId}/matrices`,
    headers: { authorization: auth, 'idempotency-key': key },
    payload: payload as unknown as string,
  });

const matrixCount = async () =>
  Number((await t.testDb.pool.query('SELECT count(*) FROM matrices')).rows[0].count);

describe('Idempotency-Key on multipart uploads', () => {
  const first = 'tone,setting\nplayful,beach\nearnest,city\n';
  const other = 'tone,setting\nwitty,desert\ncalm,forest\n';

  it('replays the same key with the same file', async () => {
    const a = await upload('mp-same', form(first));
    expect(a.statusCode).toBe(201);
    const b = await upload('mp-same', form(first));
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json().id).toBe(a.json().id);
  });

  it('answers 422 for the same key with another file, and stores nothing', async () => {
    const a = await upload('mp-diff', form(first));
    expect(a.statusCode).toBe(201);
    const before = await matrixCount();
    const b = await upload('mp-diff', form(other));
    expect(b.statusCode).toBe(422);
    expect(b.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(b.json().errors[0].path).toBe('headers.idempotency-key');
    expect(await matrixCount()).toBe(before);
  });

  it('answers 422 for the same key and file with another name field', async () => {
    expect((await upload('mp-name', form(first, { name: 'A' }))).statusCode).toBe(201);
    expect((await upload('mp-name', form(first, { name: 'B' }))).statusCode).toBe(422);
  });

  it('refuses the key on asset uploads, which are idempotent by content', async () => {
    const f = new FormData();
    f.append('file', new Blob([Buffer.from('not an image')]), 'logo.png');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth, 'idempotency-key': 'asset-key' },
      payload: f as unknown as string,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('headers.idempotency-key');
  });
});
