import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { type ConsoleClient, campaignForm, signIn, testPng } from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;
let png: Buffer;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-image-co');
  c = await signIn(t, bearer);
  png = await testPng(t);
});
afterAll(() => t?.close());

/** The campaign form as the browser sends it: multipart, the image last (empty when none). */
function send(url: string, fields: Record<string, string>, image: Buffer | null) {
  const boundary = '----campaign';
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  const payload = Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${image ? 'product.png' : ''}"\r\nContent-Type: ${image ? 'image/png' : 'application/octet-stream'}\r\n\r\n`,
    ),
    image ?? Buffer.alloc(0),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return t.app.inject({
    method: 'POST',
    url,
    headers: { cookie: c.cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
}

const video = async (id: string) =>
  (
    await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: bearer },
    })
  ).json().video;

const assetCount = async () =>
  (
    await t.testDb.pool.query(
      "SELECT 1 FROM assets WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'console-image-co')",
    )
  ).rows.length;

describe('console campaign form: the first-frame image', () => {
  it('stores an image for a model that takes one, refuses it (storing nothing) for one that does not, and removes it', async () => {
    const fields = { _csrf: c.csrf, ...campaignForm, video_model: 'local:motion-v1' };
    const form = await c.get('/console/campaigns/new');
    expect(form.body).toContain('enctype="multipart/form-data"');
    expect(form.body).toContain('<label for="f_image">First-frame image');

    const refused = await send(
      '/console/campaigns',
      { ...fields, video_model: 'local:card-v1' },
      png,
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('local/card-v1 does not take a first-frame image');
    expect(await assetCount()).toBe(0);
    expect((await send('/console/campaigns', { ...fields, _csrf: 'wrong' }, png)).statusCode).toBe(
      403,
    );
    expect(await assetCount()).toBe(0);

    const created = await send('/console/campaigns', fields, png);
    expect(created.statusCode, created.body).toBe(303);
    const id = String(created.headers.location).split('/').at(-1) as string;
    expect((await video(id)).reference_asset_id).toMatch(/^ast_/);
    expect(await assetCount()).toBe(1);

    // Saved without a new file: the image stays; with "Remove": it goes.
    const edit = await c.get(`/console/campaigns/${id}/edit`);
    expect(edit.body).toContain('Remove the first-frame image');
    expect(
      (await send(`/console/campaigns/${id}`, { ...fields, name: 'Kept' }, null)).statusCode,
    ).toBe(303);
    expect((await video(id)).reference_asset_id).toMatch(/^ast_/);
    const removed = await send(`/console/campaigns/${id}`, { ...fields, remove_image: 'on' }, null);
    expect(removed.statusCode).toBe(303);
    expect((await video(id)).reference_asset_id).toBeNull();
    // A multipart form without the token changes nothing, file or not.
    expect(
      (await send(`/console/campaigns/${id}`, { ...fields, _csrf: '' }, null)).statusCode,
    ).toBe(403);
  });
});
