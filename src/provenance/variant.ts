import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { outputSourceType } from './manifest.ts';
import type { SpotShotFile } from './repository.ts';
import type { Provenance, SignedImage } from './service.ts';

const sha256Of = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/**
 * The last step of compositing: sign the variant's final file with its content credentials.
 * Returns the signed file's path (in `dir`) and the source type it declares; without a
 * provenance service (tests that do not wire it), the file is returned unsigned with the
 * source type it would have declared, so `ai_generated` never depends on signing.
 */
export async function signVariantFile(
  provenance: Provenance | undefined,
  p: {
    variant: { id: string; campaign_id: string; run_id: string; provider: string; model: string };
    dir: string;
    /** The composited (or untouched) file. */
    file: string;
    /** Where the signed file goes: `dir`/signed.mp4 unless set (a rendition's own path). */
    out?: string;
    /** The provider's render as stored; absent for an assembled spot. */
    render: string | null;
    /** A spot's shots, in order, with their stored renders (spotShotFiles). */
    shots?: readonly SpotShotFile[];
    /** The logo (an overlay) and the images that went into the renders (inputs). */
    images: readonly SignedImage[];
    text: boolean;
    disclosure: boolean;
  },
): Promise<{ path: string; digitalSourceType: string }> {
  const generator = { provider: p.variant.provider, model: p.variant.model };
  if (!provenance)
    return {
      path: p.file,
      digitalSourceType: outputSourceType({ ...p, generator, shots: p.shots ?? [] }),
    };
  const out = p.out ?? join(p.dir, 'signed.mp4');
  const { sourceType } = await provenance.signFile({
    input: p.file,
    out,
    description: {
      title: p.out ? `${p.variant.id}-${basename(p.out)}` : `${p.variant.id}.mp4`,
      generator,
      render: p.render ? { sha256: await sha256Of(p.render), path: p.render } : undefined,
      shots: await Promise.all(
        (p.shots ?? []).map(async (s) => ({ ...s, sha256: await sha256Of(s.path) })),
      ),
      images: p.images,
      text: p.text,
      disclosure: p.disclosure,
      transcoded: p.file !== p.render,
      ids: {
        campaign_id: p.variant.campaign_id,
        variant_id: p.variant.id,
        run_id: p.variant.run_id,
      },
    },
  });
  return { path: out, digitalSourceType: sourceType };
}
