import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
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

interface S3StorageOptions {
  /** e.g. http://minio:9000; unset means AWS itself. */
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** MinIO and s3rver address buckets by path, not by host name. */
  forcePathStyle: boolean;
}

/** Uploads land here first: the content address is known only once the last byte is hashed. */
export const S3_TEMP_PREFIX = 'tmp/';

/**
 * Multipart parts of 8 MiB, two in flight: at most 16 MiB of a video is buffered per upload
 * (lib-storage buffers queueSize × partSize), whatever the video's length.
 */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

function isMissing(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

/**
 * Content-addressed objects in one bucket under `ab/cd/<sha256>`, the same keys as the
 * filesystem store, so moving a deployment between them is a copy. Streams are hashed while
 * they upload to a temporary key, then copied to their address (or dropped when it exists).
 */
export class S3Storage implements Storage {
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials:
        opts.accessKeyId && opts.secretAccessKey
          ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
          : undefined,
      // With the SDK's default (WHEN_SUPPORTED), a streamed PutObject is sent aws-chunked with a
      // trailing checksum, which s3rver stored inside the object; content addressing already
      // verifies every byte we keep.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async putStream(
    stream: Readable | AsyncIterable<Uint8Array | string>,
    opts: PutOptions = {},
  ): Promise<PutResult> {
    const hash = createHash('sha256');
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer | string, _enc, done) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buf.length;
        if (opts.maxBytes !== undefined && bytes > opts.maxBytes) {
          done(new StorageError(`upload exceeds ${opts.maxBytes} bytes`, 'TOO_LARGE'));
          return;
        }
        hash.update(buf);
        done(null, buf);
      },
    });
    const temp = `${S3_TEMP_PREFIX}${randomUUID()}`;
    const abort = new AbortController();
    const onAbort = () => abort.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: temp, Body: body, ContentType: opts.contentType },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      abortController: abort,
    });
    try {
      const source = stream instanceof Readable ? stream : Readable.from(stream);
      // The first failure wins: a too-large or aborted source stops the upload, and an upload
      // failure stops reading the source.
      await Promise.all([
        pipeline(source, counted, body, { signal: abort.signal }).catch((err) => {
          abort.abort(err);
          throw err;
        }),
        upload.done().catch((err) => {
          abort.abort(err);
          throw err;
        }),
      ]);
      const sha256 = hash.digest('hex');
      const key = keyForSha256(sha256);
      if (!(await this.stat(key))) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: key,
            CopySource: `${this.bucket}/${temp}`,
            ContentType: opts.contentType,
            MetadataDirective: 'REPLACE',
          }),
        );
      }
      return { key, sha256, bytes };
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const reason = abort.signal.reason;
      if (reason instanceof StorageError) throw reason;
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await this.client
        .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: temp }))
        .catch(() => undefined); // never written (aborted early) or already gone
    }
  }

  putFile(path: string, opts: PutOptions = {}): Promise<PutResult> {
    return this.putStream(createReadStream(path), opts);
  }

  async open(key: string, range: ByteRange = {}): Promise<Readable> {
    assertStorageKey(key);
    const stat = await this.stat(key);
    if (!stat) throw new StorageError(`no object ${key}`, 'NOT_FOUND');
    // The shared rule decides (and rejects) the range before a byte is requested.
    const resolved = resolveRange(range, stat.bytes);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: resolved ? `bytes=${resolved.start}-${resolved.end}` : undefined,
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no stream');
      return out.Body;
    } catch (err) {
      if (isMissing(err)) throw new StorageError(`no object ${key}`, 'NOT_FOUND', { cause: err });
      throw err;
    }
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    assertStorageKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { bytes: head.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /**
   * A time-limited GET link for browsers and players. Not for video providers: a URL signed for
   * GET does not answer HEAD, which Runway sends first, so provider inputs go through the api.
   */
  async presignedGet(
    key: string,
    opts: { expiresInSeconds: number; contentType?: string },
  ): Promise<string> {
    assertStorageKey(key);
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: opts.contentType,
      }),
      { expiresIn: opts.expiresInSeconds },
    );
  }

  close(): void {
    this.client.destroy();
  }
}

export function createS3Storage(opts: S3StorageOptions): S3Storage {
  return new S3Storage(opts);
}
