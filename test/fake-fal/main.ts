// Standalone fake fal.ai queue for local development:
//   npm run fake-provider -- fal [port]
// Environment (all optional): FAKE_FAL_PORT (default 4020), FAKE_FAL_KEY, FAKE_FAL_MAX_CONCURRENT,
// FAKE_FAL_QUEUED_MS, FAKE_FAL_RENDER_MS, FAKE_FAL_DUPLICATE_WEBHOOKS=1.
// Point admatrix at it with FAL_KEY=<anything> FAL_QUEUE_URL=<url> FAL_JWKS_URL=<jwks url>.
// Prompt markers: [content-policy], [504], [model-error], [never], [drop], [submit-500], [429].
import { startFakeFal } from './server.ts';

const env = process.env;
const num = (v: string | undefined) => (v ? Number(v) : undefined);

const fake = await startFakeFal({
  port: Number(process.argv[3] ?? env.FAKE_FAL_PORT ?? 4020),
  key: env.FAKE_FAL_KEY || undefined,
  maxConcurrent: num(env.FAKE_FAL_MAX_CONCURRENT),
  defaults: {
    queuedMs: num(env.FAKE_FAL_QUEUED_MS) ?? 1000,
    renderMs: num(env.FAKE_FAL_RENDER_MS) ?? 4000,
  },
  duplicateWebhooks: env.FAKE_FAL_DUPLICATE_WEBHOOKS === '1',
});

console.log(`fake fal queue on ${fake.queueUrl} (FAL_QUEUE_URL), JWKS ${fake.jwksUrl}`);

const stop = () => {
  void fake.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
