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

export interface OutputImage {
  title: string;
  role: 'overlay' | 'input';
  format: string;
  sha256: string;
  bytes?: Uint8Array;
}

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
  /**
   * Images by hash; with bytes, their own manifest is kept. An `overlay` (the logo) is placed
   * on the frames; an `input` (product image, first frame, level background) went into a
   * render, which C2PA 2 calls an `inputTo` ingredient.
   */
  images: readonly OutputImage[];
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
function sourceTypeOf(p: { trained: boolean; composited: boolean }): DigitalSourceType {
  if (!p.trained) return `${IPTC}algorithmicMedia`;
  return p.composited
    ? `${IPTC}compositeWithTrainedAlgorithmicMedia`
    : `${IPTC}trainedAlgorithmicMedia`;
}

/**
 * Whether the footage came from a trained model. A spot's footage is its shots', each on its
 * own generator (a shot may name one over the campaign's), so one trained shot makes the whole
 * spot AI-generated whatever the variant's own provider is; a one-clip variant is its renderer's.
 */
export const footageIsTrained = (renderers: {
  provider: string;
  shots: readonly { provider: string }[];
}) =>
  renderers.shots.length
    ? renderers.shots.some((s) => rendersWithTrainedModel(s.provider))
    : rendersWithTrainedModel(renderers.provider);

/** The source type an output declares, signed or not (signing may be off in a deployment). */
export function outputSourceType(d: {
  generator: { provider: string };
  shots: readonly { provider: string }[];
  images: readonly { role: OutputImage['role'] }[];
  text: boolean;
  disclosure: boolean;
}): DigitalSourceType {
  const overlays = d.images.some((img) => img.role === 'overlay');
  const composited = overlays || d.text || d.disclosure || d.shots.length > 0;
  return sourceTypeOf({
    trained: footageIsTrained({ provider: d.generator.provider, shots: d.shots }),
    composited,
  });
}

export const isAiGenerated = (type: string) => /trainedAlgorithmicMedia$/i.test(type);

/**
 * The flags a campaign tool copies into each platform's AI label. A variant made before
 * signing existed (no stored source type) is judged by its renderer: every provider but
 * `local` is a trained model.
 */
export function aiDisclosure(v: { provider: string; digital_source_type: string | null }) {
  const type =
    v.digital_source_type ??
    sourceTypeOf({ trained: rendersWithTrainedModel(v.provider), composited: false });
  return { ai_generated: isAiGenerated(type), digital_source_type: type };
}

/** The C2PA manifest definition and ingredients c2pa-rs signs for one output file. */
export function manifestFor(d: OutputDescription): {
  manifest: Record<string, unknown>;
  ingredients: IngredientInput[];
  sourceType: DigitalSourceType;
} {
  const sourceType = outputSourceType(d);
  const admatrix = { name: 'admatrix', version: d.version };
  const ingredients: IngredientInput[] = [];
  // c2pa-rs allows one c2pa.created per claim: a spot's is admatrix's assembly, and each
  // shot's generator (which may not be the variant's own provider) is named on its shot below.
  const created: Record<string, unknown> = {
    action: 'c2pa.created',
    digitalSourceType: sourceType,
    softwareAgent: d.shots.length
      ? admatrix
      : { name: `${d.generator.provider}/${d.generator.model}` },
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
      // What rendered this shot, and whether that was a trained model.
      actions.push({
        action: 'c2pa.placed',
        description: `shot ${shot.key}`,
        digitalSourceType: sourceTypeOf({
          trained: rendersWithTrainedModel(shot.provider),
          composited: false,
        }),
        softwareAgent: { name: `${shot.provider}/${shot.model}` },
        parameters: { ingredientIds: [label] },
      });
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
      relationship: img.role === 'overlay' ? 'componentOf' : 'inputTo',
      label,
      metadata: { 'com.admatrix.sha256': img.sha256 },
    };
    ingredients.push(
      img.bytes ? { definition, asset: { format: img.format, bytes: img.bytes } } : { definition },
    );
    if (img.role === 'overlay')
      actions.push({
        action: 'c2pa.placed',
        description: `${img.title} overlay`,
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
