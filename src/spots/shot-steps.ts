import { DelayedError, type Job, RateLimitError } from 'bullmq';
import { delay, Waiting } from '../render/job-delay.ts';
import type { RenderDeps } from '../render/jobs.ts';
import { createProviderSteps } from '../render/provider-steps.ts';
import { createShotChain } from './shot-first-frame.ts';
import { loadRenderShot, shotSubject } from './shot-subject.ts';

/**
 * Renders a spot's shot as far as it can go now, through the same provider steps as a
 * variant (claim before the create, recovery by lookup, `held` on ambiguity, recreates).
 * Ends at `ready` with the render stored; the variants waiting for it assemble.
 */
export function createShotSteps(deps: RenderDeps) {
  const provider = createProviderSteps(deps, shotSubject);
  const chain = createShotChain(deps);

  async function run(shotId: string, job: Job, token: string | undefined): Promise<string> {
    for (let steps = 0; steps < 10; steps++) {
      const s = await loadRenderShot(deps.db, shotId);
      if (!s) return 'missing';
      const before = s.status;
      if (
        ['queued', 'submitting', 'submitted', 'rendering'].includes(s.status) &&
        !deps.providers.has(s.provider)
      ) {
        await provider.settle(
          s,
          'failed',
          'provider_not_configured',
          `provider ${s.provider} is not configured`,
        );
        return 'failed';
      }
      try {
        switch (s.status) {
          case 'queued': {
            // A chained shot waits, unsent, for the shot whose last frame it starts from.
            const state = await chain.prepare(s);
            if (state.kind === 'wait') return delay(job, token, deps.config.pollIntervalMs);
            if (state.kind === 'stopped') {
              await provider.settle(s, 'failed', state.code, state.message);
              return 'failed';
            }
            await provider.submit({ ...s, first_frame_key: state.firstFrameKey }, job, token);
            break;
          }
          case 'submitting':
            await provider.submit(s, job, token);
            break;
          case 'submitted':
          case 'rendering':
            await provider.poll(s, job, token);
            break;
          default:
            return s.status;
        }
      } catch (err) {
        if (err instanceof Waiting) throw new DelayedError();
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (last && !(err instanceof RateLimitError)) return provider.lastAttempt(s, err);
        throw err;
      }
      const after = await loadRenderShot(deps.db, shotId);
      if (!after || after.status === before) return after?.status ?? 'missing';
    }
    return 'stepped';
  }

  return { run };
}
