import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssetService, type UploadPart } from '../../src/assets/service.ts';
import { type Media, readImageHeader } from '../../src/media/index.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let tenantId: string;
let dir: string;
const images: Record<string, Buffer> = {};

/** A real PNG: 1-bit grey, all black, so 16000×16000 deflates to ~32 KB yet decodes to 256 MP. */
function blackPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A WebP whose VP8X header says 100×100 around the frame of a wider one: a header that lies. */
function lyingWebp(real: Buffer): Buffer {
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(99, 12, 3);
  vp8x.writeUIntLE(99, 15, 3);
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), vp8x, real.subarray(12)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-asset-header-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage') });
  auth = await t.key('header-co');
  tenantId = (await t.testDb.pool.query(`SELECT id FROM tenants WHERE name = 'header-co'`)).rows[0]
    .id;
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
    make('small.png', '120x60'),
    make('small.jpg', '64x48'),
    make('small.webp', '80x40'),
    make('lossless.webp', '90x30', ['-lossless', '1']),
    make('alpha.webp', '70x20', ['-vf', 'format=rgba']),
    make('wide.png', '5000x16'),
    make('wide.jpg', '5000x16'),
    make('wide.webp', '5000x16'),
    make('wide-lossless.webp', '16x5000', ['-lossless', '1']),
  ]);
  images['bomb.png'] = blackPng(16000, 16000);
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

async function headerOf(bytes: Buffer) {
  const file = join(dir, `h-${Math.random()}`);
  await writeFile(file, bytes);
  return readImageHeader(file);
}

describe('readImageHeader', () => {
  it.each([
    ['small.png', 'png', 120, 60],
    ['small.jpg', 'jpeg', 64, 48],
    ['small.webp', 'webp', 80, 40],
    ['lossless.webp', 'webp', 90, 30],
    ['alpha.webp', 'webp', 70, 20],
    ['wide-lossless.webp', 'webp', 16, 5000],
    ['bomb.png', 'png', 16000, 16000],
  ])('reads %s as %s %ix%i', async (name, format, width, height) => {
    expect(await headerOf(images[name]!)).toEqual({ format, width, height });
  });

  it('says null for a cut-short or malformed header', async () => {
    const jpeg = images['small.jpg']!;
    // Start of image, then straight to the scan: no frame header to read.
    const noFrame = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, ...Buffer.alloc(30)]);
    for (const bytes of [
      images['small.png']!.subarray(0, 20),
      jpeg.subarray(0, 40),
      noFrame,
      images['small.webp']!.subarray(0, 22),
      Buffer.from('not an image at all, just some text'),
    ]) {
      expect(await headerOf(bytes)).toBeNull();
    }
  });
});

/** The real media, counting the decodes it is asked for and able to hold them at a gate. */
function countingMedia() {
  const real = t.infra.media;
  const state = { decodes: 0, inFlight: 0, maxInFlight: 0, gate: Promise.resolve() };
  const media: Media = {
    ...real,
    async decodeCheck(file, opts) {
      state.decodes++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await state.gate;
        await real.decodeCheck(file, opts);
      } finally {
        state.inFlight--;
      }
    },
  };
  return { media, state };
}

async function* formOf(bytes: Buffer, filename: string): AsyncIterable<UploadPart> {
  yield { type: 'file', fieldname: 'file', filename, file: Readable.from([bytes]) };
}

function serviceWith(media: Media, decodeConcurrency = 2) {
  return createAssetService({
    db: t.testDb.db,
    media,
    storage: t.infra.storage,
    tmpDir: join(dir, 'tmp'),
    decodeConcurrency,
  });
}

const refusal = (bytes: Buffer, name: string, service: ReturnType<typeof serviceWith>) =>
  service.upload(tenantId, { parts: formOf(bytes, name), limitBytes: 5 * 1024 * 1024 }).then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: { status?: number; detail?: string; errors?: unknown }) => err,
  );

describe('a logo larger than 4096 px', () => {
  it('is refused from its header over HTTP, naming the size', async () => {
    expect(images['bomb.png']!.length).toBeLessThan(100 * 1024);
    const form = new FormData();
    form.append('file', new Blob([images['bomb.png']!]), 'bomb.png');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth },
      payload: form,
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('refused before decoding');
    expect(res.json().errors).toEqual([{ path: 'file', message: '16000x16000' }]);
    expect((await t.testDb.pool.query('SELECT count(*) FROM assets')).rows[0].count).toBe('0');
  });

  it.each([
    ['bomb.png', '16000x16000'],
    ['wide.png', '5000x16'],
    ['wide.jpg', '5000x16'],
    ['wide.webp', '5000x16'],
    ['wide-lossless.webp', '16x5000'],
  ])('%s is refused with no decode run', async (name, size) => {
    const { media, state } = countingMedia();
    const err = await refusal(images[name]!, name, serviceWith(media));
    expect(err.status).toBe(422);
    expect(err.errors).toEqual([{ path: 'file', message: size }]);
    expect(state.decodes).toBe(0);
  });

  it('is still caught by the decode when the header lies about the size', async () => {
    const { media, state } = countingMedia();
    const lie = lyingWebp(images['wide.webp']!);
    expect(await headerOf(lie)).toEqual({ format: 'webp', width: 100, height: 100 });
    const err = await refusal(lie, 'lie.webp', serviceWith(media));
    expect(err.status).toBe(422);
    expect(err.errors).toEqual([{ path: 'file', message: '5000x16' }]);
    expect(state.decodes).toBe(1);
  });

  it('a small header over truncated data is caught by the decode', async () => {
    const { media, state } = countingMedia();
    const png = blackPng(400, 400);
    const cut = png.subarray(0, png.length - 40);
    expect(await headerOf(cut)).toMatchObject({ width: 400, height: 400 });
    const err = await refusal(cut, 'cut.png', serviceWith(media));
    expect(err.status).toBe(422);
    expect(err.errors).toEqual([{ path: 'file', message: 'cannot be decoded' }]);
    expect(state.decodes).toBe(1);
  });
});

describe('decodes at once', () => {
  it('are bounded; the others wait their turn and then succeed', async () => {
    const { media, state } = countingMedia();
    let open!: () => void;
    state.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const service = serviceWith(media, 2);
    const names = ['small.png', 'small.jpg', 'small.webp', 'lossless.webp'];
    const uploads = names.map((name) =>
      service.upload(tenantId, { parts: formOf(images[name]!, name), limitBytes: 1 << 20 }),
    );
    await waitFor(
      () => {
        const s = service.decodeSlots();
        return s.running === 2 && s.waiting === 2 ? s : undefined;
      },
      { what: 'two decodes running and two waiting' },
    );
    expect(state.inFlight).toBe(2);
    open();
    const done = await Promise.all(uploads);
    expect(done.map((d) => d.row.width)).toEqual([120, 64, 80, 90]);
    expect(state.maxInFlight).toBe(2);
    expect(state.decodes).toBe(4);
    expect(service.decodeSlots()).toEqual({ running: 0, waiting: 0 });
  });
});
