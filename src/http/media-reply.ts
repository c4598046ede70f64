import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * A stored file ready to send, or where the store itself serves it (a presigned URL, with
 * the seconds it stays valid). The file is opened only when its bytes are sent.
 */
export type MediaBody =
  | {
      open: () => Promise<Readable>;
      size: number;
      range: { start: number; end: number } | null;
      contentType: string;
      sha256: string | null;
    }
  | { redirect: string; expiresInSeconds: number };

/**
 * A cached redirect must not outlive the presigned URL it points at (S3 answers 403 after), and
 * a player that follows it near the end needs time to fetch: it is kept a minute less than the
 * URL lives.
 */
const REDIRECT_MARGIN_SECONDS = 60;

function cacheControl(seconds: number): string {
  const whole = Math.floor(seconds);
  return whole > 0 ? `private, max-age=${whole}` : 'private, no-store';
}

/**
 * The one way media leave the api: a 302 to the store, or the bytes with Range, length and
 * ETag headers. HEAD gets the same headers from the stat, and the object is never opened.
 */
export async function sendMedia(
  reply: FastifyReply,
  media: MediaBody,
  opts: { cacheSeconds: number; ranges: boolean },
) {
  if ('redirect' in media) {
    const lifetime = media.expiresInSeconds - REDIRECT_MARGIN_SECONDS;
    reply.header('cache-control', cacheControl(Math.min(opts.cacheSeconds, lifetime)));
    return reply.redirect(media.redirect, 302);
  }
  reply.header('cache-control', cacheControl(opts.cacheSeconds));
  reply.header('content-type', media.contentType);
  reply.header('accept-ranges', opts.ranges ? 'bytes' : 'none');
  if (media.sha256) reply.header('etag', `"${media.sha256}"`);
  if (media.range) {
    reply
      .code(206)
      .header('content-range', `bytes ${media.range.start}-${media.range.end}/${media.size}`)
      .header('content-length', media.range.end - media.range.start + 1);
  } else {
    reply.header('content-length', media.size);
  }
  // Fastify answers HEAD with the GET handler and drains whatever body it sends: handed the
  // object, it would read all of it from the store. An empty stream keeps the Content-Length.
  const body = reply.request.method === 'HEAD' ? Readable.from([]) : await media.open();
  return reply.send(body);
}
