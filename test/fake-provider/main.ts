// Standalone fake `/v1/videos` provider for local development:
//   node test/fake-provider/main.ts [port]
//   npm run fake-provider -- runway [port]   (another fake: see its own main.ts)
// Environment (all optional): FAKE_PROVIDER_PORT (default 4010), FAKE_PROVIDER_API_KEY,
// FAKE_PROVIDER_SECONDS / FAKE_PROVIDER_SIZES / FAKE_PROVIDER_MODELS (comma lists),
// FAKE_PROVIDER_RPM, FAKE_PROVIDER_MAX_CONCURRENT, FAKE_PROVIDER_QUEUED_MS,
// FAKE_PROVIDER_RENDER_MS, FAKE_PROVIDER_WEBHOOK_URL, FAKE_PROVIDER_WEBHOOK_SECRET,
// FAKE_PROVIDER_REAL_MEDIA=1 (content at the requested size and duration).
// Prompts containing [moderation], [fail], [400], [500], [429] or [never] trigger those outcomes,
// so a developer can exercise every path from the admatrix CLI without code.
// `npm run fake-provider -- <name>` starts another provider's fake instead (fal, runway).
import { startFakeVideoServer } from './server.ts';

const others: Record<string, string> = {
  fal: '../fake-fal/main.ts',
  runway: '../fake-runway/main.ts',
};
const other = others[process.argv[2] ?? ''];
if (other) await import(other);
else await startOpenAIShaped();

async function startOpenAIShaped() {
  const env = process.env;
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()) : undefined);
  const num = (v: string | undefined) => (v ? Number(v) : undefined);

  const server = await startFakeVideoServer({
    port: Number(process.argv[2] ?? env.FAKE_PROVIDER_PORT ?? 4010),
    host: env.FAKE_PROVIDER_HOST ?? '127.0.0.1',
    apiKey: env.FAKE_PROVIDER_API_KEY || undefined,
    allowedSeconds: list(env.FAKE_PROVIDER_SECONDS),
    allowedSizes: list(env.FAKE_PROVIDER_SIZES),
    allowedModels: list(env.FAKE_PROVIDER_MODELS),
    rpm: num(env.FAKE_PROVIDER_RPM),
    maxConcurrent: num(env.FAKE_PROVIDER_MAX_CONCURRENT),
    defaults: {
      queuedMs: num(env.FAKE_PROVIDER_QUEUED_MS) ?? 1000,
      renderMs: num(env.FAKE_PROVIDER_RENDER_MS) ?? 4000,
    },
    behave: [
      { match: '[moderation]', outcome: 'failed_moderation' },
      { match: '[fail]', outcome: 'failed' },
      { match: '[400]', outcome: 'reject_400' },
      { match: '[500]', outcome: 'error_5xx' },
      { match: '[429]', outcome: 'rate_limit_429' },
      { match: '[never]', outcome: 'never_finish' },
    ],
    webhook: env.FAKE_PROVIDER_WEBHOOK_URL
      ? {
          url: env.FAKE_PROVIDER_WEBHOOK_URL,
          secret: env.FAKE_PROVIDER_WEBHOOK_SECRET || undefined,
        }
      : null,
    mediaMatchesRequest: env.FAKE_PROVIDER_REAL_MEDIA === '1',
    logger: env.FAKE_PROVIDER_LOG === '1',
  });

  console.log(`fake video provider listening on ${server.url} (SDK baseURL ${server.baseURL})`);
  if (server.webhookSecret) console.log(`webhook secret: ${server.webhookSecret}`);

  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
