import type { z } from 'zod';
import { falPlugin } from './fal/plugin.ts';
import { localPlugin } from './local/plugin.ts';
import { openaiPlugin } from './openai/plugin.ts';
import {
  type AdapterContext,
  type AnyPlugin,
  isConfigured,
  type ProviderLimits,
  type SharedEnv,
  type WorkDirArea,
} from './plugin.ts';
import { runwayPlugin } from './runway/plugin.ts';
import { ProviderError, type VideoProvider } from './types.ts';

/**
 * Every provider admatrix knows, in order: the one list the rest derives from (the env schema,
 * provider names and render queues, the catalog, limits, adapters, webhook verifiers). Adding
 * a provider is its module (src/providers/<name>/plugin.ts, see ./plugin.ts) plus one line here.
 * The first is the default `DEFAULT_PROVIDER`, and needs no key.
 */
export const providerPlugins = [localPlugin, openaiPlugin, runwayPlugin, falPlugin] as const;

type Plugin = (typeof providerPlugins)[number];
export type ProviderName = Plugin['name'];
export const providerNames = providerPlugins.map((p) => p.name) as unknown as readonly [
  ProviderName,
  ...ProviderName[],
];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;

/** Every plugin's settings, one shape: src/config.ts spreads it into the one env schema. */
type PluginsShape = UnionToIntersection<Plugin['env']>;
export const pluginEnvShape = Object.assign(
  {},
  ...providerPlugins.map((p) => p.env),
) as PluginsShape;
/** Every plugin's settings as parsed. */
export type PluginsEnv = z.infer<z.ZodObject<PluginsShape>> & SharedEnv;

export function pluginOf(name: ProviderName): AnyPlugin {
  return providerPlugins.find((p) => p.name === name)! as AnyPlugin;
}

const untrained: ReadonlySet<string> = new Set(
  providerPlugins.filter((p: AnyPlugin) => p.trainedModel === false).map((p) => p.name),
);

/** Whether a provider's renders come from a trained model (AI-generated), see `trainedModel`. */
export function rendersWithTrainedModel(provider: string): boolean {
  return !untrained.has(provider);
}

/** What every provider's adapter keeps under WORK_DIR, for the worker's sweep. */
export const providerWorkDirAreas: readonly WorkDirArea[] = providerPlugins.flatMap(
  (p: AnyPlugin) => p.workDirAreas ?? [],
);

/** Each provider's own caps, from its settings. */
export function providerLimits(env: PluginsEnv): Record<ProviderName, ProviderLimits> {
  return Object.fromEntries(
    providerPlugins.map((p) => [p.name, (p as AnyPlugin).limits(env)]),
  ) as Record<ProviderName, ProviderLimits>;
}

/** Per provider, the fastest its jobs may be polled, where it says. */
export function minPollIntervals(env: PluginsEnv): Partial<Record<ProviderName, number>> {
  return Object.fromEntries(
    providerPlugins.flatMap((p) => {
      const min = (p as AnyPlugin).minPollIntervalMs?.(env);
      return min === undefined ? [] : [[p.name, min]];
    }),
  );
}

/** Failure codes any adapter reports that a fresh create may not repeat (Runway INTERNAL). */
export const recreatableFailures: ReadonlySet<string> = new Set(
  providerPlugins.flatMap((p) => (p as AnyPlugin).recreatableFailures ?? []),
);

export interface Providers {
  /** Rejects with a permanent ProviderError (`provider_not_configured`) for one not set up. */
  get(name: ProviderName): Promise<VideoProvider>;
  has(name: ProviderName): boolean;
  names(): ProviderName[];
}

/**
 * The adapters of the configured providers, each built (and its SDK loaded) on first use and
 * then kept. `plugins` is for tests that register their own list.
 */
export function createProviders(
  env: PluginsEnv,
  ctx: AdapterContext,
  plugins: readonly AnyPlugin[] = providerPlugins,
): Providers {
  const configured = new Map<string, AnyPlugin>();
  for (const p of plugins) if (isConfigured(p, env)) configured.set(p.name, p);
  const made = new Map<string, Promise<VideoProvider>>();
  return {
    get(name) {
      const plugin = configured.get(name);
      if (!plugin) {
        // Permanent: a variant asking for a provider this deployment lacks will not render later.
        return Promise.reject(
          new ProviderError(`provider ${name} is not configured`, {
            kind: 'permanent',
            code: 'provider_not_configured',
          }),
        );
      }
      let provider = made.get(name);
      if (!provider) {
        provider = plugin.create(env, ctx);
        // A failed build (a broken install) is tried again by the next job, not kept.
        provider.catch(() => made.delete(name));
        made.set(name, provider);
      }
      return provider;
    },
    has: (name) => configured.has(name),
    names: () => [...configured.keys()] as ProviderName[],
  };
}
