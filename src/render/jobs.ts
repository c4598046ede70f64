import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DelayedError, type Job, RateLimitError } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { recordEvent, variantEventData } from '../events/outbox.ts';
import type { Media, Storage } from '../media/index.ts';
import type { PromptWriter } from '../prompts/writer.ts';
import { disclosureFor } from '../provenance/disclosure.ts';
import { renderInputImages } from '../provenance/inputs.ts';
import { spotShotFiles } from '../provenance/repository.ts';
import type { Provenance } from '../provenance/service.ts';
import { signVariantFile } from '../provenance/variant.ts';
import { type ProviderName, providerNames } from '../providers/catalog.ts';
import type { Providers } from '../providers/registry.ts';
import type { Queues } from '../queue/registry.ts';
import type { ProcessorRegistry } from '../queue/workers.ts';
import { createSpotAssembly } from '../spots/assembly.ts';
import { createShotSteps } from '../spots/shot-steps.ts';
import {
  activeStatuses,
  completeSettledRuns,
  type TransitionedVariant,
  transition,
} from '../variants/lifecycle.ts';
import type { ProviderLimits } from './claim.ts';
import { isProviderName, renderQueueOf } from './enqueue.ts';
import type { FirstFrameDeps } from './image.ts';
import { Waiting } from './job-delay.ts';
import type { RenderMetrics } from './metrics.ts';
import { overlayText } from './overlay.ts';
import { createProviderSteps } from './provider-steps.ts';
import { renderRenditions } from './renditions.ts';
import { loadRenderVariant, type RenderVariant } from './repository.ts';
import { variantSubject } from './subject.ts';

interface RenderConfig {
  pollIntervalMs: number;
  renderDeadlineMs: number;
  concurrency: number;
  /** Per provider, the fastest it may be polled (Runway asks for no faster than every 5 s). */
  minPollIntervalMs?: Partial<Record<ProviderName, number>>;
  /** Jobs created again after a provider failure that charged nothing; default 2. */
  maxRecreates?: number;
  limits: Record<ProviderName, ProviderLimits>;
  workDir: string;
  logoWidthShare?: number;
  /** HTTPS PUBLIC_URL and the signing key: first frames go to URL-fetching providers as links. */
  publicLinks?: FirstFrameDeps['publicLinks'];
}

export interface RenderDeps {
  db: Db;
  providers: Providers;
  media: Media;
  storage: Storage;
  queues: Queues;
  logger: Logger;
  config: RenderConfig;
  metrics?: RenderMetrics;
  /** When set, prompts are rewritten before their first submit (see PROMPT_WRITER_MODEL). */
  promptWriter?: PromptWriter;
  /** Signs every composited video with its C2PA content credentials (src/provenance). */
  provenance?: Provenance;
}

function createRenderSteps(deps: RenderDeps) {
  const { db, config } = deps;
  const log = deps.logger.child({ component: 'render' });
  const provider = createProviderSteps(deps, variantSubject);
  const spots = createSpotAssembly(deps);

  async function settle(v: RenderVariant, to: 'failed' | 'blocked', code: string, message: string) {
    return provider.settle(v, to, code, message);
  }

  async function composite(v: RenderVariant): Promise<void> {
    if (!v.raw_key && !v.spot)
      return settle(v, 'failed', 'missing_render', 'compositing without a stored render');
    const dir = join(config.workDir, 'composite', randomUUID());
    await mkdir(dir, { recursive: true });
    try {
      const assembled = v.spot ? await spots.assemble(v, dir, localPath) : null;
      const input = assembled?.path ?? (await localPath(v.raw_key!, dir, 'raw.mp4'));
      const logo = v.logo_key ? await localPath(v.logo_key, dir, 'logo') : null;
      const shots = v.spot
        ? await spotShotFiles(db, v.id, (key, name) => localPath(key, dir, name))
        : [];
      const lines = overlayText({
        template: v.overlay.text_template,
        dimensions: v.dimensions,
        levels: v.levels,
        brief: v.brief,
      });
      const disclosure = disclosureFor({ ...v, shots });
      const overlay = {
        logo: logo
          ? {
              path: logo,
              position: v.overlay.logo_position,
              ...(config.logoWidthShare ? { widthShare: config.logoWidthShare } : {}),
            }
          : null,
        text: lines.length ? { lines } : null,
        until: assembled?.overlayUntil,
        // Every rendition carries the label too: each is a file a platform may publish.
        disclosure,
      };
      let facts = await deps.media.probe(input);
      let finalPath = input;
      if (logo || lines.length || disclosure) {
        finalPath = join(dir, 'final.mp4');
        facts = await deps.media.composite({ input, out: finalPath, ...overlay });
      }
      // What the credentials say of every file of this variant, its renditions included.
      const credentials = {
        variant: v,
        dir,
        render: v.spot ? null : input,
        shots,
        images: [
          ...(logo ? [{ title: 'logo', role: 'overlay' as const, path: logo }] : []),
          ...(await renderInputImages(deps, {
            variant: v,
            shots,
            local: (key, name) => localPath(key, dir, name),
          })),
        ],
        text: lines.length > 0,
        disclosure: disclosure !== null,
      };
      const signed = await signVariantFile(deps.provenance, { ...credentials, file: finalPath });
      finalPath = signed.path;
      const stored = await deps.storage.putFile(finalPath, { contentType: 'video/mp4' });
      const videoKey = stored.key;
      await renderRenditions(deps, {
        variant: v,
        formats: v.formats ?? [],
        dir,
        main: { ...stored, facts },
        // Each rendition is an output a platform may publish: signed like the main video.
        render: async (size, out) => {
          const unsigned = `${out}.unsigned.mp4`;
          const renditionFacts = await deps.media.composite({
            input,
            out: unsigned,
            size,
            ...overlay,
          });
          const rendition = await signVariantFile(deps.provenance, {
            ...credentials,
            file: unsigned,
            out,
          });
          if (rendition.path !== out) await rename(rendition.path, out);
          return renditionFacts;
        },
      });
      const thumbPath = join(dir, 'thumb.jpg');
      await deps.media.thumbnail(finalPath, thumbPath);
      const thumb = await deps.storage.putFile(thumbPath, { contentType: 'image/jpeg' });
      await db.transaction(async (tx) => {
        const ready = await transition(tx, {
          id: v.id,
          from: ['compositing'],
          to: 'ready',
          set: {
            videoKey,
            thumbnailKey: thumb.key,
            videoBytes: stored.bytes,
            videoSha256: stored.sha256,
            durationS: facts.duration_s,
            width: facts.width,
            height: facts.height,
            readyAt: new Date(),
            digitalSourceType: signed.digitalSourceType,
            disclosureText: disclosure?.text ?? null,
          },
        });
        if (!ready) return;
        const started = v.submit_started_at ?? v.submitted_at;
        deps.metrics?.settled(
          v.provider,
          'ready',
          started ? (Date.now() - started.getTime()) / 1000 : undefined,
        );
        await recordEvent(tx, {
          tenantId: ready.tenant_id,
          type: 'variant.ready',
          data: variantEventData(ready as TransitionedVariant),
        });
        await completeSettledRuns(tx, { variantId: v.id });
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A filesystem store hands out its path; any other store is copied to the work dir. */
  async function localPath(key: string, dir: string, name: string): Promise<string> {
    const direct = deps.storage.path?.(key);
    if (direct) return direct;
    const target = join(dir, name);
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(await deps.storage.open(key), createWriteStream(target));
    return target;
  }

  /** Runs the variant forward as far as it can go now; waits by re-delaying the same job. */
  async function run(variantId: string, job: Job, token: string | undefined): Promise<string> {
    for (let steps = 0; steps < 10; steps++) {
      const v = await loadRenderVariant(db, variantId);
      if (!v) return 'missing';
      const before = v.status;
      const started = performance.now();
      const stepDone = (to: string) =>
        log.info(
          { variantId, step: before, to, ms: Math.round(performance.now() - started) },
          'render step',
        );
      // A queue per provider, so only a deployment without this one gets here: fail it now
      // with that reason rather than spend eight attempts, or render it on another provider.
      if (activeStatuses.includes(v.status) && !deps.providers.has(v.provider)) {
        const known = isProviderName(v.provider);
        const code = known ? 'provider_not_configured' : 'provider_unknown';
        await settle(
          v,
          'failed',
          code,
          `provider ${v.provider} is not ${known ? 'configured' : 'known'}`,
        );
        return 'failed';
      }
      try {
        switch (v.status) {
          case 'pending':
          case 'queued':
          case 'submitting':
            // A spot's variant pays for nothing itself: it waits for its shots.
            if (v.spot) await spots.waitForShots(v, job, token);
            else await provider.submit(v, job, token);
            break;
          case 'submitted':
          case 'rendering':
            await provider.poll(v, job, token);
            break;
          case 'compositing':
            await composite(v);
            break;
          case 'cancelled':
            // A run cancel stopped an in-flight render: stop it at the provider too.
            if (v.provider_job_id && deps.providers.has(v.provider))
              await provider.cancelAtProvider(
                await deps.providers.get(v.provider),
                v.id,
                v.provider_job_id,
              );
            return v.status;
          default:
            return v.status;
        }
      } catch (err) {
        if (err instanceof Waiting) {
          stepDone('waiting');
          throw new DelayedError();
        }
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (last && !(err instanceof RateLimitError)) return provider.lastAttempt(v, err);
        throw err;
      }
      const after = await loadRenderVariant(db, variantId);
      stepDone(after?.status ?? 'missing');
      if (!after || after.status === before) return after?.status ?? 'missing';
    }
    return 'stepped';
  }

  return { run };
}

/** A render job carries the id of what it renders: a variant, or a spot's shot. */
type RenderJobData = { variantId: string } | { shotId: string };

export function renderProcessors(deps: RenderDeps): ProcessorRegistry {
  const steps = createRenderSteps(deps);
  const shots = createShotSteps(deps);
  const entry = {
    concurrency: deps.config.concurrency,
    process: (data: RenderJobData, job: Job, token?: string) =>
      'shotId' in data ? shots.run(data.shotId, job, token) : steps.run(data.variantId, job, token),
  };
  return Object.fromEntries(providerNames.map((p) => [renderQueueOf(p), entry]));
}
