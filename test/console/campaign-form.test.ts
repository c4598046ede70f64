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

/** The campaign as GET /v1/campaigns/{id} answers. */
const campaignOf = async (id: string) =>
  (
    await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: bearer },
    })
  ).json();
const video = async (id: string) => (await campaignOf(id)).video;

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

describe('console campaign form: the multi-shot spot', () => {
  const spot = {
    shots: [
      { key: 'opening', prompt_template: 'Opening on a {{setting}} <b>', seconds: 4 },
      {
        key: 'pack',
        prompt_template: 'Pack shot of {{brief.product}}',
        seconds: 4,
        // The form's campaign renders card-v1, which takes no image; motion-v1 takes one.
        video: { provider: 'local', model: 'motion-v1' },
        first_frame: 'previous_last_frame',
      },
    ],
    transition: { type: 'fade', seconds: 0.5 },
    formats: ['1:1'],
  };
  const campaignCount = async () =>
    (
      await t.testDb.pool.query(
        "SELECT 1 FROM campaigns WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'console-image-co')",
      )
    ).rows.length;
  const spotOf = async (id: string) => (await campaignOf(id)).spot;

  it('creates, shows, prefills, replaces and removes a spot; a bad one names the field and writes nothing', async () => {
    expect((await c.get('/console/campaigns/new')).body).toContain('<legend>Multi-shot spot');
    const before = await campaignCount();

    // zod's, the spot service's and the JSON parser's verdicts, each naming the field.
    const refusals: [unknown, string][] = [
      [{ ...spot, shots: [{ ...spot.shots[0], seconds: 61 }] }, 'spot.shots[0].seconds'],
      [{ ...spot, transition: { type: 'fade', seconds: 4 } }, 'spot.transition.seconds'],
      [{ ...spot, end_card: { text: 'Buy' } }, 'spot.end_card.seconds'],
      [{ ...spot, shots: [spot.shots[0], spot.shots[0]] }, 'spot.shots[1].key'],
    ];
    for (const [bad, path] of refusals) {
      const res = await c.post('/console/campaigns', {
        ...campaignForm,
        spot: JSON.stringify(bad),
      });
      expect(res.statusCode, path).toBe(422);
      expect(res.body).toContain(`<td>${path}</td>`);
    }
    const notJson = await c.post('/console/campaigns', { ...campaignForm, spot: '{"shots": [' });
    expect(notJson.statusCode).toBe(422);
    expect(notJson.body).toMatch(/<td>spot<\/td><td>not valid JSON/);
    expect(await campaignCount()).toBe(before);

    const created = await c.post('/console/campaigns', {
      ...campaignForm,
      spot: JSON.stringify(spot),
    });
    expect(created.statusCode, created.body).toBe(303);
    const id = String(created.headers.location).split('/').at(-1) as string;
    expect((await spotOf(id)).shots.map((s: { key: string }) => s.key)).toEqual([
      'opening',
      'pack',
    ]);
    const shown = await c.get(`/console/campaigns/${id}`);
    expect(shown.body).toContain('<h2>Multi-shot spot</h2>');
    expect(shown.body).toContain('<td>opening</td><td>4</td><td>local · card-v1</td>');
    expect(shown.body).toContain('<td>local · motion-v1 · from the previous shot</td>');
    expect(shown.body).toContain('2 shots · fade 0.5 s · formats 1:1');
    expect(shown.body).toContain('Opening on a {{setting}} &lt;b&gt;');

    // The edit form starts from the stored spot; saving it as it is keeps it.
    const edit = await c.get(`/console/campaigns/${id}/edit`);
    const prefilled = /<textarea id="f_spot"[^>]*>([^<]*)<\/textarea>/.exec(edit.body)?.[1] ?? '';
    const text = prefilled
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
    expect(JSON.parse(text)).toEqual(spot);
    expect(
      (await c.post(`/console/campaigns/${id}`, { ...campaignForm, spot: text })).statusCode,
    ).toBe(303);
    expect((await spotOf(id)).transition).toEqual({ type: 'fade', seconds: 0.5 });

    // A bad edit leaves the stored spot as it was.
    const badEdit = await c.post(`/console/campaigns/${id}`, {
      ...campaignForm,
      name: 'Not saved',
      spot: JSON.stringify({ ...spot, shots: [{ ...spot.shots[0], seconds: 0 }] }),
    });
    expect(badEdit.statusCode).toBe(422);
    expect(badEdit.body).toContain('<td>spot.shots[0].seconds</td>');
    const stored = await spotOf(id);
    expect(stored.shots).toHaveLength(2);

    // The pack shot alone is the first: it has no shot before it to start from.
    const pack = { ...spot.shots[1], first_frame: undefined };
    const replaced = { shots: [pack], transition: { type: 'cut', seconds: 0 } };
    expect(
      (
        await c.post(`/console/campaigns/${id}`, {
          ...campaignForm,
          spot: JSON.stringify(replaced),
        })
      ).statusCode,
    ).toBe(303);
    expect((await spotOf(id)).shots.map((s: { key: string }) => s.key)).toEqual(['pack']);
    // Emptied: the campaign is a single clip again; the page shows no spot.
    expect(
      (await c.post(`/console/campaigns/${id}`, { ...campaignForm, spot: '' })).statusCode,
    ).toBe(303);
    expect(await spotOf(id)).toBeNull();
    expect((await c.get(`/console/campaigns/${id}`)).body).not.toContain('Multi-shot spot');
  });
});
