import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage, isStorageKey, StorageError } from '../../src/media/index.ts';
import { S3_TEMP_PREFIX, type S3Storage } from '../../src/media/s3-storage.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { makeTempDir } from './helpers.ts';

let bucket: TestBucket;
let storage: S3Storage;

beforeAll(async () => {
  bucket = await createTestBucket();
  storage = createS3Storage({
    endpoint: bucket.env.S3_ENDPOINT,
    region: 'us-east-1',
    bucket: bucket.bucket,
    accessKeyId: bucket.env.S3_ACCESS_KEY_ID,
    secretAccessKey: bucket.env.S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  });
});
afterAll(async () => {
  storage?.close();
  await bucket?.drop();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function storedBytes(key: string): Promise<Buffer> {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('S3Storage on an S3-compatible server', () => {
  it('streams an upload of several multipart parts to its content address, byte for byte', async () => {
    // 19 MiB: three 8 MiB parts, the last one short, so lib-storage's multipart path runs.
    const content = randomBytes(19 * 1024 * 1024);
    const result = await storage.putStream(chunked(content, 64 * 1024), {
      contentType: 'video/mp4',
    });
    expect(result).toEqual({
      key: `${sha(content).slice(0, 2)}/${sha(content).slice(2, 4)}/${sha(content)}`,
      sha256: sha(content),
      bytes: content.length,
    });
    expect(isStorageKey(result.key)).toBe(true);
    // What the server holds, read around the store: no aws-chunked framing, no checksum trailer.
    expect(sha(await storedBytes(result.key))).toBe(sha(content));
    expect(await storage.stat(result.key)).toEqual({ bytes: content.length });
    expect((await bucket.keys()).filter((k) => k.startsWith(S3_TEMP_PREFIX))).toEqual([]);
  });

  it('stores a file once however often it is put, and leaves no temporary objects', async () => {
    const { dir, cleanup } = await makeTempDir('admatrix-s3-');
    try {
      const path = join(dir, 'clip.bin');
      const content = Buffer.from('same bytes, same key\n'.repeat(100));
      await writeFile(path, content);
      const first = await storage.putFile(path);
      const second = await storage.putStream(Readable.from([content]));
      expect(second.key).toBe(first.key);
      const keys = await bucket.keys();
      expect(keys.filter((k) => k === first.key)).toHaveLength(1);
      expect(keys.filter((k) => k.startsWith(S3_TEMP_PREFIX))).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('answers ranges as HTTP does and refuses unsatisfiable ones before reading', async () => {
    const content = Buffer.from('0123456789abcdef');
    const { key } = await storage.putStream(Readable.from([content]));
    expect((await buffer(await storage.open(key, { start: 4, end: 7 }))).toString()).toBe('4567');
    expect((await buffer(await storage.open(key, { start: 10 }))).toString()).toBe('abcdef');
    expect((await buffer(await storage.open(key, { end: 999 }))).toString()).toBe(
      content.toString(),
    );
    const err = await storage.open(key, { start: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE', size: 16 });
  });

  it('says NOT_FOUND for a missing object and refuses keys that are not content addresses', async () => {
    const missing = sha(Buffer.from('never stored'));
    const key = `${missing.slice(0, 2)}/${missing.slice(2, 4)}/${missing}`;
    expect(await storage.stat(key)).toBeNull();
    await expect(storage.open(key)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(storage.stat('../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('stops an upload past maxBytes and keeps nothing of it', async () => {
    const before = await bucket.keys();
    const content = randomBytes(12 * 1024 * 1024);
    const err = await storage
      .putStream(chunked(content, 256 * 1024), { maxBytes: 10 * 1024 * 1024 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'TOO_LARGE' });
    expect(await bucket.keys()).toEqual(before);
  });

  it('stops when the caller aborts, and keeps nothing', async () => {
    const before = await bucket.keys();
    const abort = new AbortController();
    async function* slow() {
      yield randomBytes(1024);
      abort.abort(new Error('client went away'));
      yield randomBytes(1024);
    }
    await expect(storage.putStream(slow(), { signal: abort.signal })).rejects.toThrow();
    expect(await bucket.keys()).toEqual(before);
  });

  it('signs GET links that serve the object, with its content type', async () => {
    const content = Buffer.from('presigned');
    const { key } = await storage.putStream(Readable.from([content]));
    const url = await storage.presignedGet(key, {
      expiresInSeconds: 60,
      contentType: 'video/mp4',
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('presigned');
    const ranged = await fetch(url, { headers: { range: 'bytes=0-2' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('pre');
  });
});
