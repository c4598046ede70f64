import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import { signAssetLink } from '../assets/links.ts';
import type { SecretBox } from '../crypto/secrets.ts';
import type { DbOrTx } from '../db/client.ts';
import { inputArgs } from '../media/ffmpeg.ts';
import { type Media, MediaError, type Storage } from '../media/index.ts';
import { ProviderError, type RenderImage, type VideoProvider } from '../providers/types.ts';

type ReferenceAsset = {
  storage_key: string;
  content_type: string;
  width: number;
  height: number;
  sha256: string;
};

async function findReferenceAsset(
  db: DbOrTx,
  p: { tenantId: string; id: string },
): Promise<ReferenceAsset | null> {
  const { rows } = await db.execute<ReferenceAsset>(sql`
    SELECT storage_key, content_type, width, height, sha256 FROM assets
    WHERE tenant_id = ${p.tenantId} AND id = ${p.id}`);
  return rows[0] ?? null;
}

export interface FirstFrameDeps {
  db: DbOrTx;
  storage: Storage;
  media: Media;
  workDir: string;
  /**
   * HTTPS PUBLIC_URL and the key that signs links: with both, providers that fetch by URL get
   * a signed link to the asset instead of its bytes inline.
   */
  publicLinks?: { baseUrl: string; box: SecretBox; ttlSeconds: number } | undefined;
  /** Bytes of images kept in memory across renders of one worker; default 64 MB. */
  cacheBytes?: number | undefined;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Loads a campaign's reference image for one render, in the worker, by id: job payloads carry
 * only the variant id. The bytes of one asset serve every variant of a run, so they are kept
 * in a small per-worker cache (waits for a rate-limit slot re-run the submit step).
 */
export function createFirstFrameLoader(deps: FirstFrameDeps) {
  const cache = new LRUCache<string, RenderImage>({
    maxSize: deps.cacheBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (image) => Math.max(1, image.bytes.length),
  });
  const links = deps.publicLinks?.baseUrl.startsWith('https://') ? deps.publicLinks : undefined;

  async function read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await deps.storage.open(key)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }

  /** Cover-scales and centre-crops to exactly `size` (the OpenAI shape's rule), as PNG. */
  async function fitToSize(
    asset: ReferenceAsset,
    bytes: Buffer,
    size: string,
  ): Promise<RenderImage> {
    const [w, h] = size.split('x').map(Number) as [number, number];
    const dir = join(deps.workDir, 'first-frame', randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      const input = deps.storage.path?.(asset.storage_key) ?? join(dir, 'in');
      if (!deps.storage.path) await writeFile(input, bytes);
      const { stdout } = await deps.media.runner.ffmpeg(
        [
          ...inputArgs(input),
          ...['-frames:v', '1'],
          ...[
            '-vf',
            `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1`,
          ],
          ...['-f', 'image2pipe', '-vcodec', 'png', '-'],
        ],
        { captureStdout: true, maxStdoutBytes: w * h * 4 + (1 << 20), timeoutMs: 60_000 },
      );
      return {
        bytes: stdout,
        contentType: 'image/png',
        width: w,
        height: h,
        sha256: sha256(stdout),
      };
    } catch (err) {
      if (err instanceof MediaError)
        throw new ProviderError(`the reference image could not be fitted to ${size}`, {
          kind: 'permanent',
          code: 'image_unusable',
          cause: err,
        });
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** One that no longer resolves fails the render permanently, before anything is paid. */
  async function existingAsset(
    tenantId: string,
    id: string,
    what: 'reference' | 'background',
  ): Promise<ReferenceAsset> {
    const asset = await findReferenceAsset(deps.db, { tenantId, id });
    if (!asset)
      throw new ProviderError(`${what} image ${id} no longer exists`, {
        kind: 'permanent',
        code: `${what}_missing`,
      });
    return asset;
  }

  /** An asset's bytes as uploaded, through the cache. */
  async function uploaded(asset: ReferenceAsset): Promise<RenderImage> {
    let image = cache.get(asset.sha256);
    if (!image) {
      image = {
        bytes: await read(asset.storage_key),
        contentType: asset.content_type,
        width: asset.width,
        height: asset.height,
        sha256: asset.sha256,
      };
      cache.set(asset.sha256, image);
    }
    return image;
  }

  /**
   * The level's background image for a provider that draws one (the local renderer), as
   * uploaded. An asset that no longer resolves fails the render, as a first frame does.
   */
  async function background(
    v: { tenant_id: string; background_asset_id?: string | null | undefined },
    provider: VideoProvider,
  ): Promise<RenderImage | undefined> {
    if (!v.background_asset_id || !provider.drawsBackground) return undefined;
    return uploaded(await existingAsset(v.tenant_id, v.background_asset_id, 'background'));
  }

  /**
   * The first frame for this render, or undefined when the campaign names none or the model
   * takes none (a generator level on a text-only model renders from the prompt alone).
   * A reference that no longer resolves is a permanent failure, before anything is paid.
   */
  async function load(
    v: {
      tenant_id: string;
      reference_asset_id: string | null;
      model: string;
      size: string;
      /** A chained shot's stored first frame: a PNG already at `size`, sent inline. */
      first_frame_key?: string | null;
    },
    provider: VideoProvider,
  ): Promise<RenderImage | undefined> {
    if (v.first_frame_key && provider.takesImage?.(v.model)) {
      const bytes = await read(v.first_frame_key);
      const [width, height] = v.size.split('x').map(Number) as [number, number];
      const image = { bytes, contentType: 'image/png', width, height, sha256: sha256(bytes) };
      provider.checkImage?.(image);
      return image;
    }
    if (!v.reference_asset_id || !provider.takesImage?.(v.model)) return undefined;
    const asset = await existingAsset(v.tenant_id, v.reference_asset_id, 'reference');
    const exact = provider.imageMustMatchSize === true;
    const needsFit = exact && `${asset.width}x${asset.height}` !== v.size;
    let image = needsFit ? cache.get(`${asset.sha256}@${v.size}`) : await uploaded(asset);
    if (!image) {
      image = await fitToSize(asset, await read(asset.storage_key), v.size);
      cache.set(`${asset.sha256}@${v.size}`, image);
    }
    // A link serves the asset as uploaded: offered only where those are the bytes to send.
    const handed =
      !links || needsFit
        ? image
        : {
            ...image,
            url: signAssetLink(links.box, {
              baseUrl: links.baseUrl,
              id: v.reference_asset_id,
              expiresAt: Math.floor(Date.now() / 1000) + links.ttlSeconds,
            }),
          };
    provider.checkImage?.(handed);
    return handed;
  }

  return { load, background };
}
