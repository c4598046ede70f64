import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertStorageKey,
  type ByteRange,
  keyForSha256,
  type PutOptions,
  type PutResult,
  resolveRange,
  type Storage,
  StorageError,
} from './storage.ts';

export interface FsStorageOptions {
  /** Directory that holds the objects; created on first write. */
  root: string;
}

const TEMP_DIR = '.tmp';

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Content-addressed files under `root/ab/cd/<sha256>`. Uploads land in `root/.tmp` (same
 * filesystem, so the final rename is atomic) and are hashed while they are written.
 */
export class FsStorage implements Storage {
  readonly root: string;

  constructor(opts: FsStorageOptions) {
    this.root = resolve(opts.root);
  }

  path(key: string): string {
    assertStorageKey(key);
    return join(this.root, key);
  }

  async putStream(
    stream: Readable | AsyncIterable<Uint8Array | string>,
    opts: PutOptions = {},
  ): Promise<PutResult> {
    const tmpDir = join(this.root, TEMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    let bytes = 0;
    try {
      await pipeline(
        stream,
        async function* hashing(chunks: AsyncIterable<Uint8Array | string>) {
          for await (const chunk of chunks) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
            bytes += buf.byteLength;
            if (bytes > maxBytes) {
              throw new StorageError(`upload exceeds ${maxBytes} bytes`, 'TOO_LARGE');
            }
            hash.update(buf);
            yield buf;
          }
        },
        // flush: fsync before close, so a renamed object is on disk, not just in the page cache.
        createWriteStream(tmp, { flags: 'wx', flush: true }),
        { signal: opts.signal },
      );
      const sha256 = hash.digest('hex');
      const key = keyForSha256(sha256);
      const target = join(this.root, key);
      await mkdir(dirname(target), { recursive: true });
      // Same bytes already stored: keep the existing file. A size mismatch can only be
      // damage from outside, so the fresh copy replaces it.
      if ((await sizeOf(target)) === bytes) {
        await rm(tmp, { force: true });
      } else {
        await rename(tmp, target);
      }
      return { key, sha256, bytes };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  putFile(path: string, opts: PutOptions = {}): Promise<PutResult> {
    return this.putStream(createReadStream(path), opts);
  }

  async open(key: string, range: ByteRange = {}): Promise<Readable> {
    const file = this.path(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (isNotFound(err)) throw new StorageError(`no object ${key}`, 'NOT_FOUND', { cause: err });
      throw err;
    }
    try {
      const bounds = resolveRange(range, (await handle.stat()).size);
      if (!bounds) {
        await handle.close();
        return Readable.from([]);
      }
      // The stream owns the handle from here and closes it when done or destroyed.
      return handle.createReadStream({ start: bounds.start, end: bounds.end, autoClose: true });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    const bytes = await sizeOf(this.path(key));
    return bytes === undefined ? null : { bytes };
  }

  /**
   * Removes uploads a crashed process left half-written. Only files older than
   * `olderThanMs` go, so uploads still in flight are safe.
   */
  async sweepTemp(olderThanMs: number, now = Date.now()): Promise<number> {
    const tmpDir = join(this.root, TEMP_DIR);
    let names: string[];
    try {
      names = await readdir(tmpDir);
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs >= olderThanMs) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }
}

export function createFsStorage(opts: FsStorageOptions): FsStorage {
  return new FsStorage(opts);
}
