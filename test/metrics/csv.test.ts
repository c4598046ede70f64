import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants } from '../reports/fixtures.ts';

// How metrics CSV bytes are read: encodings, row shapes and headers, through the real app.
let t: TestApp;
let auth: string;
let v1: string;

beforeAll(async () => {
  t = await createTestApp({
    ...openaiApiOnly,
    METRICS_MAX_ROWS: '300',
    METRICS_MAX_BYTES: '20000',
  });
  auth = await t.key('metrics-csv-co');
  const mine = await campaignWithVariants(t, auth, { tone: ['calm'] }, [{ tone: 'calm' }]);
  v1 = mine.variant('calm');
});
afterAll(() => t.close());

const csv = (payload: Buffer | string, contentType = 'text/csv') =>
  t.app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { authorization: auth, 'content-type': contentType },
    payload,
  });

async function platforms(date: string) {
  const { rows } = await t.testDb.pool.query<{ platform: string }>(
    `SELECT platform FROM metrics WHERE variant_id = $1 AND date = $2 ORDER BY platform`,
    [v1, date],
  );
  return rows.map((r) => r.platform);
}

describe('metrics CSV encodings', () => {
  const latin1 = () =>
    Buffer.from(
      `variant_id,date,platform,impressions,clicks\n${v1},2025-05-01,meta,10,1\n${v1},2025-05-01,café,10,1\n`,
      'latin1',
    );
  const notUtf8 = {
    row: 3,
    message:
      'the file is not UTF-8 text; save it as "CSV UTF-8" (the first invalid byte is in row 3)',
  };

  it('rejects Windows-1252 bytes with the row, in a body and in a multipart file', async () => {
    const body = await csv(latin1());
    expect(body.statusCode, body.body).toBe(400);
    expect(body.json().errors).toEqual([notUtf8]);
    const form = new FormData();
    form.append('file', new Blob([latin1()]), 'metrics.csv');
    const file = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth },
      payload: form as unknown as string,
    });
    expect(file.statusCode, file.body).toBe(400);
    expect(file.json().errors).toEqual([notUtf8]);
    expect(await platforms('2025-05-01')).toEqual([]);
  });

  it('decodes a declared charset and UTF-16 with a BOM', async () => {
    const declared = await csv(latin1(), 'text/csv; charset=windows-1252');
    expect(declared.statusCode, declared.body).toBe(200);
    expect(await platforms('2025-05-01')).toEqual(['café', 'meta']);

    const text = `variant_id;date;platform;impressions;clicks\n${v1};2025-05-02;Zürich;10;1\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le).swap16();
    for (const bytes of [le, be]) {
      const res = await csv(bytes);
      expect(res.statusCode, res.body).toBe(200);
    }
    const plain = await csv(le, 'text/plain');
    expect(plain.statusCode, plain.body).toBe(200);
    expect(await platforms('2025-05-02')).toEqual(['Zürich']);
  });

  it('decodes a streamed body chunk by chunk, characters split across chunks included', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const send = (chunks: Buffer[]) =>
      fetch(`${address}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'text/csv' },
        body: new ReadableStream({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(chunk);
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    const bytes = Buffer.from(
      `variant_id,date,platform,impressions,clicks\n${v1},2025-05-03,münchen,10,1\n`,
    );
    const cut = bytes.indexOf(Buffer.from('ü')) + 1;
    const ok = await send([bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await platforms('2025-05-03')).toEqual(['münchen']);

    const bad = Buffer.from(`${v1},2025-05-04,x\xe9,10,1\n`, 'latin1');
    const res = await send([bytes, bytes.subarray(bytes.indexOf('\n') + 1), bad]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: unknown }).errors).toEqual([
      {
        row: 4,
        message:
          'the file is not UTF-8 text; save it as "CSV UTF-8" (the first invalid byte is in row 4)',
      },
    ]);
  });
});

describe('metrics CSV row shapes', () => {
  it('rejects rows with another field count, naming another delimiter, and writes nothing', async () => {
    const res = await csv(
      [
        'variant_id;date;impressions;clicks',
        `${v1};2025-05-10;10;1`,
        `${v1},2025-05-11,10,1`,
        `${v1};2025-05-12;10`,
        `${v1};2025-05-13;10;1;`,
      ].join('\n'),
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toEqual([
      {
        row: 3,
        message:
          'row has 1 field but the header has 4; the row contains "," but the header is separated by ";": use one delimiter throughout',
      },
      { row: 4, message: 'row has 3 fields but the header has 4' },
      { row: 5, message: 'row has 5 fields but the header has 4' },
    ]);
    expect(await platforms('2025-05-10')).toEqual([]);
  });

  it('accepts the rows of blank cells and blank lines Excel leaves below the data', async () => {
    const res = await csv(
      `variant_id;date;impressions;clicks\r\n${v1};2025-05-14;10;1\r\n;;;\r\n ; ;;\r\n\r\n`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ upserted: 1 });
  });
});

describe('metrics CSV headers', () => {
  it('are matched ignoring case and surrounding spaces', async () => {
    const res = await csv(
      `Variant_ID, DATE ,Platform,Impressions,CLICKS\n${v1},2025-05-20,Meta,10,1\n`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(await platforms('2025-05-20')).toEqual(['Meta']);
  });
});
