import { rendersWithTrainedModel } from '../providers/registry.ts';
import type { IngredientInput } from './c2pa.ts';

const IPTC = 'http://cv.iptc.org/newscodes/digitalsourcetype/';

const digitalSourceTypes = [
  `${IPTC}trainedAlgorithmicMedia`,
  `${IPTC}compositeWithTrainedAlgorithmicMedia`,
  `${IPTC}algorithmicMedia`,
] as const;
export type DigitalSourceType = (typeof digitalSourceTypes)[number];

/** The claim generator's version in every manifest. */
export const ADMATRIX_VERSION = '0.1.0';

/** The custom assertion tying a signed file to the records it came from. */
export const ADMATRIX_ASSERTION = 'com.admatrix.variant';

export interface OutputDescription {
  title: string;
  /** The renderer: a provider's trained model, or `local` (motion templates, no model). */
  generator: { provider: string; model: string };
  /** The provider's render, by hash; its bytes when it may carry its own manifest. */
  render?: { sha256: string; bytes?: Uint8Array } | undefined;
  /** A spot's shots, in order: each a render of its own, joined into this video. */
  shots: readonly {
    id: string;
    key: string;
    provider: string;
    model: string;
    sha256: string;
    bytes?: Uint8Array | undefined;
  }[];
  /** Images placed on the video (the logo), by hash; with bytes, their own manifest is kept. */
  images: readonly { title: string; format: string; sha256: string; bytes?: Uint8Array }[];
  /** Overlays drawn onto the frames. */
  text: boolean;
  disclosure: boolean;
  /** Re-encoded by us (any overlay does): false when the provider's file is kept as is. */
  transcoded: boolean;
  ids: { campaign_id: string; variant_id: string; run_id: string };
  version: string;
}

/**
 * `local` renders motion templates from the brief with ffmpeg: made by an algorithm, with no
 * trained model and no sampled footage, which is IPTC's `algorithmicMedia` (not
 * `digitalCreation`, which is a person working with digital tools). It is not AI-generated
 * content in the AI Act's sense, so it carries `ai_generated: false`.
 */
function sourceTypeOf(p: { provider: string; composited: boolean }): DigitalSourceType {
  if (!rendersWithTrainedModel(p.provider)) return `${IPTC}algorithmicMedia`;
  return p.composited
    ? `${IPTC}compositeWithTrainedAlgorithmicMedia`
    : `${IPTC}trainedAlgorithmicMedia`;
}

export const isAiGenerated = (type: string) => /trainedAlgorithmicMedia$/i.test(type);

/**
 * The flags a campaign tool copies into each platform's AI label. A variant made before
 * signing existed (no stored source type) is judged by its renderer: every provider but
 * `local` is a trained model.
 */
export function aiDisclosure(v: { provider: string; digital_source_type: string | null }) {
  const type = v.digital_source_type ?? sourceTypeOf({ provider: v.provider, composited: false });
  return { ai_generated: isAiGenerated(type), digital_source_type: type };
}

/** The C2PA manifest definition and ingredients c2pa-rs signs for one output file. */
export function manifestFor(d: OutputDescription): {
  manifest: Record<string, unknown>;
  ingredients: IngredientInput[];
  sourceType: DigitalSourceType;
} {
  const composited = d.images.length > 0 || d.text || d.disclosure || d.shots.length > 0;
  const sourceType = sourceTypeOf({ provider: d.generator.provider, composited });
  const admatrix = { name: 'admatrix', version: d.version };
  const ingredients: IngredientInput[] = [];
  const created: Record<string, unknown> = {
    action: 'c2pa.created',
    digitalSourceType: sourceType,
    softwareAgent: { name: `${d.generator.provider}/${d.generator.model}` },
  };
  if (d.render) {
    const definition = {
      title: `${d.generator.provider}-render.mp4`,
      format: 'video/mp4',
      relationship: 'componentOf',
      label: 'render',
      metadata: { 'com.admatrix.sha256': d.render.sha256 },
    };
    // With its bytes, c2pa-rs keeps the render's own manifest (if any) inside ours.
    ingredients.push(
      d.render.bytes
        ? { definition, asset: { format: 'video/mp4', bytes: d.render.bytes } }
        : { definition },
    );
    created.parameters = { ingredientIds: ['render'] };
  }
  const actions: Record<string, unknown>[] = [created];
  if (d.shots.length) {
    const labels = d.shots.map((shot, i) => {
      const label = `shot${i}`;
      const definition = {
        title: `shot-${shot.key}.mp4`,
        format: 'video/mp4',
        relationship: 'componentOf',
        label,
        description: `${shot.provider}/${shot.model}`,
        metadata: { 'com.admatrix.sha256': shot.sha256, 'com.admatrix.shot_id': shot.id },
      };
      ingredients.push(
        shot.bytes
          ? { definition, asset: { format: 'video/mp4', bytes: shot.bytes } }
          : { definition },
      );
      return label;
    });
    // C2PA has no "assembled" action: the shots are placed, in order, into one timeline.
    actions.push({
      action: 'c2pa.placed',
      description: 'shots assembled in order',
      softwareAgent: admatrix,
      parameters: { ingredientIds: labels },
    });
  }
  d.images.forEach((img, i) => {
    const label = `image${i}`;
    const definition = {
      title: img.title,
      format: img.format,
      relationship: 'componentOf',
      label,
      metadata: { 'com.admatrix.sha256': img.sha256 },
    };
    ingredients.push(
      img.bytes ? { definition, asset: { format: img.format, bytes: img.bytes } } : { definition },
    );
    actions.push({
      action: 'c2pa.placed',
      description: 'logo overlay',
      softwareAgent: admatrix,
      parameters: { ingredientIds: [label] },
    });
  });
  if (d.text)
    actions.push({ action: 'c2pa.edited', description: 'text overlay', softwareAgent: admatrix });
  if (d.disclosure) {
    actions.push({
      action: 'c2pa.edited',
      description: 'visible AI disclosure',
      softwareAgent: admatrix,
    });
  }
  if (d.transcoded) actions.push({ action: 'c2pa.transcoded', softwareAgent: admatrix });
  return {
    sourceType,
    ingredients,
    manifest: {
      claim_generator_info: [admatrix],
      title: d.title,
      format: 'video/mp4',
      assertions: [
        { label: 'c2pa.actions.v2', data: { actions } },
        { label: ADMATRIX_ASSERTION, data: d.ids },
      ],
    },
  };
}
