import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import { endsAtMs } from './behaviour.ts';
import { invalid, notFound } from './errors.ts';
import { CONTENT_TYPES, media, specFor, TINY, VARIANTS, type Variant } from './media.ts';
import type { VideoStore } from './store.ts';
import type { FakeVideoRecord } from './types.ts';

const EXTENSIONS: Record<Variant, string> = { video: 'mp4', thumbnail: 'webp', spritesheet: 'jpg' };

/** `GET /videos/{id}/content`: real bytes once completed, 404 before and after expiry. */
export async function sendContent(
  store: VideoStore,
  r: FakeVideoRecord,
  rawVariant: string | undefined,
  matchRequest: boolean,
  reply: FastifyReply,
  videoContent?: (mp4: Buffer) => Promise<Buffer>,
): Promise<FastifyReply> {
  const variant = (rawVariant ?? 'video') as Variant;
  if (!VARIANTS.includes(variant)) {
    throw invalid(
      `Invalid 'variant': '${rawVariant}'. Supported values are: ${VARIANTS.join(', ')}.`,
      'variant',
    );
  }
  const nowMs = store.now();
  const status = store.view(r, nowMs).status;
  if (status !== 'completed') {
    throw notFound(`Video '${r.id}' is ${status}; its content is available once it is completed.`);
  }
  if (nowMs >= endsAtMs(r) + store.config.expiresAfterMs) {
    throw notFound(`The content of video '${r.id}' has expired.`);
  }
  const plain = await media(variant, matchRequest ? specFor(r.size, r.seconds) : TINY);
  const bytes = variant === 'video' && videoContent ? await videoContent(plain) : plain;
  const b = r.behaviour;
  if (b.contentDelayMs > 0) await sleep(b.contentDelayMs);
  reply
    .type(CONTENT_TYPES[variant])
    .header('content-length', String(bytes.length))
    .header('content-disposition', `attachment; filename="${r.id}.${EXTENSIONS[variant]}"`);
  if (b.contentChunkDelayMs <= 0) return reply.send(bytes);
  const chunk = Math.max(1, b.contentChunkBytes);
  async function* slowly() {
    for (let i = 0; i < bytes.length; i += chunk) {
      if (i > 0) await sleep(b.contentChunkDelayMs);
      yield bytes.subarray(i, i + chunk);
    }
  }
  return reply.send(Readable.from(slowly()));
}
