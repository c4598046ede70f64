import type { Readable } from 'node:stream';
import type { Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { VariantStatus } from '../db/schema.ts';
import { recreatableFailures } from '../providers/registry.ts';
import {
  AMBIGUOUS_CREATE,
  isAmbiguousCreate,
  ProviderError,
  type ProviderStatus,
  type RenderSpec,
  type VideoProvider,
} from '../providers/types.ts';
import {
  awaitingProviderStatuses,
  type StatusWrite,
  settleProviderCost,
} from '../variants/lifecycle.ts';
import { claimSubmit, finishProviderCall, pauseProvider } from './claim.ts';
import { createFirstFrameLoader } from './image.ts';
import { delay } from './job-delay.ts';
import type { RenderDeps } from './jobs.ts';
import { attachedJobIds, recordProviderState } from './repository.ts';
import type { Rendering, RenderSubject } from './subject.ts';

/** What the adapters call an output the provider no longer serves; the variant says `output_expired`. */
const expiredOutputCodes = new Set(['expired', 'result_expired', 'output_expired']);

/**
 * Create, poll, recreate and fetch for one kind of render subject (a variant, a spot's shot):
 * everything between "not sent" and "the render is stored", where money is spent.
 */
export function createProviderSteps<R extends Rendering>(
  deps: RenderDeps,
  subject: RenderSubject<R>,
) {
  const { db, config } = deps;
  const table = subject.table;
  const log = deps.logger.child({ component: 'render', subject: table });
  const firstFrames = createFirstFrameLoader({
    db,
    storage: deps.storage,
    media: deps.media,
    workDir: config.workDir,
    publicLinks: config.publicLinks,
  });

  function pollMs(v: R) {
    return Math.max(config.pollIntervalMs, config.minPollIntervalMs?.[v.provider] ?? 0);
  }

  /** What is left of the render deadline, counted from the first submit attempt. */
  function remainingSeconds(v: Pick<R, 'submit_started_at'>) {
    const started = v.submit_started_at?.getTime() ?? Date.now();
    return Math.max(1, Math.ceil((started + config.renderDeadlineMs - Date.now()) / 1000));
  }

  function specOf(v: R): RenderSpec {
    return {
      ...subject.specExtras(v),
      deadlineSeconds: remainingSeconds(v),
      variantId: v.id,
      prompt: v.provider_prompt ?? v.prompt,
      model: v.model,
      seconds: v.seconds,
      size: v.size,
    };
  }

  const transition = (p: StatusWrite<VariantStatus>) => subject.transition(db, p);

  async function settle(v: R, to: 'failed' | 'blocked', code: string, message: string) {
    const done = await db.transaction((tx) => subject.fail(tx, { id: v.id, to, code, message }));
    if (done) deps.metrics?.settled(v.provider, to);
  }

  /**
   * The create may have reached the provider and nobody can tell (no search, or a search that
   * could not answer): creating again could pay twice, so the variant waits for a person
   * (POST /v1/variants/{id}/resubmit). False when it had moved on meanwhile.
   */
  async function hold(v: R, message: string): Promise<boolean> {
    const held = await db.transaction((tx) => subject.hold(tx, { id: v.id, message }));
    if (held) {
      deps.metrics?.settled(v.provider, 'held');
      log.warn({ id: v.id, provider: v.provider }, 'create may have gone through: held');
    }
    return held;
  }

  /** Errors of a lookup for a lost create: until one answers, the render may exist. */
  const lookupFailures = new WeakSet<Error>();

  function failFor(err: ProviderError): { to: 'failed' | 'blocked'; code: string } {
    return { to: err.code === 'moderation_blocked' ? 'blocked' : 'failed', code: err.code };
  }

  /**
   * 429 on a create: the provider's creates (one model's, for a daily cap) wait exactly the
   * Retry-After, recorded in Postgres where every worker's limiter reads it. No queue-wide
   * pause: other models and providers keep rendering, and a pause never outlasts its 429.
   */
  async function rateLimited(
    v: R,
    err: ProviderError,
    job: Job,
    token: string | undefined,
  ): Promise<never> {
    const daily = err.code === 'daily_limit';
    // A daily cap without a Retry-After will not lift in a second: ask again in ten minutes.
    const ms = Math.max(err.retryAfterMs ?? (daily ? 600_000 : 1_000), 100);
    await transition({ id: v.id, from: ['submitting'], to: 'queued' });
    await pauseProvider(db, {
      provider: v.provider,
      model: daily ? v.model : '',
      retryAfterMs: ms,
      code: err.code,
    });
    return delay(job, token, ms);
  }

  /**
   * Rewrites the prompt once, before anything is sent, and stores it: every later attempt
   * (and crash recovery, which looks renders up by prompt) must use the same text.
   */
  async function withProviderPrompt(v: R): Promise<R> {
    const input = deps.promptWriter && !v.provider_prompt ? subject.writerInput(v) : null;
    if (!deps.promptWriter || !input) return v;
    const result = await deps.promptWriter.rewrite({ prompt: v.prompt, ...input });
    if (!result.rewritten)
      log.info({ id: v.id, reason: result.reason }, 'prompt writer kept the original prompt');
    const { rows } = await db.execute<{ provider_prompt: string }>(sql`
      UPDATE ${sql.raw(table)} SET provider_prompt = coalesce(provider_prompt, ${result.prompt})
      WHERE id = ${v.id} RETURNING provider_prompt`);
    return { ...v, provider_prompt: rows[0]?.provider_prompt ?? result.prompt };
  }

  async function submit(current: R, job: Job, token: string | undefined): Promise<void> {
    const recovering = current.status === 'submitting';
    const v = recovering ? current : await withProviderPrompt(current);
    const provider = await deps.providers.get(v.provider);
    const spec = specOf(v);
    if (recovering && v.submit_started_at && !provider.searchable) {
      // The last attempt died inside its create (or just before): it may have been accepted.
      await hold(v, 'a worker stopped during the create; the provider cannot be searched for it');
      return;
    }
    if (recovering && v.submit_started_at) {
      // The last attempt may have reached the provider before dying: adopt its render if so.
      const exclude = await attachedJobIds(db, {
        provider: v.provider,
        since: v.submit_started_at,
        except: v.id,
      });
      let found: { jobId: string } | null;
      try {
        found = await provider.findExisting(spec, { since: v.submit_started_at, exclude });
      } catch (err) {
        // "Cannot tell" (scan limit reached, renders without prompts) must never fall through
        // to a second paid create, nor end `failed`, which a run retry would create again
        // unasked: the variant waits for a person, as on a provider that cannot be searched.
        if (err instanceof ProviderError && err.kind === 'permanent') {
          await hold(v, `${err.code}: ${err.message}`);
          return;
        }
        if (err instanceof Error) lookupFailures.add(err);
        throw err;
      }
      if (found) {
        log.info({ id: v.id, jobId: found.jobId }, 'adopted a render created before a crash');
        await transition({
          id: v.id,
          from: ['submitting'],
          to: 'submitted',
          set: { providerJobId: found.jobId, submittedAt: new Date() },
          addPaid: true,
        });
        return;
      }
    }
    // Loaded before the claim: a reference that cannot be used fails here, with no call spent.
    let image: RenderSpec['image'];
    let backgroundImage: RenderSpec['backgroundImage'];
    try {
      image = await firstFrames.load(v, provider);
      backgroundImage = await firstFrames.background(v, provider);
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'permanent')
        return settle(v, 'failed', err.code, err.message);
      throw err;
    }
    const claim = await claimSubmit(db, {
      subject,
      id: v.id,
      provider: v.provider,
      model: v.model,
      from: recovering ? ['submitting'] : subject.openStatuses,
      limits: config.limits[v.provider],
      busyRetryMs: Math.min(config.pollIntervalMs, 5_000),
    });
    if (claim.kind === 'gone') return;
    if (claim.kind === 'wait') return delay(job, token, claim.ms);
    let jobId: string;
    let reservedUsd: number | undefined;
    try {
      ({ jobId, reservedUsd } = await provider.submit({
        ...spec,
        image,
        backgroundImage,
        deadlineSeconds: remainingSeconds({
          ...v,
          submit_started_at: claim.kind === 'claimed' ? claim.submitStartedAt : null,
        }),
      }));
      await finishProviderCall(db, { callId: claim.callId, outcome: 'accepted' });
    } catch (err) {
      const refused = err instanceof ProviderError && (err.status ?? 0) >= 400 && err.status! < 500;
      await finishProviderCall(db, {
        callId: claim.callId,
        outcome: refused ? 'rejected' : 'unknown',
      });
      if (!(err instanceof ProviderError)) throw err;
      deps.metrics?.providerError(v.provider, err.code, err.kind);
      if (err.code === AMBIGUOUS_CREATE && !provider.searchable) {
        await hold(v, err.message);
        return;
      }
      if (err.kind === 'permanent') {
        const { to, code } = failFor(err);
        await settle(v, to, code, err.message);
        return;
      }
      if (err.kind === 'rate_limited') await rateLimited(v, err, job, token);
      // Not ambiguous, so it never left (connection refused): a provider that cannot be searched
      // goes back to queued, or the retry would take it for a create that died half-way.
      if (!provider.searchable) await transition({ id: v.id, from: ['submitting'], to: 'queued' });
      // Transient, maybe ambiguous: stay 'submitting' so the retry looks for the render first.
      throw err;
    }
    const stored = await transition({
      id: v.id,
      from: ['submitting'],
      to: 'submitted',
      set: { providerJobId: jobId, submittedAt: new Date() },
      addPaid: { reservedUsd },
    });
    if (!stored) {
      // Cancelled while the create was in flight: the render is paid for all the same.
      const amount = reservedUsd === undefined ? sql`cost_usd` : sql`${reservedUsd}::numeric`;
      await db.execute(sql`UPDATE ${sql.raw(table)} SET provider_job_id = ${jobId}, actual_cost_usd = actual_cost_usd + ${amount},
                                               reserved_usd = ${amount}
                           WHERE id = ${v.id} AND provider_job_id IS NULL`);
      log.info({ id: v.id, jobId }, 'render accepted for a render cancelled meanwhile');
      await cancelAtProvider(provider, v.id, jobId);
    }
  }

  async function poll(v: R, job: Job, token: string | undefined): Promise<void> {
    const provider = await deps.providers.get(v.provider);
    if (!v.provider_job_id)
      return settle(v, 'failed', 'missing_job_id', 'submitted without a provider job id');
    const status = await provider.status(v.provider_job_id).catch(async (err: unknown) => {
      if (err instanceof ProviderError) deps.metrics?.providerError(v.provider, err.code, err.kind);
      // A read's 429 delays this poll only: reads do not spend the create window.
      if (err instanceof ProviderError && err.kind === 'rate_limited')
        return delay(job, token, Math.max(err.retryAfterMs ?? 1_000, 100));
      if (err instanceof ProviderError && err.kind === 'permanent') {
        await settle(v, 'failed', err.code, err.message);
        return null;
      }
      throw err;
    });
    if (!status) return;
    const jobId = v.provider_job_id;
    if (status.raw)
      await recordProviderState(db, {
        table,
        id: v.id,
        jobId,
        said: status.raw.status,
        code: status.raw.code,
      });
    if (status.costUsd !== undefined && (status.state === 'completed' || status.state === 'failed'))
      await settleProviderCost(db, { table, id: v.id, jobId, costUsd: status.costUsd });
    if (status.state === 'failed') {
      const code = status.error?.code ?? 'provider_failed';
      if (recreatableFailures.has(code) && v.recreates < (config.maxRecreates ?? 2))
        return recreate(v, job, token, jobId, status);
      return settle(
        v,
        code === 'moderation_blocked' ? 'blocked' : 'failed',
        code,
        status.error?.message ?? 'the provider failed the render',
      );
    }
    if (status.state === 'completed') return fetch(v);
    const startedAt = v.submitted_at ?? v.submit_started_at ?? new Date();
    if (Date.now() - new Date(startedAt).getTime() > config.renderDeadlineMs) {
      return settle(
        v,
        'failed',
        'deadline_exceeded',
        `no result within ${Math.round(config.renderDeadlineMs / 1000)} s`,
      );
    }
    const to = status.state === 'in_progress' ? 'rendering' : 'submitted';
    await transition({
      id: v.id,
      from: awaitingProviderStatuses,
      to,
      set: { progress: Math.round(status.progress) },
    });
    await delay(job, token, pollMs(v));
  }

  /** The provider failed the job and charged nothing: forget it, create again after a backoff. */
  async function recreate(
    v: R,
    job: Job,
    token: string | undefined,
    jobId: string,
    status: ProviderStatus,
  ): Promise<void> {
    const moved = await db.transaction((tx) =>
      subject.requeueForRecreate(tx, {
        id: v.id,
        jobId,
        code: status.error?.code ?? 'provider_failed',
      }),
    );
    if (!moved) return;
    const backoff = pollMs(v) * 2 ** v.recreates;
    log.warn(
      { id: v.id, jobId, code: status.raw?.code, recreates: v.recreates + 1, backoff },
      'provider failed the render on its side: creating it again',
    );
    await delay(job, token, backoff);
  }

  /** Best effort, after the cancel committed: a render left running would still be billed. */
  async function cancelAtProvider(provider: VideoProvider, id: string, jobId: string) {
    if (!provider.cancel) return;
    try {
      await provider.cancel(jobId);
      log.info({ id, jobId }, 'cancelled the render at the provider');
    } catch (err) {
      log.warn({ id, jobId, err }, 'could not cancel the render at the provider');
    }
  }

  /** Streams the render into storage at once: provider downloads expire within the hour. */
  async function fetch(v: R): Promise<void> {
    const provider = await deps.providers.get(v.provider);
    let body: Readable;
    try {
      body = await provider.download(v.provider_job_id!, 'video');
    } catch (err) {
      // The provider says the output is gone for good (expired media, a result past its
      // lifetime, a re-minted Runway URL still refused): asking again only repeats it for the
      // job's eight attempts. The render is lost; say so now. A passing failure is retried.
      if (err instanceof ProviderError && err.kind === 'permanent') {
        deps.metrics?.providerError(v.provider, err.code, err.kind);
        const code = expiredOutputCodes.has(err.code) ? 'output_expired' : err.code;
        return settle(v, 'failed', code, err.message);
      }
      throw err;
    }
    const raw = await deps.storage.putStream(body, { contentType: 'video/mp4' });
    await transition({
      id: v.id,
      from: awaitingProviderStatuses,
      to: subject.fetchedStatus,
      set: {
        rawKey: raw.key,
        progress: 100,
        ...(subject.fetchedStatus === 'ready' ? { readyAt: new Date() } : {}),
      },
    });
  }

  /** Every attempt but the last rethrows; the last settles, or holds when the create may exist. */
  async function lastAttempt(v: R, err: unknown): Promise<'held' | 'failed'> {
    const code = err instanceof ProviderError ? err.code : 'render_error';
    const message = err instanceof Error ? err.message : String(err);
    // The last create may have gone through, or the lookup for a lost one never answered:
    // `failed` would let a run retry create it again with nobody accepting a second charge.
    const mayExist = isAmbiguousCreate(err) || (err instanceof Error && lookupFailures.has(err));
    if (mayExist && (await hold(v, `${code}: ${message}`))) return 'held';
    await settle(v, 'failed', code, message);
    return 'failed';
  }

  return { submit, poll, settle, cancelAtProvider, lastAttempt };
}
