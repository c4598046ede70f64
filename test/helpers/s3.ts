import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';

/** s3rver's fixed credentials. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestBucket {
  /** Config overrides that put an app or worker on this bucket. */
  env: Record<string, string>;
  client: S3Client;
  bucket: string;
  /** Every key in the bucket, temporary uploads included. */
  keys(): Promise<string[]>;
  drop(): Promise<void>;
}

/** A bucket of this file's own on the run's S3-compatible server (test/global-setup.ts). */
export async function createTestBucket(): Promise<TestBucket> {
  const endpoint = inject('s3Endpoint');
  const bucket = `amx-${randomBytes(6).toString('hex')}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  async function keys() {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  }
  return {
    env: {
      STORAGE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    },
    client,
    bucket,
    keys,
    async drop() {
      const all = await keys();
      if (all.length)
        await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: all.map((Key) => ({ Key })) },
          }),
        );
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
    },
  };
}

export interface S3Tap {
  /** An S3_ENDPOINT that reaches the run's S3 server through the tap. */
  url: string;
  /** Every request passed on, in order; the path is the object's (or bucket's), decoded. */
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/**
 * A pass-through in front of the run's S3 server that records each request, so a test sees
 * what a route asked of the store (an object read is a GET on its key). Headers go through
 * unchanged, the Host the client signed included, so signatures still verify.
 */
export async function startS3Tap(): Promise<S3Tap> {
  const target = new URL(inject('s3Endpoint'));
  const requests: S3Tap['requests'] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push({
      method: req.method ?? '',
      path: decodeURIComponent(new URL(url, target).pathname),
    });
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
