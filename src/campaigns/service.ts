import type { Db } from '../db/client.ts';
import type { AssetKind, OverlaySettings, VideoSettings } from '../db/schema.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import type { MissingGlyphs } from '../matrices/glyph-warnings.ts';
import { checkVideo, type ProviderCatalog, type ProviderName } from '../providers/catalog.ts';
import type { SpotInput } from '../spots/schemas.ts';
import { resolveSpot, toSpotInput } from '../spots/validate.ts';
import { campaignGlyphWarnings } from './glyph-warnings.ts';
import * as repo from './repository.ts';
import type { CreateCampaignBody, UpdateCampaignBody } from './schemas.ts';

export function toCampaignResponse(row: repo.CampaignRow) {
  return {
    id: row.id,
    name: row.name,
    brief: row.brief,
    prompt_template: row.promptTemplate,
    spot: row.spot
      ? {
          shots: row.spot.shots.map((s) => ({ first_frame: null, ...s })),
          transition: row.spot.transition,
          ...(row.spot.end_card ? { end_card: row.spot.end_card } : {}),
          ...(row.spot.audio ? { audio: row.spot.audio } : {}),
          formats: row.spot.formats ?? [],
        }
      : null,
    video: {
      provider: row.video.provider,
      model: row.video.model,
      seconds: row.video.seconds,
      size: row.video.size,
      reference_asset_id: row.video.reference_asset_id ?? null,
    },
    budget_usd: row.budgetUsd,
    require_approval: row.requireApproval,
    overlay: row.overlay,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

type VideoInput = {
  provider?: ProviderName | undefined;
  model?: string | undefined;
  seconds: number;
  size: string;
  reference_asset_id?: string | null | undefined;
};

export function createCampaignService(deps: {
  db: Db;
  catalog: ProviderCatalog;
  defaultProvider: ProviderName;
  /** Which of these ids are the tenant's assets: a reference image must be one. */
  ownedAssetIds: (tenantId: string, ids: string[], kind?: AssetKind) => Promise<Set<string>>;
  /** An asset's size in bytes (null when the tenant has none by that id). */
  assetBytes?: ((tenantId: string, id: string) => Promise<number | null>) | undefined;
  /** PUBLIC_URL is HTTPS: providers can fetch a first frame by signed link, not only inline. */
  imagesByUrl?: boolean | undefined;
  /** The caption fonts' coverage; without it writes give no glyph warnings. */
  missingGlyphs?: MissingGlyphs | undefined;
}) {
  const { db, catalog } = deps;

  async function resolveVideo(tenantId: string, video: VideoInput): Promise<VideoSettings> {
    const reference = video.reference_asset_id ?? undefined;
    // Known now, so an image too large for the provider is refused here, not at render time.
    const imageBytes =
      reference !== undefined ? await deps.assetBytes?.(tenantId, reference) : undefined;
    const check = checkVideo(catalog, {
      provider: video.provider ?? deps.defaultProvider,
      model: video.model,
      seconds: video.seconds,
      size: video.size,
      hasImage: reference !== undefined,
      imageBytes: imageBytes ?? undefined,
      imageByUrl: deps.imagesByUrl,
    });
    if (!check.ok)
      throw problems.unprocessable(
        'The video settings are not supported by the provider.',
        check.errors,
      );
    if (reference === undefined) return check.video;
    // Another tenant's asset is as unknown as one that does not exist.
    const owned = await deps.ownedAssetIds(tenantId, [reference]);
    if (!owned.has(reference))
      throw problems.unprocessable('The reference image does not exist.', [
        { path: 'video.reference_asset_id', message: `unknown asset ${reference}` },
      ]);
    return { ...check.video, reference_asset_id: reference };
  }

  const spotOf = (tenantId: string, video: VideoSettings, input: SpotInput) =>
    resolveSpot(
      { catalog, video, ownedAssetIds: (ids, kind) => deps.ownedAssetIds(tenantId, ids, kind) },
      input,
    );

  async function get(tenantId: string, id: string) {
    const row = await repo.findCampaign(db, { tenantId, id });
    if (!row) throw problems.notFound('campaign');
    return row;
  }

  return {
    get,

    /** The campaign's text that captions cannot draw, for the create and patch responses. */
    glyphWarnings: (row: repo.CampaignRow) =>
      deps.missingGlyphs ? campaignGlyphWarnings(row, deps.missingGlyphs) : Promise.resolve([]),

    async create(tenantId: string, body: CreateCampaignBody) {
      const video = await resolveVideo(tenantId, body.video);
      const spot = body.spot ? await spotOf(tenantId, video, body.spot) : null;
      const row = await repo.insertCampaign(db, {
        id: newId('campaign'),
        tenantId,
        name: body.name,
        brief: body.brief,
        promptTemplate: body.prompt_template,
        video,
        spot,
        budgetUsd: body.budget_usd ?? null,
        requireApproval: body.require_approval,
        overlay: { logo_position: 'bottom-right', ...body.overlay },
      });
      return row;
    },

    list: (tenantId: string, page: { after?: string; limit: number }) =>
      repo.listCampaigns(db, { tenantId, ...page }),

    /** Nested objects merge shallowly (JSON merge patch), then the result is validated whole. */
    async update(tenantId: string, id: string, patch: UpdateCampaignBody) {
      const current = await get(tenantId, id);
      const set: Partial<repo.NewCampaignRow> = {};
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.prompt_template !== undefined) set.promptTemplate = patch.prompt_template;
      if (patch.budget_usd !== undefined) set.budgetUsd = patch.budget_usd;
      if (patch.require_approval !== undefined) set.requireApproval = patch.require_approval;
      if (patch.brief) set.brief = { ...current.brief, ...patch.brief };
      if (patch.overlay) set.overlay = { ...current.overlay, ...patch.overlay } as OverlaySettings;
      if (patch.video) {
        const merged = { ...current.video, ...patch.video } as VideoInput;
        // A new provider without a model means that provider's default model, not the old one's.
        if (patch.video.provider && !patch.video.model) delete merged.model;
        set.video = await resolveVideo(tenantId, merged);
      }
      // The spot is checked against the campaign's video as it will be (a shot without a
      // generator of its own renders with the campaign's).
      if (patch.spot !== undefined)
        set.spot = patch.spot
          ? await spotOf(tenantId, set.video ?? current.video, patch.spot)
          : null;
      else if (set.video && current.spot)
        set.spot = await spotOf(tenantId, set.video, toSpotInput(current.spot));
      const row = await repo.updateCampaign(db, { tenantId, id, set });
      if (!row) throw problems.notFound('campaign');
      return row;
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
