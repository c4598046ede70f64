import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFsStorage,
  type FsStorage,
  isStorageKey,
  StorageError,
} from '../../src/media/index.ts';
import { makeTempDir } from './helpers.ts';

let base: string;
let root: string;
let cleanup: () => Promise<void>;
let storage: FsStorage;

beforeEach(async () => {
  ({ dir: base, cleanup } = await makeTempDir('admatrix-storage-test-'));
  // The store lives one level down so sources can sit beside it, outside what it owns.
  root = join(base, 'store');
  storage = createFsStorage({ root });
});
afterEach(() => cleanup());

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Every file under root, relative, so tests can see exactly what is left on disk. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function chunked(content: string, size: number): Readable {
  const parts: Buffer[] = [];
  const buf = Buffer.from(content);
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

describe('FsStorage', () => {
  const content = 'hello admatrix: '.repeat(1000);

  it('stores a stream under its sha256 and reads it back', async () => {
    const result = await storage.putStream(chunked(content, 777), { contentType: 'text/plain' });
    const digest = sha(content);
    expect(result).toEqual({
      key: `${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`,
      sha256: digest,
      bytes: content.length,
    });
    expect(isStorageKey(result.key)).toBe(true);
    expect(await storage.stat(result.key)).toEqual({ bytes: content.length });
    expect(await readFile(storage.path(result.key), 'utf8')).toBe(content);
    expect(await text(await storage.open(result.key))).toBe(content);
    expect(await filesUnder(root)).toEqual([result.key]);
  });

  it('deduplicates identical content and leaves no temp files', async () => {
    const a = await storage.putStream(chunked(content, 100));
    const b = await storage.putStream(chunked(content, 4096));
    const src = join(base, 'src.txt');
    await writeFile(src, content);
    const c = await storage.putFile(src);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(await filesUnder(root)).toEqual([a.key]);
  });

  it('concurrent puts of the same content end with one object', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => storage.putStream(chunked(content, 512))),
    );
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect(await filesUnder(root)).toEqual([results[0]!.key]);
  });

  it('serves inclusive byte ranges, as HTTP Range does', async () => {
    const { key } = await storage.putStream(Readable.from(['0123456789']));
    expect(await text(await storage.open(key, { start: 2, end: 5 }))).toBe('2345');
    expect(await text(await storage.open(key, { start: 7 }))).toBe('789');
    expect(await text(await storage.open(key, { end: 0 }))).toBe('0');
    expect(await text(await storage.open(key, { start: 8, end: 100 }))).toBe('89');
    for (const range of [{ start: 10 }, { start: 6, end: 5 }, { start: -1 }, { start: 1.5 }]) {
      const err = await storage.open(key, range).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE', size: 10 });
    }
  });

  it('creates its root on first write', async () => {
    expect(await storage.stat(`ab/cd/abcd${'0'.repeat(60)}`)).toBeNull();
    await storage.putStream(Readable.from(['x']));
    expect(await filesUnder(root)).toHaveLength(1);
  });

  it('handles an empty object', async () => {
    const { key, bytes } = await storage.putStream(Readable.from([]));
    expect(bytes).toBe(0);
    expect(await text(await storage.open(key))).toBe('');
    await expect(storage.open(key, { start: 0 })).rejects.toMatchObject({
      code: 'RANGE_NOT_SATISFIABLE',
    });
  });

  it('reports missing objects and refuses keys that are not content addresses', async () => {
    const missing = `${'ab'}/${'cd'}/${'abcd'.padEnd(64, '0')}`;
    expect(await storage.stat(missing)).toBeNull();
    await expect(storage.open(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    for (const bad of [
      '../../etc/passwd',
      `ab/cd/${'ff'.repeat(32)}`,
      `AB/CD/AB${'0'.repeat(62)}`,
    ]) {
      expect(() => storage.path(bad)).toThrow(StorageError);
      await expect(storage.stat(bad)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
  });

  it('discards a failed upload: source error, size limit, abort', async () => {
    async function* failing() {
      yield Buffer.from('partial data');
      throw new Error('client went away');
    }
    await expect(storage.putStream(failing())).rejects.toThrow('client went away');
    await expect(
      storage.putStream(chunked(content, 100), { maxBytes: 1000 }),
    ).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    const controller = new AbortController();
    controller.abort();
    await expect(
      storage.putStream(chunked(content, 100), { signal: controller.signal }),
    ).rejects.toThrow();
    expect(await filesUnder(root)).toEqual([]);
  });

  it('replaces a damaged object of the wrong size on re-upload', async () => {
    const { key } = await storage.putStream(Readable.from([content]));
    await writeFile(storage.path(key), 'truncated');
    await storage.putStream(Readable.from([content]));
    expect(await readFile(storage.path(key), 'utf8')).toBe(content);
  });

  it('sweeps stale temp files only', async () => {
    await storage.putStream(Readable.from(['x']));
    await writeFile(join(root, '.tmp', 'stale.part'), 'x');
    expect(await storage.sweepTemp(60_000)).toBe(0);
    expect(await storage.sweepTemp(60_000, Date.now() + 120_000)).toBe(1);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });
});
