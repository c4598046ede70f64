import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { VariantStatus } from '../db/schema.ts';
import type { ProviderLimits as ConfiguredLimits, ModelLimits } from '../providers/plugin.ts';
import { inFlightStatuses } from '../variants/lifecycle.ts';
import type { RenderSubject } from './subject.ts';

/** The caps one create is checked against: its provider's, and its model's where it has own. */
export interface ProviderLimits extends ConfiguredLimits {
  /**
   * Models with caps of their own (catalog, MODEL_LIMITS_JSON). A model's count covers only its
   * own creates and renders; the provider's caps still bound all of them together. A model's
   * daily cap replaces the provider's where that one counts per model (`dailyPerModel`).
   */
  models?: Readonly<Record<string, ModelLimits>> | undefined;
  /** The RPM window; 60 s unless a test shortens it. */
  windowMs?: number | undefined;
}

export type Claim =
  | { kind: 'claimed'; submitStartedAt: Date; callId: number }
  | { kind: 'wait'; ms: number; reason: 'paused' | 'daily' | 'busy' | 'rpm' }
  | { kind: 'gone' };

const minuteMs = 60_000;
const dayMs = 24 * 3_600_000;
/**
 * A call whose answer never came back (the worker died mid-send) counts as done this long
 * after it was claimed: past every create timeout we set (60 s), so it cannot have arrived later.
 */
const sendCeilingMs = 120_000;
/**
 * Timestamps are compared across two clocks (Postgres here, the provider's there) and rounded
 * to the millisecond there: a sliver of slack costs 0.1% of R at 60 s and removes the tie.
 */
const marginMs = 50;

const secs = (ms: number) => sql`make_interval(secs => ${ms / 1000})`;

/**
 * Takes the provider's slot for one create call, or says how long to wait for one. The check
 * and the claim happen under one advisory lock per provider, in Postgres, so every worker on
 * every machine sees the same counts; no Redis counter can drift from what was really sent.
 *
 * The RPM window is kept as the provider's clock sees it. We stamp a call when we claim it,
 * but it arrives later (send latency), so a window counted from claim stamps lets R + 1
 * arrivals into one provider window and draws a 429. A call therefore counts until a full
 * window after its answer came back (`done_at`, set by `finishProviderCall`): the next
 * call cannot arrive before then, and the earlier one had arrived by then. The cost is one
 * send latency per window slot, under 0.2% of R for a 100 ms create.
 */
export async function claimSubmit(
  db: Db,
  p: {
    /** The variant or spot shot the create is for: the unit that must not be paid twice. */
    subject: Pick<RenderSubject, 'table' | 'transition' | 'onClaimed'>;
    id: string;
    provider: string;
    model: string;
    from: readonly VariantStatus[];
    limits: ProviderLimits;
    busyRetryMs: number;
  },
): Promise<Claim> {
  const windowMs = (p.limits.windowMs ?? minuteMs) + marginMs;
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`amx-submit:${p.provider}`}))`);
    const { rows: paused } = await tx.execute<{ wait_ms: string | null }>(sql`
      SELECT ceil(extract(epoch FROM (max(until) - clock_timestamp())) * 1000) AS wait_ms
      FROM provider_pauses
      WHERE provider = ${p.provider} AND model IN ('', ${p.model}) AND until > clock_timestamp()`);
    if (paused[0]?.wait_ms != null)
      return { kind: 'wait', ms: Math.max(10, Number(paused[0].wait_ms)), reason: 'paused' };
    const own =
      p.limits.models && Object.hasOwn(p.limits.models, p.model)
        ? p.limits.models[p.model]
        : undefined;
    const model = sql`AND model = ${p.model}`;
    // The provider's daily cap, unless it counts per model and this model has its own.
    const providerDaily =
      p.limits.dailyPerModel && own?.dailyLimit !== undefined ? undefined : p.limits.dailyLimit;
    for (const [limit, scope] of [
      [providerDaily, p.limits.dailyPerModel ? model : sql``],
      [own?.dailyLimit, model],
    ] as const) {
      if (limit === undefined) continue;
      const { rows: day } = await tx.execute<{ n: string; wait_ms: string | null }>(sql`
        SELECT count(*) AS n,
               ceil(extract(epoch FROM (min(at) + ${secs(dayMs)} - clock_timestamp())) * 1000) AS wait_ms
        FROM provider_calls
        WHERE provider = ${p.provider} ${scope} AND outcome IS DISTINCT FROM 'rejected'
          AND at > clock_timestamp() - ${secs(dayMs)}`);
      if (Number(day[0]?.n ?? 0) >= limit)
        return {
          kind: 'wait',
          ms: Math.max(1_000, Number(day[0]?.wait_ms ?? dayMs)),
          reason: 'daily',
        };
    }
    for (const [limit, scope] of [
      [p.limits.maxConcurrent, sql``],
      [own?.maxConcurrent, model],
    ] as const) {
      if (limit === undefined) continue;
      // Variants and spot shots render through the same provider slots.
      const inFlight = sql`provider = ${p.provider} ${scope} AND status = ANY(${sql.param([...inFlightStatuses])}::text[]) AND id <> ${p.id}`;
      const { rows: busy } = await tx.execute<{ n: string }>(sql`
        SELECT (SELECT count(*) FROM variants WHERE ${inFlight})
             + (SELECT count(*) FROM shots WHERE ${inFlight}) AS n`);
      if (Number(busy[0]?.n ?? 0) >= limit)
        return { kind: 'wait', ms: p.busyRetryMs, reason: 'busy' };
    }
    for (const [limit, scope] of [
      [p.limits.rpm, sql``],
      [own?.rpm, model],
    ] as const) {
      if (limit === undefined) continue;
      // In flight: done no earlier than now, so it holds its slot at least a window from now.
      const { rows: calls } = await tx.execute<{ n: string; wait_ms: string | null }>(sql`
        WITH c AS (
          SELECT coalesce(done_at, least(greatest(clock_timestamp(), at), at + ${secs(sendCeilingMs)})) AS done
          FROM provider_calls
          WHERE provider = ${p.provider} ${scope} AND at > clock_timestamp() - ${secs(windowMs + sendCeilingMs)})
        SELECT count(*) AS n,
               ceil(extract(epoch FROM (min(done) + ${secs(windowMs)} - clock_timestamp())) * 1000) AS wait_ms
        FROM c WHERE done > clock_timestamp() - ${secs(windowMs)}`);
      if (Number(calls[0]?.n ?? 0) >= limit)
        return {
          kind: 'wait',
          ms: Math.max(10, Number(calls[0]?.wait_ms ?? windowMs)),
          reason: 'rpm',
        };
    }
    const now = new Date();
    const table = sql.raw(p.subject.table);
    const claimed = await p.subject.transition(tx, {
      id: p.id,
      from: p.from,
      to: 'submitting',
      set: p.from.includes('submitting') ? {} : { submitStartedAt: now },
    });
    if (!claimed) return { kind: 'gone' };
    await tx.execute(sql`UPDATE ${table} SET attempts = attempts + 1 WHERE id = ${p.id}`);
    // variant_id holds a shot's id for a spot shot's create: the id says which.
    const { rows: call } = await tx.execute<{ id: string }>(sql`
      INSERT INTO provider_calls (provider, model, at, variant_id)
      VALUES (${p.provider}, ${p.model}, clock_timestamp(), ${p.id}) RETURNING id`);
    await p.subject.onClaimed(tx, p.id);
    const { rows } = await tx.execute<{ submit_started_at: Date }>(
      sql`SELECT submit_started_at FROM ${table} WHERE id = ${p.id}`,
    );
    return {
      kind: 'claimed',
      submitStartedAt: new Date(rows[0]?.submit_started_at ?? now),
      callId: Number(call[0]!.id),
    };
  });
}

/** `rejected` = the provider refused it (a 4xx, 429 included): no generation to count a day. */
type CallOutcome = 'accepted' | 'rejected' | 'unknown';

/** Stamps the answer's arrival: from here the call's RPM slot runs one more window. */
export async function finishProviderCall(db: Db, p: { callId: number; outcome: CallOutcome }) {
  await db.execute(sql`
    UPDATE provider_calls SET done_at = clock_timestamp(), outcome = ${p.outcome}
    WHERE id = ${p.callId} AND done_at IS NULL`);
}

/**
 * A 429's "not before": the provider (model '') on a rate limit, one model on a daily cap.
 * Exactly its Retry-After from now, never compounded; a later 429 may move it either way,
 * since the provider's newest word is the one that holds. Returns the recorded end.
 */
export async function pauseProvider(
  db: Db,
  p: { provider: string; model: string; retryAfterMs: number; code: string },
): Promise<Date> {
  const { rows } = await db.execute<{ until: Date }>(sql`
    INSERT INTO provider_pauses (provider, model, until, code)
    VALUES (${p.provider}, ${p.model}, clock_timestamp() + ${secs(p.retryAfterMs)}, ${p.code})
    ON CONFLICT (provider, model) DO UPDATE SET until = excluded.until, code = excluded.code,
      created_at = now()
    RETURNING until`);
  return new Date(rows[0]!.until);
}

/** Old window rows are useless past the longest window (a day); housekeeping trims them. */
export async function purgeProviderCalls(db: Db) {
  await db.execute(sql`DELETE FROM provider_calls WHERE at < now() - interval '25 hours'`);
  await db.execute(sql`DELETE FROM provider_pauses WHERE until < now() - interval '1 hour'`);
}
