import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** A stored file ready to send, or where the store itself serves it (a presigned URL). */
export type MediaBody =
  | {
      stream: Readable;
      size: number;
      range: { start: number; end: number } | null;
      contentType: string;
      sha256: string | null;
    }
  | { redirect: string };

/**
 * The one way media leave the api: a 302 to the store, or the bytes with Range, length and
 * ETag headers. The redirect is not cached longer than the presigned URL lives.
 */
export function sendMedia(
  reply: FastifyReply,
  media: MediaBody,
  opts: { cacheSeconds: number; ranges: boolean },
) {
  reply.header('cache-control', `private, max-age=${Math.max(0, Math.floor(opts.cacheSeconds))}`);
  if ('redirect' in media) return reply.redirect(media.redirect, 302);
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
  return reply.send(media.stream);
}
