/**
 * Providers are plug-ins (src/providers/plugin.ts), registered in one list
 * (src/providers/registry.ts). These tests hold the property that makes that true: nothing
 * outside src/providers/ names a provider, its settings or its modules, so a provider is added
 * by its module and one line; and what derives from the list (settings, start-up checks,
 * adapters) does so for every plugin alike.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseEnvSchema, ConfigError, loadConfig } from '../../src/config.ts';
import { buildCatalog, limitsWithModels } from '../../src/providers/catalog.ts';
import { type AnyPlugin, definePlugin } from '../../src/providers/plugin.ts';
import {
  createProviders,
  type PluginsEnv,
  providerLimits,
  providerNames,
  providerPlugins,
} from '../../src/providers/registry.ts';
import { RUNWAY_RETRYABLE_FAILURES } from '../../src/providers/runway/index.ts';
import type { VideoProvider } from '../../src/providers/types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');
const plugins = providerPlugins as readonly AnyPlugin[];
const base = { DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h' };

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/**
 * A module's code with comments dropped and each string literal replaced by `"<n>"`, and the
 * literals' texts. Template literals count as strings, their `${…}` parts as code.
 */
function lex(code: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let out = '';
  let i = 0;
  const templates: number[] = []; // brace depth at which each open template's `${` began
  let depth = 0;
  const readString = (quote: string) => {
    let text = '';
    i++;
    while (i < code.length && code[i] !== quote) {
      if (quote === '`' && code[i] === '$' && code[i + 1] === '{') {
        templates.push(depth);
        depth++;
        i += 2;
        strings.push(text);
        out += `"${strings.length - 1}" + (`;
        return;
      }
      if (code[i] === '\\') i++;
      text += code[i++];
    }
    i++;
    strings.push(text);
    out += `"${strings.length - 1}"`;
  };
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === '/' && next === '/') {
      while (i < code.length && code[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      i = code.indexOf('*/', i + 2) + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      readString(c);
    } else if (c === '/' && /[(,=:[!&|?{};]$|^$/.test(out.trimEnd().slice(-1))) {
      // A regular expression literal: skip it whole (it may hold quotes).
      let inClass = false;
      for (i++; i < code.length && (code[i] !== '/' || inClass); i++) {
        if (code[i] === '\\') i++;
        else if (code[i] === '[') inClass = true;
        else if (code[i] === ']') inClass = false;
      }
      i++;
      out += '/re/';
    } else if (c === '}' && templates.at(-1) === depth - 1) {
      // The end of a template's `${…}`: the template goes on.
      templates.pop();
      depth--;
      out += ') + ';
      readString('`');
    } else {
      if (c === '{') depth++;
      if (c === '}') depth--;
      out += c;
      i++;
    }
  }
  return { code: out, strings };
}

/** Module specifiers of a lexed module's imports, re-exports and dynamic imports. */
function importsOf(lexed: { code: string; strings: string[] }, opts: { values?: boolean } = {}) {
  const specs: string[] = [];
  const pattern =
    /\b(import|export)\s+(type\s)?(?:[^;"]*?\bfrom\s*)?"(\d+)"|\bimport\s*\(\s*"(\d+)"/g;
  for (const m of lexed.code.matchAll(pattern)) {
    if (m[4] !== undefined) {
      if (!opts.values) specs.push(lexed.strings[Number(m[4])]!);
    } else if (!(opts.values && m[2])) specs.push(lexed.strings[Number(m[3])]!);
  }
  return specs;
}

/**
 * Where a module names a provider in code (comments aside): an import from its module, its
 * name as a string, one of its settings as a name or a string.
 */
function providerMentions(code: string): string[] {
  const names = new Set<string>(providerNames);
  const settings = new Set(plugins.flatMap((p) => Object.keys(p.env)));
  const modules = new RegExp(`providers/(${providerNames.join('|')})(/|\\.ts$|-)`);
  const lexed = lex(code);
  const found = importsOf(lexed)
    .filter((spec) => modules.test(spec))
    .map((spec) => `import ${spec}`);
  const specifiers = new Set(importsOf(lexed));
  for (const text of lexed.strings)
    if ((names.has(text) && !specifiers.has(text)) || settings.has(text)) found.push(`'${text}'`);
  for (const [word] of lexed.code.matchAll(/\b[A-Z][A-Z0-9_]+\b/g))
    if (settings.has(word)) found.push(word);
  return found;
}

/**
 * The only mentions allowed outside src/providers/, each with its reason. A count, so a second
 * switch in an allowed file fails too.
 */
const allowed: Record<string, Record<string, number>> = {
  // The prompt writer is an OpenAI-SDK chat client that borrows the gateway's key and URL; it is
  // not a video provider.
  'src/config/cross-checks.ts': { OPENAI_API_KEY: 1, "'OPENAI_API_KEY'": 1 },
  'src/main/worker.ts': { OPENAI_API_KEY: 2, OPENAI_BASE_URL: 2 },
  // OpenAPI examples show a campaign on the built-in renderer.
  'src/campaigns/schemas.ts': { "'local'": 3 },
  'src/matrices/preview-schemas.ts': { "'local'": 1 },
  'src/variants/schemas.ts': { "'local'": 1 },
};

describe('providers are plug-ins', () => {
  it('no module outside src/providers/ names a provider, its settings or its modules', async () => {
    const seen: Record<string, Record<string, number>> = {};
    for (const file of await sourceFiles(src)) {
      const rel = relative(root, file);
      if (rel.startsWith('src/providers/')) continue;
      for (const mention of providerMentions(await readFile(file, 'utf8'))) {
        seen[rel] ??= {};
        seen[rel][mention] = (seen[rel][mention] ?? 0) + 1;
      }
    }
    expect(seen).toEqual(allowed);
  });

  it('the scan sees a switch on a provider, a setting read and a module import', () => {
    const code = `
      import { runwayEnv } from '../providers/runway/config.ts';
      // 'fal' in a comment is fine
      if (v.provider === 'fal') limits = config.FAL_RPM;
      const m = await import('../providers/openai.ts');`;
    expect(providerMentions(code)).toEqual([
      'import ../providers/runway/config.ts',
      'import ../providers/openai.ts',
      "'fal'",
      'FAL_RPM',
    ]);
  });

  it('names are unique, the first needs no key, and every setting is in the one env schema once', () => {
    expect(new Set(providerNames).size).toBe(providerNames.length);
    expect(plugins[0]!.key).toBeNull();
    const settings = plugins.flatMap((p) => Object.keys(p.env));
    expect(new Set(settings).size).toBe(settings.length);
    const schema = Object.keys(baseEnvSchema.shape);
    expect(settings.filter((s) => !schema.includes(s))).toEqual([]);
    // A plugin setting shadowing a setting of src/config.ts's own would be lost in the merge.
    const own = Object.keys(baseEnvSchema.shape).length - settings.length;
    expect(own).toBe(schema.filter((s) => !settings.includes(s)).length);
    for (const p of plugins) if (p.key) expect(Object.keys(p.env)).toContain(p.key);
  });

  it('refuses DEFAULT_PROVIDER=<a provider without its key> at start-up, naming the key', () => {
    const keyed = plugins.filter((p) => p.key);
    expect(keyed.map((p) => p.name)).toEqual(['openai', 'runway', 'fal']);
    for (const p of keyed) {
      let error: unknown;
      try {
        loadConfig({ ...base, DEFAULT_PROVIDER: p.name });
      } catch (err) {
        error = err;
      }
      expect(error, p.name).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        `${p.key}: required when DEFAULT_PROVIDER=${p.name}`,
      ]);
      expect(
        loadConfig({ ...base, DEFAULT_PROVIDER: p.name, [p.key!]: 'k' }).DEFAULT_PROVIDER,
      ).toBe(p.name);
    }
    expect(loadConfig(base).DEFAULT_PROVIDER).toBe('local');
  });

  it("runway's plugin lists the adapter's recreatable failures without loading the SDK", () => {
    const runway = plugins.find((p) => p.name === 'runway')!;
    expect(new Set(runway.recreatableFailures)).toEqual(RUNWAY_RETRYABLE_FAILURES);
  });

  it('registry, config and plugins import no provider SDK: only the worker builds adapters', async () => {
    // The static import graph from the registry (type-only and dynamic imports aside).
    const sdks = ['openai', '@runwayml/sdk', '@fal-ai/client'];
    const seen = new Set<string>();
    const packages = new Set<string>();
    const walk = async (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(lex(await readFile(file, 'utf8')), { values: true })) {
        if (spec.startsWith('.')) await walk(resolve(dirname(file), spec));
        else packages.add(`${spec} (from ${relative(root, file)})`);
      }
    };
    await walk(join(src, 'config.ts'));
    expect(seen).toContain(join(src, 'providers/registry.ts'));
    expect(seen).toContain(join(src, 'providers/runway/plugin.ts'));
    expect([...packages].filter((p) => sdks.includes(p.split(' ')[0]!))).toEqual([]);
  });
});

describe('a registered plugin', () => {
  // A throwaway provider, registered only here: what a new module gets from the contract.
  const built: string[] = [];
  const echo = definePlugin({
    name: 'echo',
    env: { ECHO_KEY: z.string().optional(), ECHO_RPM: z.coerce.number().default(7) },
    key: 'ECHO_KEY',
    catalog: () => ({ defaultModel: 'e1', models: {} }),
    limits: (env) => ({ rpm: env.ECHO_RPM, maxConcurrent: 1 }),
    async create(env) {
      built.push(env.ECHO_KEY!);
      return { name: 'echo' } as unknown as VideoProvider;
    },
  });
  const ctx = { media: undefined as never, workDir: '/nonexistent' };
  const env = (extra: Record<string, unknown>) =>
    ({ ...loadConfig(base), ...extra }) as unknown as PluginsEnv;

  it('is built only when its key is set, once, on first use', async () => {
    const off = createProviders(env({}), ctx, [echo]);
    expect(off.has('echo' as never)).toBe(false);
    await expect(off.get('echo' as never)).rejects.toMatchObject({
      code: 'provider_not_configured',
    });
    const on = createProviders(env({ ECHO_KEY: 'k1' }), ctx, [echo]);
    expect(on.names()).toEqual(['echo']);
    expect(built).toEqual([]);
    const [a, b] = await Promise.all([on.get('echo' as never), on.get('echo' as never)]);
    expect(a).toBe(b);
    expect(built).toEqual(['k1']);
  });
});

describe('MODEL_LIMITS_JSON', () => {
  it("gives a model caps of its own in the catalog; the provider's stay", () => {
    const config = loadConfig({
      ...base,
      RUNWAYML_API_SECRET: 'k',
      MODEL_LIMITS_JSON: JSON.stringify({
        runway: { 'gen4.5': { max_concurrent: 2, daily_limit: 100 } },
      }),
    });
    const catalog = buildCatalog(config);
    expect(catalog.runway.models['gen4.5']!.limits).toEqual({ maxConcurrent: 2, dailyLimit: 100 });
    expect(catalog.runway.models.gen4_turbo!.limits).toBeUndefined();
    // What the worker hands the limiter.
    expect(limitsWithModels(catalog, providerLimits(config)).runway).toEqual({
      rpm: 60,
      maxConcurrent: 1,
      dailyLimit: undefined,
      dailyPerModel: true,
      models: { 'gen4.5': { maxConcurrent: 2, dailyLimit: 100 } },
    });
  });

  it('refuses a model the catalog lacks, an unknown provider and an unknown field, by name', () => {
    const problems = (value: unknown) => {
      try {
        loadConfig({ ...base, MODEL_LIMITS_JSON: JSON.stringify(value) });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ runway: { gen9: { rpm: 3 } } })).toEqual([
      expect.stringMatching(/^MODEL_LIMITS_JSON\.runway\.gen9: runway has no model gen9 \(known: /),
    ]);
    expect(problems({ gen2: {} })[0]).toMatch(/^MODEL_LIMITS_JSON: Unrecognized key: "gen2"/);
    expect(problems({ fal: { 'fal-ai/pika/v2.2/text-to-video': { burst: 3 } } })[0]).toMatch(
      /^MODEL_LIMITS_JSON\.fal\.fal-ai\/pika\/v2\.2\/text-to-video: /,
    );
    expect(problems({ local: { 'card-v1': { max_concurrent: 0 } } })[0]).toMatch(
      /^MODEL_LIMITS_JSON\.local\.card-v1\.max_concurrent: /,
    );
  });
});
