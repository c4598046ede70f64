import {
  type ModelLimits,
  type ModelSpec,
  type ProviderCatalog,
  type ProviderName,
  providerNames,
} from './catalog.ts';
import type { AccountFetcher, AnyPlugin, ProviderAccount } from './plugin.ts';
import { type PluginsEnv, providerPlugins } from './registry.ts';

export type { AccountFetcher, ProviderAccount } from './plugin.ts';

export interface ProviderLimits {
  rpm: number | null;
  maxConcurrent: number | null;
  dailyLimit: number | null;
}

/**
 * The deployment's own limits per provider (`<PROVIDER>_RPM`, `_MAX_CONCURRENT`, `_DAILY_LIMIT`);
 * null for a provider whose limits are no quota (the local renderer).
 */
export function providerLimitsFrom(env: PluginsEnv): Record<ProviderName, ProviderLimits | null> {
  return Object.fromEntries(
    providerPlugins.map((p) => {
      if ((p as AnyPlugin).quota === false) return [p.name, null];
      const l = (p as AnyPlugin).limits(env);
      return [
        p.name,
        { rpm: l.rpm, maxConcurrent: l.maxConcurrent, dailyLimit: l.dailyLimit ?? null },
      ];
    }),
  ) as Record<ProviderName, ProviderLimits | null>;
}

/** Account fetchers of the providers that report account figures and are configured. */
export function providerAccounts(env: PluginsEnv): Partial<Record<ProviderName, AccountFetcher>> {
  return Object.fromEntries(
    providerPlugins.flatMap((p) => {
      const fetcher = (p as AnyPlugin).account?.(env);
      return fetcher ? [[p.name, fetcher]] : [];
    }),
  );
}

interface Cached {
  at: number;
  value: Promise<{ account: ProviderAccount | null; error: string | null }>;
}

/**
 * The configured providers, their models and limits, and where a provider reports them its
 * account figures. An account is fetched with a short deadline and kept for a while: the
 * console polls this, and a slow or unreachable provider must cost neither it nor the provider
 * much. Failure is `account: null` with a note, never an error of ours.
 */
export function createProviderDirectory(deps: {
  catalog: ProviderCatalog;
  limits: Record<ProviderName, ProviderLimits | null>;
  accounts: Partial<Record<ProviderName, AccountFetcher>>;
  accountTimeoutMs?: number;
  /** How long an answer is kept; a failure half as long, so a recovery shows soon. */
  cacheMs?: number;
  now?: () => number;
}) {
  const timeoutMs = deps.accountTimeoutMs ?? 3_000;
  const cacheMs = deps.cacheMs ?? 30_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<ProviderName, Cached>();

  async function fetchAccount(name: ProviderName, fetcher: AccountFetcher) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The signal aborts the request; the race covers a fetcher that ignores it.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const account = await Promise.race([fetcher({ signal: controller.signal }), deadline]);
      return { account, error: null };
    } catch (err) {
      const reason = controller.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : err instanceof Error
          ? err.message.slice(0, 200)
          : 'failed';
      return { account: null, error: `${name} account unavailable: ${reason}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async function account(name: ProviderName) {
    const fetcher = deps.accounts[name];
    if (!fetcher) return { account: null, error: null };
    const hit = cache.get(name);
    if (hit) {
      const result = await hit.value;
      const ttl = result.error ? cacheMs / 2 : cacheMs;
      if (now() - hit.at < ttl) return result;
    }
    // Concurrent callers share one request.
    const entry = { at: now(), value: fetchAccount(name, fetcher) };
    cache.set(name, entry);
    return entry.value;
  }

  return {
    async list() {
      const configured = providerNames.filter((name) => deps.catalog[name].configured);
      const data = await Promise.all(
        configured.map(async (name) => {
          const spec = deps.catalog[name];
          const { account: figures, error } = await account(name);
          return {
            name,
            default_model: spec.defaultModel,
            models: Object.entries(spec.models).map(([id, m]) => modelOut(id, m)),
            limits: limitsOut(deps.limits[name]),
            account: figures && accountOut(figures),
            account_error: error,
          };
        }),
      );
      return {
        data,
        not_configured: providerNames.filter((name) => !deps.catalog[name].configured),
      };
    },
  };
}

function modelOut(id: string, m: ModelSpec) {
  return {
    id,
    text_to_video: m.textToVideo,
    image_to_video: m.imageToVideo,
    seconds: [...m.seconds],
    sizes: { text_to_video: [...m.sizes.textToVideo], image_to_video: [...m.sizes.imageToVideo] },
    audio: m.audio,
    prompt_max_chars: m.promptMaxChars,
    price_per_second_usd: { ...m.pricePerSecond },
    limits: m.limits ? modelLimitsOut(m.limits) : null,
  };
}

function modelLimitsOut(l: ModelLimits) {
  return {
    rpm: l.rpm ?? null,
    max_concurrent: l.maxConcurrent ?? null,
    daily_limit: l.dailyLimit ?? null,
  };
}

function limitsOut(l: ProviderLimits | null) {
  return l && { rpm: l.rpm, max_concurrent: l.maxConcurrent, daily_limit: l.dailyLimit };
}

function accountOut(a: ProviderAccount) {
  return {
    credit_balance: a.creditBalance,
    balance_usd: a.balanceUsd,
    max_monthly_spend_usd: a.maxMonthlySpendUsd,
    models: Object.fromEntries(
      Object.entries(a.models).map(([model, m]) => [
        model,
        { max_concurrent: m.maxConcurrent, max_daily: m.maxDaily, daily_used: m.dailyUsed },
      ]),
    ),
  };
}

export type ProviderDirectory = ReturnType<typeof createProviderDirectory>;
