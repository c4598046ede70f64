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

describe('glyph warnings on the campaign text', () => {
  const thai = (text: string) => [...new Set(text.replace(/[\s\x20-\x7e]/g, ''))];
  const write = (method: 'POST' | 'PATCH', url: string, payload: unknown) =>
    t.app.inject({ method, url, headers: { authorization: auth }, payload: payload as string });

  it('names each field whose own text no caption font covers, on create and on patch', async () => {
    const created = await write('POST', '/v1/campaigns', {
      ...campaignBody,
      brief: { ...campaignBody.brief, product: 'Fizz 🎉', call_to_action: 'ซื้อเลย' },
      overlay: {
        // The placeholder's level is checked at matrix upload; the brief one here.
        text_template: 'ราคาพิเศษ {{setting}} {{brief.product}}',
        disclosure: { text: 'สร้างโดย AI' },
      },
      spot: {
        shots: [{ key: 'street', prompt_template: 'A {{tone}} street in {{setting}}', seconds: 4 }],
        transition: { type: 'cut', seconds: 0 },
        end_card: { seconds: 2, text_template: 'Visit {{setting}} 🚀 today', logo: false },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const warnings = created.json().warnings;
    expect(warnings.map((w: { path: string }) => w.path)).toEqual([
      'overlay.text_template',
      'brief.product',
      'spot.end_card.text_template',
      'brief.call_to_action',
      'overlay.disclosure.text',
    ]);
    expect(warnings[0]).toEqual({
      code: 'missing_glyphs',
      path: 'overlay.text_template',
      characters: thai('ราคาพิเศษ'),
      message: expect.stringContaining('overlay.text_template: no caption font draws ร (U+0E23)'),
    });
    expect(warnings[1].characters).toEqual(['🎉']);
    expect(warnings[2].characters).toEqual(['🚀']);
    expect(warnings[3].characters).toEqual(thai('ซื้อเลย'));
    expect(warnings[4].characters).toEqual(thai('สร้างโดย'));
    // Warnings, not a refusal: the campaign is stored as sent.
    const id = created.json().id;
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: auth },
    });
    expect(got.json().brief.call_to_action).toBe('ซื้อเลย');

    // Covered scripts clear them; a hidden label is not drawn, so its text is not checked.
    const fixed = await write('PATCH', `/v1/campaigns/${id}`, {
      brief: { product: 'Fizz', call_to_action: 'Купить сейчас' },
      overlay: {
        text_template: 'מבצע ב-{{setting}} 東京',
        disclosure: { visible: false, text: 'สร้างโดย AI' },
      },
      spot: null,
    });
    expect(fixed.statusCode, fixed.body).toBe(200);
    expect(fixed.json().warnings).toEqual([]);

    // A patch of one field reports the campaign as it now stands.
    const cta = await write('PATCH', `/v1/campaigns/${id}`, { brief: { call_to_action: 'ซื้อ' } });
    expect(cta.statusCode).toBe(200);
    expect(cta.json().warnings).toEqual([
      expect.objectContaining({ path: 'brief.call_to_action', characters: thai('ซื้อ') }),
    ]);
  });

  it('has none for a campaign with covered text', async () => {
    const created = await write('POST', '/v1/campaigns', {
      ...campaignBody,
      brief: { ...campaignBody.brief, call_to_action: 'اشترِ الآن' },
      overlay: { text_template: 'Αθήνα {{setting}}' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().warnings).toEqual([]);
  });
});
