import type OpenAI from 'openai';
import type { Media } from '../media/index.ts';
import { createLocalProvider } from './local.ts';
import { createOpenAIProvider, type OpenAIProviderOptions } from './openai.ts';
import { ProviderError, type ProviderName, type VideoProvider } from './types.ts';

interface ProvidersDeps {
  /** Absent when no gateway is configured; the local provider always exists. */
  openai?: ({ client: OpenAI } & Omit<OpenAIProviderOptions, 'client'>) | undefined;
  local: { media: Media; workDir: string };
}

export interface Providers {
  /** Throws a permanent ProviderError (`provider_not_configured`) for a provider not set up. */
  get(name: ProviderName): VideoProvider;
  has(name: ProviderName): boolean;
  names(): ProviderName[];
}

export function createProviders(deps: ProvidersDeps): Providers {
  const byName = new Map<ProviderName, VideoProvider>();
  byName.set('local', createLocalProvider(deps.local));
  if (deps.openai) byName.set('openai', createOpenAIProvider(deps.openai));
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
