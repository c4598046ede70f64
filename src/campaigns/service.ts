import type { Db } from '../db/client.ts';
import type { OverlaySettings } from '../db/schema.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import {
  checkVideoSettings,
  type ProviderCatalog,
  type ProviderName,
} from '../providers/catalog.ts';
import * as repo from './repository.ts';
import type { CreateCampaignBody, UpdateCampaignBody } from './schemas.ts';

export function toCampaignResponse(row: repo.CampaignRow) {
  return {
    id: row.id,
    name: row.name,
    brief: row.brief,
    prompt_template: row.promptTemplate,
    video: row.video,
    budget_usd: row.budgetUsd,
    require_approval: row.requireApproval,
    overlay: row.overlay,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function createCampaignService(deps: {
  db: Db;
  catalog: ProviderCatalog;
  defaultProvider: ProviderName;
}) {
  const { db, catalog } = deps;

  function resolveVideo(video: {
    provider?: ProviderName | undefined;
    model?: string | undefined;
    seconds: number;
    size: string;
  }) {
    const check = checkVideoSettings(catalog, {
      ...video,
      provider: video.provider ?? deps.defaultProvider,
    });
    if (!check.ok)
      throw problems.unprocessable(
        'The video settings are not supported by the provider.',
        check.errors,
      );
    return check.video;
  }

  async function get(tenantId: string, id: string) {
    const row = await repo.findCampaign(db, { tenantId, id });
    if (!row) throw problems.notFound('campaign');
    return row;
  }

  return {
    get,

    async create(tenantId: string, body: CreateCampaignBody) {
      const row = await repo.insertCampaign(db, {
        id: newId('campaign'),
        tenantId,
        name: body.name,
        brief: body.brief,
        promptTemplate: body.prompt_template,
        video: resolveVideo(body.video),
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
        const merged = { ...current.video, ...patch.video } as {
          provider: ProviderName;
          model?: string;
          seconds: number;
          size: string;
        };
        // A new provider without a model means that provider's default model, not the old one's.
        if (patch.video.provider && !patch.video.model) delete merged.model;
        set.video = resolveVideo(merged);
      }
      const row = await repo.updateCampaign(db, { tenantId, id, set });
      if (!row) throw problems.notFound('campaign');
      return row;
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
