import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../../helpers/app.ts';

// Uploads through the real app: what reaches the parsers is what the HTTP layer made of the bytes.
let t: TestApp;
let auth: string;
let campaignId: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = await t.key('upload-co');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth },
    payload: {
      ...campaignBody,
      prompt_template: 'A {{tone}} ad for {{brief.product}} in {{city}}',
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  campaignId = res.json().id;
});
afterAll(() => t.close());

const post = (payload: Buffer | string | FormData, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${campaignId}/matrices`,
    headers: { authorization: auth, ...headers },
    payload: payload as string,
  });

function multipart(bytes: Buffer, filename: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  return form;
}

const levelsOf = (body: { dimensions: { key: string; levels: { key: string }[] }[] }) =>
  Object.fromEntries(body.dimensions.map((d) => [d.key, d.levels.map((l) => l.key)]));

describe('CSV bodies are decoded strictly, like multipart files', () => {
  const cp1252 = Buffer.from('tone,city\ncalm,Paris\nwarm,café\n', 'latin1');

  it('rejects Windows-1252 bytes in a text/csv body with the row, as the multipart path does', async () => {
    const body = await post(cp1252, { 'content-type': 'text/csv' });
    expect(body.statusCode, body.body).toBe(400);
    expect(body.headers['content-type']).toMatch(/application\/problem\+json/);
    const error = {
      row: 3,
      message:
        'the file is not UTF-8 text; save it as "CSV UTF-8" (the first invalid byte is in row 3)',
    };
    expect(body.json().errors).toEqual([error]);
    const file = await post(multipart(cp1252, 'm.csv'));
    expect(file.statusCode, file.body).toBe(400);
    expect(file.json().errors).toEqual([error]);
  });

  it('decodes a declared charset and UTF-16 with a BOM', async () => {
    const declared = await post(cp1252, { 'content-type': 'text/csv; charset=windows-1252' });
    expect(declared.statusCode, declared.body).toBe(201);
    expect(levelsOf(declared.json())).toEqual({ tone: ['calm', 'warm'], city: ['Paris', 'café'] });

    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('tone\tcity\ncalme\tZürich\n', 'utf16le'),
    ]);
    for (const res of [
      await post(utf16, { 'content-type': 'text/csv' }),
      await post(utf16, { 'content-type': 'text/plain' }),
      await post(multipart(utf16, 'unicode.txt')),
    ]) {
      expect(res.statusCode, res.body).toBe(201);
      expect(levelsOf(res.json())).toEqual({ tone: ['calme'], city: ['Zürich'] });
    }
  });

  it('answers 415 for a charset nobody knows', async () => {
    const res = await post('tone,city\ncalm,Paris\n', {
      'content-type': 'text/csv; charset=x-klingon',
    });
    expect(res.statusCode, res.body).toBe(415);
    expect(res.json().detail).toMatch(/unsupported charset "x-klingon"/);
  });
});

describe('row shapes', () => {
  it('rejects a row written with another delimiter instead of storing "playful,Paris"', async () => {
    const res = await post('tone;city\nplayful,Paris\nearnest;Rome\n', {
      'content-type': 'text/csv',
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toEqual([
      {
        row: 2,
        message:
          'row has 1 field but the header has 2; the row contains "," but the header is separated by ";": use one delimiter throughout',
      },
    ]);
  });

  it('rejects a short wide row, and accepts the blank rows Excel leaves below the data', async () => {
    const short = await post(multipart(Buffer.from('tone,city\ncalm,Paris\nwarm\n'), 'm.csv'));
    expect(short.statusCode, short.body).toBe(422);
    expect(short.json().errors).toEqual([
      { row: 3, message: 'row has 1 field but the header has 2' },
    ]);
    const excel = await post('tone;city\r\ncalm;Paris\r\nwarm;\r\n;\r\n;\r\n\r\n', {
      'content-type': 'text/csv',
    });
    expect(excel.statusCode, excel.body).toBe(201);
    expect(levelsOf(excel.json())).toEqual({ tone: ['calm', 'warm'], city: ['Paris'] });
  });
});

async function workbook(sheets: Record<string, (string | null)[][]>) {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) wb.addWorksheet(name).addRows(rows);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('workbooks and headers', () => {
  const readMe = [['Read me: fill in the Data sheet'], ['One column per variable.']];

  it('reads the sheet that holds the matrix, not a "Read me" sheet first', async () => {
    const buf = await workbook({
      'Read me': readMe,
      Data: [
        ['Tone', 'City'],
        ['Calm', 'Paris'],
      ],
    });
    const res = await post(multipart(buf, 'matrix.xlsx'));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().dimensions).toEqual([
      { key: 'tone', label: 'Tone', levels: [{ key: 'Calm', label: 'Calm' }] },
      { key: 'city', label: 'City', levels: [{ key: 'Paris', label: 'Paris' }] },
    ]);
  });

  it('names the sheet, row and column of an error', async () => {
    const buf = await workbook({
      'Read me': readMe,
      Data: [
        ['tone', 'city'],
        ['calm', 'Paris'],
        ['calm', 'Rome'],
      ],
    });
    const res = await post(multipart(buf, 'matrix.xlsx'));
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toEqual([
      {
        sheet: 'Data',
        row: 3,
        column: 'tone',
        message: 'duplicate level key "calm" (first at row 2)',
      },
    ]);
  });

  it('matches CSV headers ignoring case, long-form columns included', async () => {
    const wide = await post('Tone,CITY\nCalm,Paris\n', { 'content-type': 'text/csv' });
    expect(wide.statusCode, wide.body).toBe(201);
    expect(levelsOf(wide.json())).toEqual({ tone: ['Calm'], city: ['Paris'] });
    const long = await post('Dimension,Level,Label\nTone,calm,Calm\nCity,Paris,\n', {
      'content-type': 'text/csv',
    });
    expect(long.statusCode, long.body).toBe(201);
    expect(long.json().dimensions[0]).toEqual({
      key: 'tone',
      label: 'Tone',
      levels: [{ key: 'calm', label: 'Calm' }],
    });
  });
});
