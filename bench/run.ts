/**
 * Every bench in turn (`npm run bench`, or `node bench/run.ts fanout pipeline`): figures are
 * printed as ratios against floors measured in the same run, never asserted.
 */
// The same module hooks as the entry point, so the benches load what production loads.
import '../src/main/hooks.ts';

const all = [
  'designs',
  'preview',
  'prompts',
  'fanout',
  'pipeline',
  'provider-overhead',
  'limits',
  'webhooks',
  'reports',
  'local-render',
  'spots',
  'spot-finish',
  'variant-cost',
  'provenance',
  'throughput',
  'api-latency',
];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;

for (const name of chosen) {
  const url = new URL(`./${name}.ts`, import.meta.url);
  let mod: { main?: () => Promise<void> | void };
  try {
    mod = await import(url.href);
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      !process.argv.slice(2).length
    )
      continue;
    throw err;
  }
  console.log(`\n=== ${name}`);
  await mod.main?.();
}
