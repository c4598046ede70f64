import type { Db } from '../db/client.ts';
import type { RenditionFormat, VariantStatus } from '../db/schema.ts';
import { type DeliveryRow, deliveriesOf } from '../deliveries/repository.ts';
import { toDeliveryResponse } from '../deliveries/service.ts';
import type { MediaBody } from '../http/media-reply.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { type Storage, StorageError } from '../media/index.ts';
import { aiDisclosure } from '../provenance/manifest.ts';
import type { Queues } from '../queue/registry.ts';
import { enqueueRenders, renderQueueOf } from '../render/enqueue.ts';
import { shotsOfVariants, type VariantShotRow } from '../spots/repository.ts';
import { resubmitHeld } from './lifecycle.ts';
import * as repo from './repository.ts';

export function toVariantResponse(
  row: repo.VariantRow & {
    deliveries?: DeliveryRow[];
    shots?: VariantShotRow[];
    renditions?: repo.RenditionRow[];
  },
  baseUrl: string,
) {
  const self = `${baseUrl}/v1/variants/${row.id}`;
  const hasVideo = row.video_key && row.video_bytes !== null;
  return {
    id: row.id,
    run_id: row.run_id,
    campaign_id: row.campaign_id,
    levels: row.levels,
    prompt: row.prompt,
    provider_prompt: row.provider_prompt,
    status: row.status,
    provider: row.provider,
    model: row.model,
    seconds: row.seconds,
    size: row.size,
    provider_job_id: row.provider_job_id,
    attempts: row.attempts,
    progress: row.progress,
    error: row.error_code ? { code: row.error_code, message: row.error_message } : null,
    cost_usd: Number(row.cost_usd),
    actual_cost_usd: Number(row.actual_cost_usd),
    video: hasVideo
      ? {
          url: `${self}/video`,
          content_type: 'video/mp4' as const,
          bytes: row.video_bytes!,
          sha256: row.video_sha256!,
          duration_s: Number(row.duration_s),
          width: row.width!,
          height: row.height!,
        }
      : null,
    thumbnail_url: row.thumbnail_key ? `${self}/thumbnail` : null,
    ...aiDisclosure(row),
    disclosure: row.disclosure_text,
    deliveries: (row.deliveries ?? []).map(toDeliveryResponse),
    shots: (row.shots ?? []).map((s) => ({
      id: s.id,
      key: s.shot_key,
      prompt: s.prompt,
      provider: s.provider,
      model: s.model,
      seconds: s.seconds,
      status: s.status,
      provider_job_id: s.provider_job_id,
      cost_usd: Number(s.cost_usd),
      actual_cost_usd: Number(s.actual_cost_usd),
      reused: s.reused,
    })),
    renditions: (row.renditions ?? []).map((r) => ({
      format: r.format,
      url: `${self}/renditions/${r.format}`,
      width: r.width,
      height: r.height,
      duration_seconds: Number(r.duration_s),
      bytes: Number(r.bytes),
      sha256: r.sha256,
    })),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export type ByteRange = { start: number; end: number };

/** One `bytes=` range (the only form players send); multipart ranges are answered in full. */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export function createVariantService(deps: {
  db: Db;
  storage: Storage;
  queues: Queues;
  /** Set when media routes answer with a presigned URL (S3_MEDIA_REDIRECT): its lifetime. */
  redirectSeconds?: number | undefined;
  onEnqueueError?: (err: unknown) => void;
}) {
  async function get(tenantId: string, id: string) {
    const row = await repo.findVariant(deps.db, { tenantId, id });
    if (!row) throw problems.notFound('variant');
    return row;
  }

  /**
   * The variant record lists where it was delivered and, for a spot, its shots and its
   * renditions: one query each for any number of variants.
   */
  async function withDeliveries(rows: repo.VariantRow[]) {
    const ids = rows.map((r) => r.id);
    const [byVariant, shots, renditions] = await Promise.all([
      deliveriesOf(deps.db, ids),
      shotsOfVariants(deps.db, ids),
      repo.renditionsOfVariants(deps.db, ids),
    ]);
    return rows.map((r) => ({
      ...r,
      deliveries: byVariant.get(r.id) ?? [],
      shots: shots.get(r.id) ?? [],
      renditions: renditions.get(r.id) ?? [],
    }));
  }

  return {
    get: async (tenantId: string, id: string) =>
      (await withDeliveries([await get(tenantId, id)]))[0]!,

    list: (
      tenantId: string,
      q: {
        runId?: string | undefined;
        campaignId?: string | undefined;
        status?: VariantStatus | undefined;
        levels: Record<string, string>;
        after?: string | undefined;
        limit: number;
      },
    ) => repo.listVariants(deps.db, { tenantId, ...q }).then(withDeliveries),

    /**
     * held -> queued, on the caller's word that a second charge is acceptable (the lost create
     * may have rendered, and been billed, all the same), then enqueued after commit.
     */
    async resubmit(tenantId: string, id: string) {
      const row = await get(tenantId, id);
      const moved = await deps.db.transaction((tx) => resubmitHeld(tx, row.id));
      if (!moved)
        throw problems.conflict(
          `Only a held variant can be resubmitted; this one is ${(await get(tenantId, id)).status}.`,
        );
      try {
        // The job that held it finished but keeps its id (= the variant id): a re-add would be
        // ignored while it is there. The reconciler enqueues it anyway if this fails.
        const queue = deps.queues.get(renderQueueOf(row.provider));
        await queue.remove(row.id).catch(() => 0);
        await enqueueRenders(deps.queues, [{ id: row.id, provider: row.provider }]);
      } catch (err) {
        deps.onEnqueueError?.(err);
      }
      return (await withDeliveries([await get(tenantId, id)]))[0]!;
    },

    /**
     * Stored media, described from the store's stat and opened only when the bytes are sent
     * (never for a HEAD), then streamed, never read whole into memory. A rendition is a video:
     * 404 for a format the variant was not rendered in (yet).
     */
    async media(
      tenantId: string,
      id: string,
      media: 'video' | 'thumbnail' | { format: RenditionFormat },
      rangeHeader: string | undefined,
      opts: { redirect?: boolean } = {},
    ): Promise<MediaBody> {
      const row = await get(tenantId, id);
      const what = media === 'thumbnail' ? 'thumbnail' : 'video';
      const rendition =
        typeof media === 'object'
          ? (await repo.renditionsOfVariants(deps.db, [row.id]))
              .get(row.id)
              ?.find((r) => r.format === media.format)
          : undefined;
      if (typeof media === 'object' && !rendition)
        throw problems.notFound(`${media.format} rendition`);
      const key = rendition
        ? rendition.video_key
        : what === 'video'
          ? row.video_key
          : row.thumbnail_key;
      const sha256 = rendition ? rendition.sha256 : row.video_sha256;
      if (!key)
        throw new ProblemError({
          status: 404,
          slug: 'not-ready',
          title: 'Not ready',
          detail: `The variant has no ${what} yet (status ${row.status}).`,
        });
      const stat = await deps.storage.stat(key);
      if (!stat) throw problems.notFound(what);
      if (opts.redirect && deps.redirectSeconds && deps.storage.presignedGet) {
        const contentType = what === 'video' ? 'video/mp4' : 'image/jpeg';
        const expiresInSeconds = deps.redirectSeconds;
        return {
          redirect: await deps.storage.presignedGet(key, { expiresInSeconds, contentType }),
          expiresInSeconds,
        };
      }
      const range = what === 'video' ? parseRange(rangeHeader, stat.bytes) : null;
      if (range === 'unsatisfiable') {
        throw new ProblemError({
          status: 416,
          slug: 'range-not-satisfiable',
          title: 'Range not satisfiable',
          detail: `The video has ${stat.bytes} bytes.`,
          headers: { 'content-range': `bytes */${stat.bytes}` },
        });
      }
      return {
        async open() {
          try {
            return await deps.storage.open(key, range ?? undefined);
          } catch (err) {
            if (err instanceof StorageError) throw problems.notFound(what);
            throw err;
          }
        },
        size: stat.bytes,
        range,
        contentType: what === 'video' ? 'video/mp4' : 'image/jpeg',
        sha256: what === 'video' ? sha256 : null,
      };
    },
  };
}

export type VariantService = ReturnType<typeof createVariantService>;
