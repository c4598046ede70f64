import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let dir: string;
const images: Record<string, Buffer> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-assets-'));
  t = await createTestApp({
    UPLOAD_LIMIT_BYTES: String(200 * 1024),
    STORAGE_DIR: join(dir, 'storage'),
  });
  auth = await t.key('logos');
  const make = async (name: string, size: string, extra: string[] = []) => {
    const out = join(dir, name);
    await t.infra.media.runner.ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `color=c=red:s=${size}`,
      '-frames:v',
      '1',
      ...extra,
      out,
    ]);
    images[name] = await readFile(out);
  };
  await Promise.all([
    make('logo.png', '120x60'),
    make('logo.jpg', '64x64'),
    make('logo.webp', '80x40'),
    make('big.png', '900x900', ['-vf', 'noise=alls=100:allf=t']),
  ]);
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

function upload(bytes: Buffer, filename: string, as = auth, field = 'file') {
  const form = new FormData();
  form.append(field, new Blob([bytes]), filename);
  return t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: as },
    payload: form,
  });
}

function postForm(form: FormData) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
}

/** Every file under the storage directory, to show a refused upload wrote nothing there. */
async function storedFiles() {
  const all = await readdir(join(dir, 'storage'), { recursive: true }).catch(() => []);
  return all.sort();
}

describe('POST /v1/assets', () => {
  it.each([
    ['logo.png', 'image/png', 120, 60],
    ['logo.jpg', 'image/jpeg', 64, 64],
    ['logo.webp', 'image/webp', 80, 40],
  ])('stores a %s with its real type and size', async (name, type, width, height) => {
    const res = await upload(images[name]!, name);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      kind: 'logo',
      content_type: type,
      width,
      height,
      bytes: images[name]!.length,
      filename: name,
    });
    expect(body.id).toMatch(/^ast_/);
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/assets/${body.id}`,
      headers: { authorization: auth },
    });
    expect(got.json()).toEqual(body);
  });

  it('trusts the bytes, not the file name', async () => {
    const res = await upload(images['logo.jpg']!, 'pretending.png');
    expect(res.json().content_type).toBe('image/jpeg');
  });

  it('returns the existing asset for the same bytes', async () => {
    const first = await upload(images['logo.png']!, 'again.png');
    expect(first.statusCode).toBe(200);
    const count = await t.testDb.pool.query(
      `SELECT count(*) FROM assets WHERE content_type = 'image/png'`,
    );
    expect(Number(count.rows[0].count)).toBe(1);
  });

  it('refuses SVG, GIF and text with 415', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    for (const [bytes, name, said] of [
      [svg, 'logo.svg', 'image/svg+xml'],
      [gif, 'logo.gif', 'image/gif'],
      [Buffer.from('hello'), 'logo.png', 'not a recognised image'],
    ] as const) {
      const res = await upload(bytes, name);
      expect(res.statusCode).toBe(415);
      expect(res.json().detail).toContain(said);
    }
  });

  it('refuses a truncated image with 422', async () => {
    const png = images['logo.png']!;
    const res = await upload(png.subarray(0, Math.floor(png.length / 2)), 'cut.png');
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'file', message: 'cannot be decoded' }]);
  });

  it('refuses a file over the limit with 413 and keeps nothing', async () => {
    expect(images['big.png']!.length).toBeGreaterThan(200 * 1024);
    const before = await t.testDb.pool.query('SELECT count(*) FROM assets');
    const res = await upload(images['big.png']!, 'big.png');
    expect(res.statusCode).toBe(413);
    const after = await t.testDb.pool.query('SELECT count(*) FROM assets');
    expect(after.rows[0].count).toBe(before.rows[0].count);
  });

  it('needs a multipart field named file', async () => {
    expect((await upload(images['logo.png']!, 'x.png', auth, 'logo')).statusCode).toBe(400);
    const json = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth },
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
  });

  it('refuses a form with several files, keeping none of them', async () => {
    const before = await t.testDb.pool.query('SELECT count(*) FROM assets');
    const stored = await storedFiles();
    const form = new FormData();
    form.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
    form.append('file', new Blob([images['logo.webp']!]), 'two.webp');
    const res = await postForm(form);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('one logo per request');
    expect(res.json().errors).toEqual([{ path: 'file', message: 'one file per request' }]);
    const after = await t.testDb.pool.query('SELECT count(*) FROM assets');
    expect(after.rows[0].count).toBe(before.rows[0].count);
    expect(await storedFiles()).toEqual(stored);
  });

  it('answers a refused form over a real connection without stalling the client', async () => {
    // The second file is never read; a kept-alive connection used to stall on its unread bytes.
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    for (let i = 0; i < 4; i++) {
      const form = new FormData();
      form.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
      form.append('file', new Blob([Buffer.alloc(3 * 1024 * 1024, 7)]), 'two.png');
      const res = await fetch(`${address}/v1/assets`, {
        method: 'POST',
        headers: { authorization: auth },
        body: form,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: unknown }).errors).toEqual([
        { path: 'file', message: 'one file per request' },
      ]);
    }
    const form = new FormData();
    form.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
    const res = await fetch(`${address}/v1/assets`, {
      method: 'POST',
      headers: { authorization: auth },
      body: form,
    });
    expect(res.status).toBe(200);
  });

  it('names a field other than file, before or after it', async () => {
    const before = await t.testDb.pool.query('SELECT count(*) FROM assets');
    const after = new FormData();
    after.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
    after.append('caption', 'our logo');
    const first = new FormData();
    first.append('partner', 'acme');
    first.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
    const extraFile = new FormData();
    extraFile.append('file', new Blob([images['logo.jpg']!]), 'one.jpg');
    extraFile.append('logo', new Blob([images['logo.webp']!]), 'two.webp');
    for (const [form, name] of [
      [after, 'caption'],
      [first, 'partner'],
      [extraFile, 'logo'],
    ] as const) {
      const res = await postForm(form);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors).toEqual([
        { path: name, message: 'unknown field: the form takes only "file"' },
      ]);
    }
    const text = new FormData();
    text.append('file', 'not a file');
    const res = await postForm(text);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ path: 'file', message: 'must be a file' }]);
    const count = await t.testDb.pool.query('SELECT count(*) FROM assets');
    expect(count.rows[0].count).toBe(before.rows[0].count);
  });

  it("hides another tenant's asset", async () => {
    const mine = (await upload(images['logo.webp']!, 'mine.webp')).json();
    const other = await t.key('other-logos');
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/assets/${mine.id}`,
      headers: { authorization: other },
    });
    expect(res.statusCode).toBe(404);
    // Their upload of the same bytes is their own asset, not ours.
    const theirs = await upload(images['logo.webp']!, 'theirs.webp', other);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().id).not.toBe(mine.id);
  });

  it('needs campaigns:write', async () => {
    const reader = await t.key('reader-logos', ['campaigns:read']);
    expect((await upload(images['logo.png']!, 'x.png', reader)).statusCode).toBe(403);
  });
});
