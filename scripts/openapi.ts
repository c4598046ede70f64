/**
 * Writes openapi/openapi.json from the zod schemas of the real app, built without listening or
 * connecting anywhere, without PUBLIC_URL so `servers` is relative. `--check` fails when the committed file differs (CI's drift check).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createInfra } from '../src/main/infra.ts';

const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

const config = loadConfig({
  DATABASE_URL: 'postgres://localhost/admatrix',
  REDIS_URL: 'redis://localhost:6379',
  LOG_LEVEL: 'silent',
});
const logger = pino({ level: 'silent' });
const infra = await createInfra(config, logger, 'api', { verifySchema: false, lazyRedis: true });
const app = await buildApp({ config, logger, ...infra });
await app.ready();
const spec = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await infra.close();

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== spec) {
    process.stderr.write(
      'openapi/openapi.json is stale: run `npm run openapi` and commit the result.\n',
    );
    process.exit(1);
  }
  process.stderr.write('openapi/openapi.json is up to date.\n');
} else {
  await writeFile(target, spec);
  process.stderr.write(`wrote ${target}\n`);
}
