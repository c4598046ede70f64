import { DelayedError, type Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../crypto/secrets.ts';
import type { Db, DbOrTx } from '../db/client.ts';
import { newAttemptId } from './ids.ts';
import type { WebhookMetrics } from './metrics.ts';
import { cancelPendingDeliveries } from './repository.ts';
import {
  type AttemptResult,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelay,
  signWebhook,
  type WebhookSender,
} from './sender/index.ts';

interface DeliveryConfig {
  /** Multiplies the retry schedule (tests); Retry-After is honoured unscaled. */
  retryScale: number;
  /** An endpoint whose every attempt failed for longer than this is disabled. */
  disableAfterMs: number;
  /** The sender's whole-attempt timeout, so the claim outlives any attempt. */
  timeoutMs: number;
  random?: () => number;
}

/** A delivery claimed for one attempt, with what signing and sending it needs. */
type Claimed = {
  id: string;
  tenant_id: string;
  event_id: string;
  endpoint_id: string;
  /** This attempt's number. */
  attempts: number;
  type: string;
  data: Record<string, unknown>;
  event_created_at: Date;
  url: string;
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
};

type Next = { kind: 'delivered' | 'failed' | 'disabled' | 'raced' } | { kind: 'retry'; at: number };

// Raw queries through drizzle's pg driver return timestamps as strings.
const date = (v: Date | string | null) => (v === null ? null : new Date(v));

/** The webhook body: exactly these bytes are signed and sent. */
function webhookBody(e: { id: string; type: string; createdAt: Date; data: unknown }) {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    created_at: e.createdAt.toISOString(),
    data: e.data,
  });
}

/** Early wake-ups (clock skew, a promoted job) within this much still count as due. */
const dueSlackMs = 50;

export function createDeliveryProcessor(deps: {
  db: Db;
  box: SecretBox;
  sender: WebhookSender;
  logger: Logger;
  metrics: WebhookMetrics;
  config: DeliveryConfig;
}) {
  const { db, config } = deps;
  const log = deps.logger.child({ component: 'webhook-delivery' });
  const leaseMs = config.timeoutMs + 60_000;

  /** Milliseconds until the next attempt after `made` attempts, or null to give up. */
  function retryDelay(made: number, retryAfterMs: number | undefined): number | null {
    const base = nextAttemptDelay(made, config.random ? { random: config.random } : {});
    if (base === null) return null;
    const scaled = Math.round(base * config.retryScale);
    if (retryAfterMs !== undefined && retryAfterMs > scaled)
      return Math.min(Math.ceil(retryAfterMs), MAX_RETRY_AFTER_MS);
    return scaled;
  }

  /**
   * Takes the next attempt of a due, pending delivery to an enabled endpoint, and reads what it
   * needs, in one statement. The lease (next_attempt_at pushed past any attempt's end) makes a
   * second job holding the same delivery find it not due, so an attempt is sent once.
   */
  async function claim(id: string): Promise<Claimed | null> {
    const now = Date.now();
    const { rows } = await db.execute<Claimed>(sql`
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1, next_attempt_at = ${new Date(now + leaseMs)}
      FROM events e, webhook_endpoints w
      WHERE d.id = ${id} AND d.status = 'pending'
        AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ${new Date(now + dueSlackMs)})
        AND e.id = d.event_id AND w.id = d.endpoint_id AND w.enabled
      RETURNING d.id, d.tenant_id, d.event_id, d.endpoint_id, d.attempts, e.type, e.data,
                e.created_at AS event_created_at, w.url, w.secret_ciphertext, w.previous_secret_ciphertext,
                w.previous_secret_expires_at, w.failing_since`);
    const row = rows[0];
    if (!row) return null;
    return {
      ...row,
      event_created_at: date(row.event_created_at)!,
      previous_secret_expires_at: date(row.previous_secret_expires_at),
      failing_since: date(row.failing_since),
    };
  }

  /** Why a delivery could not be claimed: settled, endpoint off, not due yet, or gone. */
  async function unclaimable(id: string) {
    const { rows } = await db.execute<{
      status: string;
      next_attempt_at: string | null;
      endpoint_id: string;
      enabled: boolean;
    }>(sql`
      SELECT d.status, d.next_attempt_at, d.endpoint_id, w.enabled
      FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = ${id}`);
    return rows[0] ?? null;
  }

  // Decrypting per attempt is a measurable share of a fast delivery; each sealing has a fresh
  // nonce, so a rotated secret is a new key here and a stale entry is simply never read again.
  const opened = new Map<string, string>();
  function open(ciphertext: string) {
    let secret = opened.get(ciphertext);
    if (secret === undefined) {
      secret = deps.box.open(ciphertext);
      if (opened.size >= 1_000) opened.clear();
      opened.set(ciphertext, secret);
    }
    return secret;
  }

  async function attempt(d: Claimed): Promise<AttemptResult> {
    const now = new Date();
    let secrets: string[];
    try {
      secrets = [open(d.secret_ciphertext)];
      if (d.previous_secret_ciphertext && (d.previous_secret_expires_at ?? now) > now)
        secrets.push(open(d.previous_secret_ciphertext));
    } catch {
      return {
        outcome: 'failed',
        durationMs: 0,
        error: 'the endpoint secret cannot be decrypted (was SECRETS_KEY changed?)',
      };
    }
    const body = webhookBody({
      id: d.event_id,
      type: d.type,
      createdAt: d.event_created_at,
      data: d.data,
    });
    const headers = signWebhook({ id: d.event_id, timestamp: now, body, secrets });
    return deps.sender.send({ url: d.url, headers, body });
  }

  const attemptRow = (d: Claimed, r: AttemptResult) => sql`
    INSERT INTO webhook_attempts (id, tenant_id, delivery_id, endpoint_id, event_id, attempt, outcome,
                                  status_code, duration_ms, response_excerpt, error)
    VALUES (${newAttemptId()}, ${d.tenant_id}, ${d.id}, ${d.endpoint_id}, ${d.event_id}, ${d.attempts},
            ${r.outcome}, ${r.status ?? null}, ${r.durationMs}, ${r.responseExcerpt ?? null},
            ${r.error?.slice(0, 1000) ?? null})`;

  /** Settles or reschedules the delivery, unless a replay reset it meanwhile. */
  const settle = (d: Claimed, r: AttemptResult, status: string, nextAt: Date | null) => sql`
    UPDATE webhook_deliveries
    SET status = ${status}, next_attempt_at = ${nextAt}, last_status_code = ${r.status ?? null},
        delivered_at = ${status === 'delivered' ? new Date() : null}
    WHERE id = ${d.id} AND status = 'pending' AND attempts = ${d.attempts}
    RETURNING id`;

  async function disable(tx: DbOrTx, d: Claimed, reason: string) {
    const { rows } = await tx.execute<{ id: string }>(sql`
      UPDATE webhook_endpoints SET enabled = false, disabled_reason = ${reason}, disabled_at = now(), updated_at = now()
      WHERE id = ${d.endpoint_id} AND enabled RETURNING id`);
    if (rows.length)
      log.warn(
        { endpointId: d.endpoint_id, tenantId: d.tenant_id, reason },
        'webhook endpoint disabled',
      );
  }

  /** The common case in one statement: log it, mark it delivered, end a failure streak. */
  async function recordSuccess(d: Claimed, r: AttemptResult): Promise<Next> {
    const { rows } = await db.execute<{ settled: number }>(sql`
      WITH attempt AS (${attemptRow(d, r)}),
           settled AS (${settle(d, r, 'delivered', null)}),
           streak AS (
             UPDATE webhook_endpoints SET failing_since = NULL
             WHERE id = ${d.endpoint_id} AND ${d.failing_since !== null}::boolean AND failing_since IS NOT NULL)
      SELECT count(*)::int AS settled FROM settled`);
    return { kind: rows[0]?.settled ? 'delivered' : 'raced' };
  }

  async function recordFailure(d: Claimed, r: AttemptResult): Promise<Next> {
    const next = await db.transaction(async (tx): Promise<Next> => {
      await tx.execute(attemptRow(d, r));
      if (r.outcome === 'gone') {
        if (!(await tx.execute(settle(d, r, 'failed', null))).rows.length) return { kind: 'raced' };
        await disable(tx, d, `the endpoint answered 410 Gone on ${new Date().toISOString()}`);
        return { kind: 'disabled' };
      }
      const { rows: failing } = await tx.execute<{ failing_since: string }>(sql`
        UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
        WHERE id = ${d.endpoint_id} RETURNING failing_since`);
      const since = date(failing[0]?.failing_since ?? null);
      if (since && Date.now() - since.getTime() > config.disableAfterMs) {
        if (!(await tx.execute(settle(d, r, 'failed', null))).rows.length) return { kind: 'raced' };
        const last = r.status ? `HTTP ${r.status}` : (r.error ?? r.outcome);
        const why = `every attempt failed since ${since.toISOString()}; the last: ${last}`;
        await disable(tx, d, why.slice(0, 500));
        return { kind: 'disabled' };
      }
      const delay = retryDelay(d.attempts, r.retryAfterMs);
      const at = delay === null ? null : Date.now() + delay;
      const settled = await tx.execute(
        settle(d, r, at === null ? 'failed' : 'pending', at === null ? null : new Date(at)),
      );
      if (!settled.rows.length) return { kind: 'raced' };
      return at === null ? { kind: 'failed' } : { kind: 'retry', at };
    });
    // After commit, outside the locks: other deliveries' jobs may hold those rows.
    if (next.kind === 'disabled') await cancelPendingDeliveries(db, d.endpoint_id);
    return next;
  }

  async function wait(job: Job, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }

  /** One job per delivery: an attempt now, or a delayed re-run of the same job for the next. */
  return async function process(deliveryId: string, job: Job, token?: string): Promise<string> {
    for (let round = 0; round < 5; round++) {
      const d = await claim(deliveryId);
      if (!d) {
        const why = await unclaimable(deliveryId);
        if (why?.status !== 'pending') return why?.status ?? 'missing';
        if (!why.enabled) {
          await cancelPendingDeliveries(db, why.endpoint_id);
          return 'cancelled';
        }
        const due = date(why.next_attempt_at)?.getTime() ?? 0;
        if (due - Date.now() > dueSlackMs) return wait(job, token, due);
        continue;
      }
      const result = await attempt(d);
      deps.metrics.attempt(result.outcome, result.durationMs / 1000);
      // The tenant's attempt log says only "blocked"; which address it was is for operators.
      if (result.detail)
        log.warn(
          { deliveryId, endpointId: d.endpoint_id, tenantId: d.tenant_id, detail: result.detail },
          'webhook attempt blocked',
        );
      log.debug(
        { deliveryId, attempt: d.attempts, outcome: result.outcome, status: result.status },
        'webhook attempt',
      );
      const next =
        result.outcome === 'delivered'
          ? await recordSuccess(d, result)
          : await recordFailure(d, result);
      if (next.kind === 'delivered') {
        deps.metrics.delivered((Date.now() - date(d.event_created_at)!.getTime()) / 1000);
      }
      if (next.kind === 'retry') return wait(job, token, next.at);
      // Raced: a replay reset the delivery while this attempt was out; take it from the top.
      if (next.kind !== 'raced') return next.kind;
    }
    return 'contended';
  };
}
