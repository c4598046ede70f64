import type { Brief } from '../db/schema.ts';
import { compileTemplate } from '../prompts/index.ts';
import { rendersWithTrainedModel } from '../providers/registry.ts';

/** The dimensions (by index) a shot's prompt template names: the levels the shot depends on. */
export function namedDimensions(template: string, dimensions: readonly string[]): number[] {
  const compiled = compileTemplate(template, {
    dimensions: [...dimensions],
    requireAllDimensions: false,
  });
  if (!compiled.ok) return [];
  return compiled.template.slots.flatMap((slot) => (slot.kind === 'dimension' ? [slot.index] : []));
}

/** The images a renderer with no trained model draws beside the prompt, by asset id. */
export interface DrawnImages {
  background: string | null;
  product: string | null;
}

/**
 * What a shot draws that its prompt does not say: the background of the first level it names
 * that carries one, and the campaign's product image unless the shot names its own first
 * frame (already in its identity). Only renderers with no trained model draw them; a trained
 * model takes an image as first frame only, which `first_frame` asks for. Null when a shot
 * draws no image, so the identity of such a shot stays as it was before images counted.
 * Asset ids stand for content: uploads are deduplicated per tenant by sha256 and never
 * rewritten, so the same picture is the same id and a changed picture is a new one.
 */
export function drawnImages(p: {
  provider: string;
  levels: readonly ({ background_asset_id?: string | undefined } | undefined)[];
  productAssetId: string | null;
  firstFrameAssetId: string | null;
}): DrawnImages | null {
  if (rendersWithTrainedModel(p.provider)) return null;
  const background = p.levels.find((l) => l?.background_asset_id)?.background_asset_id ?? null;
  const product = p.firstFrameAssetId ? null : p.productAssetId;
  return background || product ? { background, product } : null;
}

/** The kicker: the labels of the levels a shot names, or what the brief sells for a pack shot. */
export function shotCaptions(
  levels: readonly ({ key: string; label?: string | undefined } | undefined)[],
  brief: Pick<Brief, 'product'>,
): string[] {
  const labels = levels.flatMap((l) => (l ? [l.label ?? l.key] : []));
  return labels.length ? labels : [brief.product];
}

/** The words the built-in renderer draws on a shot: its kicker, headline and call to action. */
export interface DrawnText {
  captions: string[];
  key_message: string;
  call_to_action: string | null;
}

/**
 * The kicker (`shotCaptions`), and the brief's key message and call to action. Only renderers with no
 * trained model draw them (a trained model reads the prompt alone), and they are in the shot's
 * identity: two levels with equal prompts but different labels, or a new call to action, are
 * another picture. Those renders are free, so the identities this added cost CPU once, no spend.
 */
export function drawnText(p: {
  provider: string;
  levels: readonly ({ key: string; label?: string | undefined } | undefined)[];
  brief: Pick<Brief, 'product' | 'key_message' | 'call_to_action'>;
}): DrawnText | null {
  if (rendersWithTrainedModel(p.provider)) return null;
  return {
    captions: shotCaptions(p.levels, p.brief),
    key_message: p.brief.key_message,
    call_to_action: p.brief.call_to_action ?? null,
  };
}
