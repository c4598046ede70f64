import type { CampaignService } from '../campaigns/service.ts';
import type { Db } from '../db/client.ts';
import { type VariantStatus, variantStatuses } from '../db/schema.ts';
import type { IdempotencyHandle } from '../http/idempotency/plugin.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { toDesignSpace } from '../matrices/parse/index.ts';
import { bindMatrix, checkBudget, expandDesign, roundUsd, toDesign } from '../matrices/plan.ts';
import type { DesignInput } from '../matrices/schemas.ts';
import type { MatrixService } from '../matrices/service.ts';
import { variantKey } from '../prompts/index.ts';
import { type ProviderCatalog, type ProviderName, pricePerVariant } from '../providers/catalog.ts';
import type { Queues } from '../queue/registry.ts';
import { enqueueRenders } from '../render/enqueue.ts';
import { completeSettledRuns, settledStatuses, transition } from '../render/transitions.ts';
import * as repo from './repository.ts';

export interface RunServiceConfig {
  maxVariantsPerRun: number;
  maxPromptChars: number;
}

const chunkSize = 10_000;

export function createRunService(deps: {
  db: Db;
  queues: Queues;
  campaigns: Pick<CampaignService, 'get'>;
  matrices: Pick<MatrixService, 'get'>;
  catalog: ProviderCatalog;
  config: RunServiceConfig;
  onEnqueueError: (err: unknown) => void;
}) {
  const { db } = deps;

  async function get(tenantId: string, id: string) {
    const row = await repo.findRun(db, { tenantId, id });
    if (!row) throw problems.notFound('run');
    return row;
  }

  async function describe(row: repo.RunRow) {
    const counts = await repo.runCounts(db, row.id);
    const byStatus = Object.fromEntries(variantStatuses.map((s) => [s, 0]));
    let estimated = 0;
    let actual = 0;
    for (const c of counts) {
      byStatus[c.status] = c.n;
      estimated += c.estimated;
      actual += c.actual;
    }
    const settled = counts
      .filter((c) => settledStatuses.includes(c.status))
      .reduce((a, c) => a + c.n, 0);
    const remaining = row.variantCount - settled;
    // Naive but honest: the pace so far, applied to what is left.
    const elapsed = row.startedAt ? (Date.now() - row.startedAt.getTime()) / 1000 : 0;
    const eta =
      row.status === 'running' && settled > 0 && remaining > 0
        ? Math.round((elapsed / settled) * remaining)
        : null;
    return {
      id: row.id,
      campaign_id: row.campaignId,
      matrix_id: row.matrixId,
      status: row.status,
      variant_count: row.variantCount,
      new_variant_count: row.newVariantCount,
      counts: byStatus,
      cost: { estimated_usd: roundUsd(estimated), actual_usd: roundUsd(actual) },
      eta_seconds: eta,
      created_at: row.createdAt.toISOString(),
      started_at: row.startedAt?.toISOString() ?? null,
      finished_at: row.finishedAt?.toISOString() ?? null,
    };
  }

  /** After commit: a failure here loses nothing; the reconciler adds jobs for queued variants without one. */
  async function enqueue(ids: string[], provider: string) {
    try {
      await enqueueRenders(
        deps.queues,
        ids.map((id) => ({ id, provider })),
      );
    } catch (err) {
      deps.onEnqueueError(err);
    }
  }

  return {
    get,
    describe,

    async create(
      tenantId: string,
      campaignId: string,
      body: { matrix_id: string; design: DesignInput; max_cost_usd?: number | undefined },
      idempotency: IdempotencyHandle | null,
    ) {
      const campaign = await deps.campaigns.get(tenantId, campaignId);
      const matrixRow = await deps.matrices.get(tenantId, body.matrix_id).catch(() => null);
      if (!matrixRow || matrixRow.campaignId !== campaignId) {
        throw problems.unprocessable('The matrix does not belong to this campaign.', [
          { path: 'matrix_id', message: 'unknown matrix for this campaign' },
        ]);
      }
      const matrix = matrixRow.document;
      const renderer = bindMatrix(matrix, campaign, deps.config.maxPromptChars);
      const combos = expandDesign(
        toDesignSpace(matrix),
        toDesign(matrix, body.design),
        deps.config.maxVariantsPerRun,
      );
      const video = campaign.video as {
        provider: ProviderName;
        model: string;
        seconds: number;
        size: string;
      };
      const unit = pricePerVariant(deps.catalog, video);

      // Pass 1 keeps only the keys: at 100,000 variants, holding every prompt and level set
      // at once would triple the memory. Rendering again in pass 2 costs milliseconds.
      const n = combos.length;
      const rowAt = (i: number) => {
        const combo = combos[i]!;
        const levels = renderer.levelsOf(combo);
        return { levels, prompt: renderer.render(combo) };
      };
      const keys = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const { levels, prompt } = rowAt(i);
        keys[i] = variantKey({ campaignId, levels, prompt, video });
      }

      const runId = newId('run');
      const result = await db.transaction(async (tx) => {
        await repo.lockCampaign(tx, campaignId);
        const existing = await repo.findExistingVariants(tx, { campaignId, keys });
        const existingByKey = new Map(existing.map((e) => [e.variant_key, e]));
        const again = existing
          .filter((e) => e.status === 'failed' || e.status === 'cancelled')
          .map((e) => e.id);
        const freshCount = n - existingByKey.size;
        const cost = roundUsd(unit * (freshCount + again.length));
        if (body.max_cost_usd !== undefined && cost > body.max_cost_usd) {
          throw problems.unprocessable(
            `The run costs $${cost.toFixed(2)}, $${roundUsd(cost - body.max_cost_usd).toFixed(2)} over max_cost_usd.`,
            [{ path: 'max_cost_usd', message: `run costs $${cost.toFixed(2)}` }],
          );
        }
        checkBudget({
          cost,
          budget: campaign.budgetUsd,
          committed: await repo.committedSpend(tx, campaignId),
        });
        await repo.insertRun(tx, {
          id: runId,
          tenantId,
          campaignId,
          matrixId: matrixRow.id,
          design: body.design as Record<string, unknown>,
          status: 'queued',
          variantCount: n,
          newVariantCount: freshCount,
          estimatedCostUsd: cost,
          maxCostUsd: body.max_cost_usd ?? null,
        });
        const toEnqueue: string[] = [];
        for (let from = 0; from < n; from += chunkSize) {
          const chunk: repo.NewVariants = { ids: [], keys: [], levels: [], prompts: [] };
          const linked: string[] = [];
          for (let i = from; i < Math.min(n, from + chunkSize); i++) {
            const known = existingByKey.get(keys[i]!);
            if (known) {
              linked.push(known.id);
              continue;
            }
            const { levels, prompt } = rowAt(i);
            const id = newId('variant');
            chunk.ids.push(id);
            chunk.keys.push(keys[i]!);
            chunk.levels.push(JSON.stringify(levels));
            chunk.prompts.push(prompt);
            linked.push(id);
          }
          await repo.insertVariants(tx, {
            ...chunk,
            tenantId,
            campaignId,
            runId,
            video,
            costUsd: unit,
          });
          await repo.linkVariants(tx, { runId, variantIds: linked });
          toEnqueue.push(...chunk.ids);
        }
        toEnqueue.push(...(await repo.resetForRetry(tx, again)));
        // A run of variants that all exist already (and are settled) is complete at birth.
        await completeSettledRuns(tx, { runId });
        const response = {
          id: runId,
          status: 'queued' as const,
          variant_count: n,
          new_variant_count: freshCount,
          estimated_cost_usd: cost,
        };
        await idempotency?.completeIn(tx, 202, response);
        return { response, toEnqueue };
      });
      await enqueue(result.toEnqueue, video.provider);
      return result.response;
    },

    list: (tenantId: string, campaignId: string, page: { after?: string; limit: number }) =>
      deps.campaigns
        .get(tenantId, campaignId)
        .then(() => repo.listRuns(db, { tenantId, campaignId, ...page })),

    /**
     * Stops what has not been paid for. Renders already accepted by the provider cannot be
     * recalled; by default they are not fetched either, unless fetch_submitted asks for them.
     */
    async cancel(tenantId: string, id: string, opts: { fetch_submitted: boolean }) {
      const run = await get(tenantId, id);
      if (run.status === 'completed' || run.status === 'cancelled') return run;
      const from: VariantStatus[] = opts.fetch_submitted
        ? ['pending', 'queued']
        : ['pending', 'queued', 'submitting', 'submitted', 'rendering'];
      const targets = await repo.runVariantIds(db, { runId: id, statuses: from });
      await db.transaction(async (tx) => {
        for (const t of targets)
          await transition(tx, {
            id: t.id,
            from,
            to: 'cancelled',
            set: { errorCode: 'cancelled', errorMessage: 'run cancelled' },
          });
        await tx.execute(
          (await import('drizzle-orm'))
            .sql`UPDATE runs SET status = 'cancelled', finished_at = now() WHERE id = ${id} AND status IN ('queued', 'running')
            AND NOT ${opts.fetch_submitted}`,
        );
        if (opts.fetch_submitted) await completeSettledRuns(tx, { runId: id });
      });
      return get(tenantId, id);
    },

    /** Failed variants only; blocked ones would be blocked again, and charged again. */
    async retry(tenantId: string, id: string) {
      const run = await get(tenantId, id);
      const campaign = await deps.campaigns.get(tenantId, run.campaignId);
      const failed = await repo.runVariantIds(db, { runId: id, statuses: ['failed'] });
      if (!failed.length) return { run, retried: 0 };
      const ids = await db.transaction(async (tx) => {
        await repo.lockCampaign(tx, run.campaignId);
        const cost = roundUsd(failed.reduce((a, f) => a + f.cost, 0));
        checkBudget({
          cost,
          budget: campaign.budgetUsd,
          committed: await repo.committedSpend(tx, run.campaignId),
          path: 'run',
        });
        const reset = await repo.resetForRetry(
          tx,
          failed.map((f) => f.id),
        );
        await tx.execute(
          (await import('drizzle-orm'))
            .sql`UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ${id} AND status = 'completed'`,
        );
        return reset;
      });
      await enqueue(ids, (campaign.video as { provider: string }).provider);
      return { run: await get(tenantId, id), retried: ids.length };
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
