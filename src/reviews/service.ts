import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.ts';
import { recordEvent, variantEventData } from '../events/outbox.ts';
import { problems } from '../http/problem.ts';
import { transition } from '../variants/lifecycle.ts';

type Decision = 'approved' | 'rejected';

interface Reviewer {
  tenantId: string;
  /** The API key that decided: what `reviewed_by` records. */
  keyId: string;
}

const chunkSize = 500;

/**
 * ready → approved | rejected for each variant, through `transition()` like every status change,
 * with who decided and why on the variants and a `variant.approved` each, in the caller's
 * transaction. Returns how many moved: one reviewed meanwhile is skipped by the guard.
 */
async function decide(
  tx: DbOrTx,
  p: { ids: string[]; decision: Decision; reason: string | null; reviewer: Reviewer; at: Date },
): Promise<number> {
  const moved: string[] = [];
  for (const id of p.ids) {
    const done = await transition(tx, { id, from: ['ready'], to: p.decision });
    if (!done) continue;
    moved.push(id);
    if (p.decision !== 'approved') continue;
    await recordEvent(tx, {
      tenantId: done.tenant_id,
      type: 'variant.approved',
      data: {
        ...variantEventData(done),
        review: {
          reason: p.reason,
          reviewed_by: p.reviewer.keyId,
          reviewed_at: p.at.toISOString(),
        },
      },
    });
  }
  if (moved.length) {
    await tx.execute(sql`
      UPDATE variants SET review_reason = ${p.reason}, reviewed_by = ${p.reviewer.keyId}, reviewed_at = ${p.at}
      WHERE id = ANY(${sql.param(moved)}::text[])`);
  }
  return moved.length;
}

interface BulkFilter {
  run_id?: string | undefined;
  campaign_id?: string | undefined;
  levels?: Record<string, string> | undefined;
}

export function createReviewService(deps: { db: Db }) {
  const { db } = deps;

  /** The ready variants of the tenant's run or campaign with these levels; 404 for another's. */
  async function matchingWhere(tenantId: string, filter: BulkFilter) {
    if (filter.run_id) {
      const { rows } = await db.execute(
        sql`SELECT 1 FROM runs WHERE id = ${filter.run_id} AND tenant_id = ${tenantId}`,
      );
      if (!rows.length) throw problems.notFound('run');
    }
    if (filter.campaign_id) {
      const { rows } = await db.execute(
        sql`SELECT 1 FROM campaigns WHERE id = ${filter.campaign_id} AND tenant_id = ${tenantId}`,
      );
      if (!rows.length) throw problems.notFound('campaign');
    }
    const where = [sql`v.tenant_id = ${tenantId}`, sql`v.status = 'ready'`];
    if (filter.run_id)
      where.push(
        sql`v.id IN (SELECT variant_id FROM run_variants WHERE run_id = ${filter.run_id})`,
      );
    if (filter.campaign_id) where.push(sql`v.campaign_id = ${filter.campaign_id}`);
    if (filter.levels && Object.keys(filter.levels).length)
      where.push(sql`v.levels @> ${JSON.stringify(filter.levels)}::jsonb`);
    return sql.join(where, sql` AND `);
  }

  return {
    async review(
      reviewer: Reviewer,
      id: string,
      body: { decision: Decision; reason?: string | undefined },
    ) {
      const at = new Date();
      const reason = body.reason ?? null;
      await db.transaction(async (tx) => {
        const { rows } = await tx.execute<{ status: string }>(sql`
          SELECT status FROM variants WHERE id = ${id} AND tenant_id = ${reviewer.tenantId} FOR UPDATE`);
        const status = rows[0]?.status;
        if (!status) throw problems.notFound('variant');
        if (
          status !== 'ready' ||
          !(await decide(tx, { ids: [id], decision: body.decision, reason, reviewer, at }))
        )
          throw problems.conflict(
            `The variant is ${status}; only a ready variant can be reviewed.`,
          );
      });
      return {
        decision: body.decision,
        reason,
        reviewed_by: reviewer.keyId,
        reviewed_at: at.toISOString(),
      };
    },

    /** How many ready variants a bulk filter matches now: what a confirmation states. */
    async countMatching(tenantId: string, filter: BulkFilter): Promise<number> {
      const where = await matchingWhere(tenantId, filter);
      const { rows } = await db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM variants v WHERE ${where}`,
      );
      return rows[0]?.n ?? 0;
    },

    /**
     * Every ready variant the filter matches (at most `limit`, the first by id), in chunks so
     * one decision never holds a long lock.
     */
    async bulk(
      reviewer: Reviewer,
      body: {
        decision: Decision;
        reason?: string | undefined;
        filter: BulkFilter;
        limit?: number | undefined;
      },
    ) {
      const where = await matchingWhere(reviewer.tenantId, body.filter);
      const limit = body.limit === undefined ? sql`` : sql` LIMIT ${body.limit}`;
      const { rows } = await db.execute<{ id: string }>(
        sql`SELECT v.id FROM variants v WHERE ${where} ORDER BY v.id${limit}`,
      );
      const at = new Date();
      const reason = body.reason ?? null;
      let updated = 0;
      for (let i = 0; i < rows.length; i += chunkSize) {
        const chunk = rows.slice(i, i + chunkSize);
        updated += await db.transaction((tx) =>
          decide(tx, {
            ids: chunk.map((r) => r.id),
            decision: body.decision,
            reason,
            reviewer,
            at,
          }),
        );
      }
      return { updated };
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
