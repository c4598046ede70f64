import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let campaignId: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('glyph-co');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth },
    payload: campaignBody,
  });
  expect(res.statusCode).toBe(201);
  campaignId = res.json().id;
});
afterAll(() => t.close());

const upload = (payload: unknown, contentType?: string) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaignId}/matrices`,
    headers: { authorization: auth, ...(contentType ? { 'content-type': contentType } : {}) },
    payload: payload as string,
  });

describe('glyph warnings at matrix upload', () => {
  it('names each level whose label no caption font covers, and the characters', async () => {
    const res = await upload({
      dimensions: [
        { key: 'tone', levels: [{ key: 'warm' }, { key: 'cool' }] },
        {
          key: 'setting',
          levels: [
            { key: 'tokyo', label: '東京' },
            { key: 'seoul', label: '서울' },
            { key: 'cairo', label: 'القاهرة' },
            { key: 'athens', label: 'Αθήνα' },
            { key: 'bangkok', label: 'กรุงเทพ Bangkok' },
            { key: 'party', label: 'Fiesta 🎉🎉' },
          ],
        },
      ],
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.warnings).toEqual([
      {
        code: 'missing_glyphs',
        path: 'dimensions[1].levels[4].label',
        dimension: 'setting',
        level: 'bangkok',
        characters: ['ก', 'ร', 'ุ', 'ง', 'เ', 'ท', 'พ'],
        message: expect.stringContaining('Level "bangkok" of "setting"'),
      },
      {
        code: 'missing_glyphs',
        path: 'dimensions[1].levels[5].label',
        dimension: 'setting',
        level: 'party',
        characters: ['🎉'],
        message: expect.stringContaining('🎉 (U+1F389)'),
      },
    ]);
    // A warning, not a refusal: the matrix is stored and served without it.
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/matrices/${body.id}`,
      headers: { authorization: auth },
    });
    expect(got.statusCode).toBe(200);
    expect(got.json().dimensions[1].levels[4].label).toBe('กรุงเทพ Bangkok');
  });

  it('has none when every label is covered, CSV uploads included', async () => {
    const res = await upload('setting,tone\nМосква,warm\nירושלים,cool\n', 'text/csv');
    expect(res.statusCode).toBe(201);
    expect(res.json().warnings).toEqual([]);
  });
});
