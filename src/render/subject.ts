import type { DbOrTx } from '../db/client.ts';
import type { Brief, VariantStatus } from '../db/schema.ts';
import { colourFor } from '../media/index.ts';
import type { ProviderName } from '../providers/catalog.ts';
import type { RenderSpec } from '../providers/types.ts';
import {
  failVariant,
  holdVariant,
  markRunsStarted,
  openStatuses,
  requeueForRecreate,
  type StatusWrite,
  transition,
} from '../variants/lifecycle.ts';
import { loadRenderVariant, type RenderVariant } from './repository.ts';

/** What the provider half of the pipeline reads of the thing it renders. */
export type Rendering = {
  id: string;
  tenant_id: string;
  status: VariantStatus;
  prompt: string;
  provider_prompt: string | null;
  provider: ProviderName;
  model: string;
  seconds: number;
  size: string;
  provider_job_id: string | null;
  submit_started_at: Date | null;
  submitted_at: Date | null;
  recreates: number;
  /** The first-frame image, loaded at submit for models that take one. */
  reference_asset_id: string | null;
  /** A level's background image, loaded at submit for providers that draw one. */
  background_asset_id?: string | null;
};

/**
 * A unit that must never be paid for twice, and the lifecycle that moves it: a variant (one
 * clip) or a spot's shot (shared by the variants assembled from it). The render steps drive
 * either through this, so claims, recovery, holds and recreates are one piece of code.
 */
export interface RenderSubject<R extends Rendering = Rendering> {
  table: 'variants' | 'shots';
  load(db: DbOrTx, id: string): Promise<R | null>;
  /** The local renderer's drawing inputs. */
  specExtras(r: R): Partial<RenderSpec>;
  /** What the prompt writer needs, or null when this subject's prompts are sent as written. */
  writerInput(
    r: R,
  ): { brief: Brief; levels: { dimension: string; level: string; label: string }[] } | null;
  /** Not sent yet: nothing paid. */
  openStatuses: readonly VariantStatus[];
  /** Where a stored render goes: a variant to compositing, a shot is ready. */
  fetchedStatus: VariantStatus;
  transition(tx: DbOrTx, p: StatusWrite<VariantStatus>): Promise<boolean>;
  fail(
    tx: DbOrTx,
    p: { id: string; to: 'failed' | 'blocked'; code: string; message: string },
  ): Promise<boolean>;
  hold(tx: DbOrTx, p: { id: string; message: string }): Promise<boolean>;
  requeueForRecreate(tx: DbOrTx, p: { id: string; jobId: string; code: string }): Promise<boolean>;
  /** Inside the claim's transaction, after the slot was taken. */
  onClaimed(tx: DbOrTx, id: string): Promise<void>;
}

export const variantSubject: RenderSubject<RenderVariant> = {
  table: 'variants',
  load: loadRenderVariant,
  specExtras(v) {
    const first = v.dimensions[0];
    const firstLevel = first ? v.levels[first.key] : undefined;
    return {
      captions: v.dimensions.map(
        (d) => d.levels.find((l) => l.key === v.levels[d.key])?.label ?? v.levels[d.key] ?? '',
      ),
      background: colourFor(firstLevel ?? v.id),
      keyMessage: v.brief.key_message,
      callToAction: v.brief.call_to_action,
    };
  },
  writerInput(v) {
    const levels = v.dimensions.map((d) => {
      const level = v.levels[d.key] ?? '';
      return {
        dimension: d.key,
        level,
        label: d.levels.find((l) => l.key === level)?.label ?? level,
      };
    });
    return { brief: v.brief, levels };
  },
  openStatuses,
  fetchedStatus: 'compositing',
  transition: async (tx, p) => (await transition(tx, p)) !== null,
  fail: async (tx, p) => (await failVariant(tx, p)) !== null,
  hold: async (tx, p) => (await holdVariant(tx, p)) !== null,
  requeueForRecreate: async (tx, p) => (await requeueForRecreate(tx, p)) !== null,
  onClaimed: markRunsStarted,
};
