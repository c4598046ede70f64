// Standalone fake Runway API for local development:
//   npm run fake-provider -- runway [port]
// Environment (all optional): FAKE_RUNWAY_PORT (default 4030), FAKE_RUNWAY_API_KEY (default
// test-runway-key), FAKE_RUNWAY_MAX_CONCURRENT (per model, default 2), FAKE_RUNWAY_DAILY_LIMIT,
// FAKE_RUNWAY_PENDING_MS (default 1000), FAKE_RUNWAY_RENDER_MS (default 6000),
// FAKE_RUNWAY_OUTPUT_TTL_MS, FAKE_RUNWAY_LOG=1.
// Prompts containing [moderation], [asset], [internal], [400], [500], [drop] or [never] trigger
// those outcomes, so every path can be exercised from the admatrix CLI without code.
import { startFakeRunway } from './server.ts';

const env = process.env;
const num = (v: string | undefined) => (v ? Number(v) : undefined);

const server = await startFakeRunway({
  port: Number(process.argv[3] ?? env.FAKE_RUNWAY_PORT ?? 4030),
  host: env.FAKE_RUNWAY_HOST ?? '127.0.0.1',
  apiKey: env.FAKE_RUNWAY_API_KEY || undefined,
  maxConcurrent: num(env.FAKE_RUNWAY_MAX_CONCURRENT),
  dailyLimit: num(env.FAKE_RUNWAY_DAILY_LIMIT) ?? null,
  outputTtlMs: num(env.FAKE_RUNWAY_OUTPUT_TTL_MS),
  defaults: {
    pendingMs: num(env.FAKE_RUNWAY_PENDING_MS) ?? 1000,
    renderMs: num(env.FAKE_RUNWAY_RENDER_MS) ?? 6000,
  },
  behave: [
    { match: '[moderation]', outcome: 'failed', failureCode: 'SAFETY.INPUT.TEXT' },
    { match: '[asset]', outcome: 'failed', failureCode: 'ASSET.INVALID' },
    { match: '[internal]', outcome: 'failed', failureCode: 'INTERNAL' },
    { match: '[400]', outcome: 'reject_400' },
    { match: '[500]', outcome: 'error_5xx' },
    { match: '[drop]', outcome: 'drop_reply' },
    { match: '[never]', outcome: 'never_finish' },
  ],
  logger: env.FAKE_RUNWAY_LOG === '1',
});

console.log(`fake Runway listening on ${server.url}`);
console.log(`RUNWAYML_BASE_URL=${server.url} RUNWAYML_API_SECRET=${server.apiKey}`);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
