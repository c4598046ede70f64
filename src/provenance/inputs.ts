import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { Providers } from '../providers/registry.ts';
import type { RenderVariant } from '../render/repository.ts';
import { loadRenderShot } from '../spots/shot-subject.ts';
import type { SpotShotFile } from './repository.ts';
import type { SignedImage } from './service.ts';

type Used = { title: string; assetId: string };

/**
 * The uploaded images that went into a variant's renders, as the render steps loaded them: the
 * campaign's product image where the model took one, a shot's first-frame asset, a level's
 * background where the renderer drew it. Issue 16 lists each image asset by hash, and one that
 * carries credentials keeps them as an ingredient.
 */
export async function renderInputImages(
  deps: { db: DbOrTx; providers: Providers },
  p: {
    variant: RenderVariant;
    shots: readonly SpotShotFile[];
    local: (key: string, name: string) => Promise<string>;
  },
): Promise<SignedImage[]> {
  const v = p.variant;
  const used: Used[] = [];
  const inputsOf = async (
    r: { provider: string; model: string; reference_asset_id: string | null },
    background: string | null | undefined,
    firstFrame: string,
  ) => {
    const adapter = await deps.providers.get(r.provider as RenderVariant['provider']);
    if (r.reference_asset_id && adapter.takesImage?.(r.model))
      used.push({
        title: r.reference_asset_id === v.reference_asset_id ? 'product image' : firstFrame,
        assetId: r.reference_asset_id,
      });
    if (background && adapter.drawsBackground)
      used.push({ title: 'background', assetId: background });
  };
  if (!p.shots.length) await inputsOf(v, v.background_asset_id, 'product image');
  for (const shot of p.shots) {
    const r = await loadRenderShot(deps.db, shot.id);
    if (r) await inputsOf(r, r.background_asset_id, `first frame of shot ${shot.key}`);
  }
  const unique = [...new Map(used.map((u) => [u.assetId, u])).values()];
  if (!unique.length) return [];
  const { rows } = await deps.db.execute<{ id: string; storage_key: string }>(sql`
    SELECT id, storage_key FROM assets
    WHERE tenant_id = ${v.tenant_id} AND id = ANY(${sql.param(unique.map((u) => u.assetId))}::text[])`);
  const keyOf = new Map(rows.map((r) => [r.id, r.storage_key]));
  const images: SignedImage[] = [];
  for (const [i, u] of unique.entries()) {
    const key = keyOf.get(u.assetId);
    if (key) images.push({ title: u.title, role: 'input', path: await p.local(key, `input-${i}`) });
  }
  return images;
}
