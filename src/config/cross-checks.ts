import type { z } from 'zod';
import type { baseEnvSchema } from '../config.ts';
import { parseSigningChain, SigningChainError } from '../provenance/chain.ts';
import { buildCatalog, modelLimitProblems, priceOverrideProblems } from '../providers/catalog.ts';
import { type AnyPlugin, isConfigured } from '../providers/plugin.ts';
import { pluginOf, providerPlugins } from '../providers/registry.ts';

/** The rules between settings that no one setting's parser can see: pairs, requirements, overrides. */
export function checkSettingsTogether(
  env: z.infer<typeof baseEnvSchema>,
  ctx: z.RefinementCtx,
): void {
  if (env.WORKER_HEARTBEAT_TTL_MS <= env.WORKER_HEARTBEAT_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['WORKER_HEARTBEAT_TTL_MS'],
      message: 'must be longer than WORKER_HEARTBEAT_MS (a few heartbeats)',
    });
  }
  if (env.C2PA_SIGN_CERT && env.C2PA_SIGN_KEY) {
    try {
      parseSigningChain({ certPem: env.C2PA_SIGN_CERT, keyPem: env.C2PA_SIGN_KEY });
    } catch (err) {
      if (!(err instanceof SigningChainError)) throw err;
      const message = err.message.slice(err.setting.length + 1);
      ctx.addIssue({ code: 'custom', path: [err.setting], message });
    }
  } else if (env.C2PA_SIGN_CERT || env.C2PA_SIGN_KEY) {
    const missing = env.C2PA_SIGN_CERT ? 'C2PA_SIGN_KEY' : 'C2PA_SIGN_CERT';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'C2PA_SIGN_CERT and C2PA_SIGN_KEY go together',
    });
  }
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    ctx.addIssue({ code: 'custom', path: ['SECRETS_KEY'], message: 'required in production' });
  }
  const plugin = pluginOf(env.DEFAULT_PROVIDER);
  if (!isConfigured(plugin, env) && plugin.key) {
    ctx.addIssue({
      code: 'custom',
      path: [plugin.key],
      message: `required when DEFAULT_PROVIDER=${plugin.name}`,
    });
  }
  for (const p of providerPlugins) {
    (p as AnyPlugin).check?.(env, (setting, message) =>
      ctx.addIssue({ code: 'custom', path: [setting], message }),
    );
  }
  if (env.STORAGE === 's3' && !env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when STORAGE=s3' });
  }
  if (!env.S3_ACCESS_KEY_ID !== !env.S3_SECRET_ACCESS_KEY) {
    const missing = env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'the S3 key id and secret go together',
    });
  }
  if (env.PROMPT_WRITER_MODEL && !env.OPENAI_API_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: ['OPENAI_API_KEY'],
      message: 'required when PROMPT_WRITER_MODEL is set',
    });
  }
  if (env.PRICES_JSON || env.MODEL_LIMITS_JSON) {
    // The listed catalog: an override may not invent a model (or a size).
    const catalog = buildCatalog({ ...env, PRICES_JSON: undefined, MODEL_LIMITS_JSON: undefined });
    for (const problem of env.PRICES_JSON ? priceOverrideProblems(catalog, env.PRICES_JSON) : [])
      ctx.addIssue({
        code: 'custom',
        path: ['PRICES_JSON', ...problem.path],
        message: problem.message,
      });
    for (const problem of env.MODEL_LIMITS_JSON
      ? modelLimitProblems(catalog, env.MODEL_LIMITS_JSON)
      : [])
      ctx.addIssue({
        code: 'custom',
        path: ['MODEL_LIMITS_JSON', ...problem.path],
        message: problem.message,
      });
  }
}
