import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildApp } from '../app.ts';
import type { Env } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { createRedis } from '../queue/redis.ts';
import { startWorkers } from '../queue/workers.ts';
import { createTenantService } from '../tenants/service.ts';
import { settledStatuses } from '../variants/lifecycle.ts';
import { createInfra } from './infra.ts';
import { workerProcessors } from './worker.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function bar(done: number, total: number, width = 30) {
  const filled = total ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * `admatrix demo`: one tenant, the example campaign, its CSV matrix and two partner logos,
 * rendered on the local provider by workers in this process, through the real API.
 */
export async function runDemo(config: Env, out: NodeJS.WriteStream = process.stdout) {
  const say = (line: string) => out.write(`${line}\n`);
  const migrator = createDatabase({ url: config.DATABASE_URL, max: 1 });
  await runMigrations(migrator.db);
  await migrator.pool.end();

  const logger = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const infra = await createInfra(config, logger, 'api');
  const app = await buildApp({ config, logger, ...infra });
  const workerConnection = createRedis(config.REDIS_URL, 'worker');
  const running = startWorkers({
    connection: workerConnection,
    prefix: config.QUEUE_PREFIX,
    logger,
    registry: workerProcessors({ ...config, RENDER_POLL_INTERVAL_MS: 200 }, infra, logger),
  });
  try {
    const { key } = await createTenantService({ db: infra.database.db }).createKey({
      tenant: `demo-${Date.now()}`,
    });
    const headers = { authorization: `Bearer ${key}` };
    const call = async (
      method: 'GET' | 'POST',
      url: string,
      payload?: object | string,
      extra: Record<string, string> = {},
    ) => {
      const res = await app.inject({
        method,
        url,
        headers: { ...headers, ...extra },
        ...(payload ? { payload } : {}),
      });
      if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    };

    const brief = JSON.parse(await readFile(join(examples, 'brief.json'), 'utf8'));
    const campaign = await call('POST', '/v1/campaigns', brief);
    say(`campaign  ${campaign.id}  ${campaign.name}`);

    // The CSV names logo files (@logos/acme.png); upload each and put its asset id in its place.
    let csv = await readFile(join(examples, 'matrix.csv'), 'utf8');
    for (const ref of new Set(csv.match(/@[\w./-]+/g) ?? [])) {
      const form = new FormData();
      form.append('file', new Blob([await readFile(join(examples, ref.slice(1)))]), ref.slice(1));
      const asset = await call('POST', '/v1/assets', form as unknown as string);
      say(`logo      ${asset.id}  ${ref.slice(1)} (${asset.width}x${asset.height})`);
      csv = csv.replaceAll(ref, asset.id);
    }
    const matrix = await call('POST', `/v1/campaigns/${campaign.id}/matrices`, csv, {
      'content-type': 'text/csv',
    });
    say(
      `matrix    ${matrix.id}  ${matrix.dimensions.map((d: { key: string; levels: unknown[] }) => `${d.key}(${d.levels.length})`).join(' x ')} = ${matrix.allowed_count} variants`,
    );

    const preview = await call('POST', `/v1/matrices/${matrix.id}/preview`, {
      design: { type: 'full' },
      sample_size: 1,
    });
    say(
      `quote     ${preview.variant_count} variants, $${preview.estimated_cost_usd.toFixed(2)} on the local provider`,
    );
    say(`prompt    ${preview.sample[0].prompt.replaceAll('\n', ' ')}`);

    const run = await call(
      'POST',
      `/v1/campaigns/${campaign.id}/runs`,
      { matrix_id: matrix.id, design: { type: 'full' } },
      { 'idempotency-key': `demo-${campaign.id}` },
    );
    const started = Date.now();
    for (;;) {
      const state = await call('GET', `/v1/runs/${run.id}`);
      const settled = settledStatuses.reduce((a, s) => a + (state.counts[s] ?? 0), 0);
      const line = `render    ${bar(settled, state.variant_count)} ${settled}/${state.variant_count}  ${((Date.now() - started) / 1000).toFixed(1)} s`;
      out.write(out.isTTY ? `\r${line}` : '');
      if (state.status === 'completed') {
        out.write(out.isTTY ? '\n' : `${line}\n`);
        say(`done      ${state.counts.ready} ready, ${state.counts.failed} failed`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    const variants = await call('GET', `/v1/variants?run_id=${run.id}&limit=200`);
    const storageRoot =
      config.STORAGE === 's3' ? `s3://${config.S3_BUCKET}/` : resolve(config.STORAGE_DIR);
    say(`\nvideos (stored under ${storageRoot}):`);
    for (const v of variants.data.slice(0, 5)) {
      const { rows } = await infra.database.pool.query<{ video_key: string }>(
        'SELECT video_key FROM variants WHERE id = $1',
        [v.id],
      );
      const path = rows[0] ? (infra.storage.path?.(rows[0].video_key) ?? rows[0].video_key) : '';
      say(`  ${Object.values(v.levels).join(' / ').padEnd(36)} ${path}`);
    }
    if (variants.data.length > 5)
      say(`  … and ${variants.data.length - 5} more: GET /v1/variants?run_id=${run.id}`);
    say(`\nwith the api running (npm start), try:`);
    say(`  export KEY=${key}`);
    say(`  curl -s localhost:${config.PORT}/v1/runs/${run.id} -H "Authorization: Bearer $KEY"`);
    say(
      `  curl -s localhost:${config.PORT}/v1/variants/${variants.data[0]?.id}/video -H "Authorization: Bearer $KEY" -o variant.mp4`,
    );
    say(
      `  curl -s "localhost:${config.PORT}/v1/campaigns/${campaign.id}/report?format=csv" -H "Authorization: Bearer $KEY"`,
    );
    return {
      campaignId: campaign.id as string,
      runId: run.id as string,
      key,
      examples: dirname(examples),
    };
  } finally {
    await running.close();
    // BullMQ leaves a connection it was handed open; it is ours to close.
    workerConnection.disconnect();
    await app.close();
    await infra.close();
  }
}
