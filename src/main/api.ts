import closeWithGrace from 'close-with-grace';
import { buildApp } from '../app.ts';
import type { Env } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createInfra } from './infra.ts';

export async function startApi(config: Env) {
  const logger = createLogger(config, 'admatrix-api');
  const infra = await createInfra(config, logger, 'api');
  const app = await buildApp({ config, logger, ...infra });
  // Stop accepting, let in-flight requests finish, then close queues, Redis and the pool.
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ err, signal }) => {
    const started = Date.now();
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down: no new connections, finishing requests');
    await app.close();
    await infra.close();
    logger.info({ ms: Date.now() - started }, 'api stopped');
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  return app;
}
