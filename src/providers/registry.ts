import OpenAI from 'openai';
import type { Env } from '../config.ts';
import type { Media } from '../media/index.ts';
import { createFalProvider, type FalProviderOptions } from './fal/adapter.ts';
import { falOptionsFromEnv } from './fal/config.ts';
import { createLocalProvider } from './local.ts';
import { createOpenAIProvider, type OpenAIProviderOptions } from './openai.ts';
import { runwayConfigFrom } from './runway/config.ts';
import { createRunwayProvider, type RunwayProviderOptions } from './runway/index.ts';
import { ProviderError, type ProviderName, type VideoProvider } from './types.ts';

/** Each provider's adapter options; absent = not configured. The local provider always exists. */
interface ProvidersDeps {
  local: { media: Media; workDir: string };
  openai?: ({ client: OpenAI } & Omit<OpenAIProviderOptions, 'client'>) | undefined;
  runway?: RunwayProviderOptions | undefined;
  fal?: FalProviderOptions | undefined;
}

/**
 * The one list of providers: a Record over ProviderName, so a name added to the catalog
 * without its line here does not compile, and nothing else switches on provider names.
 */
const factories: { [K in ProviderName]: (deps: ProvidersDeps) => VideoProvider | null } = {
  local: (d) => createLocalProvider(d.local),
  openai: (d) => (d.openai ? createOpenAIProvider(d.openai) : null),
  runway: (d) => (d.runway ? createRunwayProvider(d.runway) : null),
  fal: (d) => (d.fal ? createFalProvider(d.fal) : null),
};

/** Adapter options from the one env schema: a provider whose key is unset stays absent. */
export function providerOptionsFromEnv(config: Env, local: ProvidersDeps['local']): ProvidersDeps {
  const runway = runwayConfigFrom(config);
  const fal = falOptionsFromEnv(config);
  return {
    local,
    ...(config.OPENAI_API_KEY
      ? {
          openai: {
            client: new OpenAI({
              apiKey: config.OPENAI_API_KEY,
              ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
              timeout: 60_000,
            }),
            ...(config.OPENAI_WEBHOOK_SECRET
              ? { webhookSecret: config.OPENAI_WEBHOOK_SECRET }
              : {}),
          },
        }
      : {}),
    ...(runway ? { runway: { apiKey: runway.apiKey, baseURL: runway.baseURL } } : {}),
    ...(fal ? { fal } : {}),
  };
}

export interface Providers {
  /** Throws a permanent ProviderError (`provider_not_configured`) for a provider not set up. */
  get(name: ProviderName): VideoProvider;
  has(name: ProviderName): boolean;
  names(): ProviderName[];
}

export function createProviders(deps: ProvidersDeps): Providers {
  const byName = new Map<ProviderName, VideoProvider>();
  for (const [name, make] of Object.entries(factories) as [
    ProviderName,
    (d: ProvidersDeps) => VideoProvider | null,
  ][]) {
    const provider = make(deps);
    if (provider) byName.set(name, provider);
  }
  return {
    get(name) {
      const provider = byName.get(name);
      if (!provider) {
        // Permanent: a variant asking for a provider this deployment lacks will not render later.
        throw new ProviderError(`provider ${name} is not configured`, {
          kind: 'permanent',
          code: 'provider_not_configured',
        });
      }
      return provider;
    },
    has: (name) => byName.has(name),
    names: () => [...byName.keys()],
  };
}
