import type pg from 'pg';
import type { CampaignService } from '../campaigns/service.ts';
import { clientTransaction, type Db } from '../db/client.ts';
import { variantStatuses } from '../db/schema.ts';
import type { IdempotencyHandle } from '../http/idempotency/plugin.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { checkBudget, planRun, prepareRun, roundUsd } from '../matrices/plan.ts';
import type { DesignInput } from '../matrices/schemas.ts';
import type { MatrixService } from '../matrices/service.ts';
import { videoOf } from '../matrices/videos.ts';
import type { ProviderCatalog } from '../providers/catalog.ts';
import type { Queues } from '../queue/registry.ts';
import { enqueueRenders } from '../render/enqueue.ts';
import { retryShotCost, shotsToRender } from '../spots/fanout.ts';
import {
  cancellableStatuses,
  cancelRunVariants,
  completeSettledRuns,
  openStatuses,
  requeueForRetry,
  settledStatuses,
} from '../variants/lifecycle.ts';
import { type Routed, writeRunVariants } from './fanout.ts';
import * as repo from './repository.ts';

interface RunServiceConfig {
  maxVariantsPerRun: number;
  maxPromptChars: number;
}

export function createRunService(deps: {
  db: Db;
  /** The fan-out COPYs its variants on a connection of its own. */
  pool: pg.Pool;
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

  type Counts = Awaited<ReturnType<typeof repo.runCounts>>;

  async function describe(row: repo.RunRow) {
    return (await describeMany([row]))[0]!;
  }

  /** A page of runs with one count query for all of them, not one per run. */
  async function describeMany(rows: repo.RunRow[]) {
    const ids = rows.map((r) => r.id);
    const [counts, shots] = await Promise.all([
      repo.runCounts(db, ids),
      repo.runShotCosts(db, ids),
    ]);
    const byRun = Map.groupBy(counts, (c) => c.runId);
    return rows.map((row) => present(row, byRun.get(row.id) ?? [], shots.get(row.id)));
  }

  /** `shots`: what the spot shots this run made cost (its variants then cost nothing). */
  function present(
    row: repo.RunRow,
    counts: Counts,
    shots: { estimated: number; actual: number } | undefined,
  ) {
    const byStatus = Object.fromEntries(variantStatuses.map((s) => [s, 0]));
    let estimated = shots?.estimated ?? 0;
    let actual = shots?.actual ?? 0;
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
  async function enqueue(variants: Routed[]) {
    try {
      // Each to its own provider's queue: a generator dimension spans several.
      await enqueueRenders(deps.queues, variants);
    } catch (err) {
      deps.onEnqueueError(err);
    }
  }

  return {
    get,
    describe,
    describeMany,

    async create(
      tenantId: string,
      campaignId: string,
      body: { matrix_id: string; design: DesignInput; max_cost_usd?: number | undefined },
      idempotency: IdempotencyHandle | null,
    ) {
      const campaign = await deps.campaigns.get(tenantId, campaignId);
      // Only a matrix this tenant does not have is "unknown"; a lost database stays what it is.
      const matrixRow = await deps.matrices.get(tenantId, body.matrix_id).catch((err: unknown) => {
        if (err instanceof ProblemError && err.status === 404) return null;
        throw err;
      });
      if (!matrixRow || matrixRow.campaignId !== campaignId) {
        throw problems.unprocessable('The matrix does not belong to this campaign.', [
          { path: 'matrix_id', message: 'unknown matrix for this campaign' },
        ]);
      }
      // Checked, expanded and priced before the transaction: nothing here needs the lock.
      const prepared = prepareRun({
        campaign,
        matrix: matrixRow.document,
        design: body.design,
        maxCostUsd: body.max_cost_usd,
        catalog: deps.catalog,
        maxVariantsPerRun: deps.config.maxVariantsPerRun,
        maxPromptChars: deps.config.maxPromptChars,
      });

      const runId = newId('run');
      const result = await clientTransaction(deps.pool, async (tx, client) => {
        await repo.lockCampaign(tx, campaignId);
        // The preview's plan, now authoritative: no other fan-out of this campaign runs meanwhile.
        const plan = await planRun(tx, prepared);
        if (plan.refusal) throw plan.refusal;
        const written = await writeRunVariants(tx, client, {
          tenantId,
          campaignId,
          runId,
          matrix: plan.matrix,
          combos: plan.combos,
          render: (combo) => plan.renderer.render(combo),
          keyOf: plan.keyOf,
          spot: plan.spot,
          videoOf: (combo) => videoOf(plan.videos, combo),
          priceOf: plan.priceOf,
          reuse: plan.reuse,
        });
        if (
          written.created.length !== plan.newVariantCount ||
          written.again.length !== plan.rerenderedVariantCount
        ) {
          // Under the lock the two passes see the same variants; anything else is a bug.
          throw new Error(
            `fan-out wrote ${written.created.length} new and ${written.again.length} again, planned ${plan.newVariantCount} and ${plan.rerenderedVariantCount}`,
          );
        }
        const cost = plan.costUsd;
        await repo.insertRun(tx, {
          id: runId,
          tenantId,
          campaignId,
          matrixId: matrixRow.id,
          design: body.design as Record<string, unknown>,
          status: 'queued',
          variantCount: written.count,
          newVariantCount: written.created.length,
          estimatedCostUsd: cost,
          maxCostUsd: body.max_cost_usd ?? null,
        });
        const reset = new Set(
          await requeueForRetry(
            tx,
            written.again.map((v) => v.id),
          ),
        );
        const toEnqueue = written.created.concat(
          written.again.filter((v) => reset.has(v.id)),
          // A spot's shots start at once, shared by the variants that wait for them.
          plan.spot ? (await shotsToRender(tx, runId)).map((s) => ({ ...s, shot: true })) : [],
        );
        // A run of variants that all exist already (and are settled) is complete at birth.
        await completeSettledRuns(tx, { runId });
        const response = {
          id: runId,
          status: 'queued' as const,
          variant_count: written.count,
          new_variant_count: written.created.length,
          reused_variant_count: plan.reusedVariantCount,
          rerendered_variant_count: plan.rerenderedVariantCount,
          estimated_cost_usd: cost,
        };
        await idempotency?.completeIn(tx, 202, response);
        return { response, toEnqueue };
      });
      await enqueue(result.toEnqueue);
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
      const from = opts.fetch_submitted ? openStatuses : cancellableStatuses;
      await db.transaction(async (tx) => {
        await cancelRunVariants(tx, { runId: id, from });
        if (opts.fetch_submitted) await completeSettledRuns(tx, { runId: id });
        else await repo.markRunCancelled(tx, id);
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
        // A spot's variants cost nothing themselves: their failed shots are what is paid again.
        const shotCost = await retryShotCost(
          tx,
          failed.map((f) => f.id),
        );
        const cost = roundUsd(failed.reduce((a, f) => a + f.cost, shotCost));
        checkBudget({
          cost,
          budget: campaign.budgetUsd,
          committed: (await repo.campaignSpend(tx, run.campaignId)).committed,
          path: 'run',
        });
        const reset = new Set(
          await requeueForRetry(
            tx,
            failed.map((f) => f.id),
          ),
        );
        await repo.reopenRun(tx, id);
        const shots = shotCost > 0 || campaign.spot ? await shotsToRender(tx, id) : [];
        return [
          ...failed.filter((f) => reset.has(f.id)).map((f) => ({ ...f, shot: false })),
          ...shots.map((x) => ({ ...x, shot: true })),
        ];
      });
      await enqueue(ids);
      return { run: await get(tenantId, id), retried: ids.filter((x) => !x.shot).length };
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
