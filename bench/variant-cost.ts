/**
 * What one variant costs the shared services, for docs/scaling.md: a 60-variant run on an
 * instant fake gateway (the pipeline bench's scenario: api in process, worker as a child) and,
 * divided by the variants:
 * - Postgres: tuples inserted/updated/deleted per table (pg_stat_user_tables of the run's own
 *   scratch database), transactions, and WAL bytes: the cluster-wide pg_current_wal_lsn() delta
 *   (an upper bound: other processes share the server) and the records pg_walinspect attributes
 *   to this database's relations (a lower bound: commit records name no relation);
 * - Redis: commands naming the run's QUEUE_PREFIX (seen through MONITOR, client-sent and run
 *   inside BullMQ's Lua scripts counted apart), and the peak and final memory of the keys under
 *   that prefix (SCAN + MEMORY USAGE, sampled), next to the server-wide used_memory peak delta;
 * - CPU: the worker's own plus its ffmpeg children, from /proc.
 * Then the size of a metric row: 30 days of metrics for those variants by plain INSERT, table
 * plus indexes and WAL per row. Prints, never asserts: `node bench/variant-cost.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startFakeVideoServer } from '../test/fake-provider/index.ts';
import { scenario } from './pipeline.ts';

type BenchApp = Parameters<NonNullable<Parameters<typeof scenario>[0]['probe']>>[0];

const tableStats = `SELECT relname AS table, n_tup_ins::bigint AS ins, n_tup_upd::bigint AS upd,
  n_tup_del::bigint AS del FROM pg_stat_user_tables`;
const dbStats = `SELECT xact_commit + xact_rollback AS xacts, pg_current_wal_lsn() AS lsn,
  (SELECT oid FROM pg_database WHERE datname = current_database()) AS oid
  FROM pg_stat_database WHERE datname = current_database()`;

/**
 * WAL records naming this database's relations, read as the run goes: the server is shared and
 * its segments are recycled within a minute or so under other writers.
 */
function walOfDatabase(client: pg.Client, from: string, oid: number) {
  let bytes = 0;
  let lost = false;
  let running = true;
  const step = async () => {
    const to = (await client.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
    try {
      const { rows } = await client.query(
        `SELECT coalesce(sum(record_length), 0)::bigint AS bytes
         FROM pg_get_wal_records_info($1, $2) WHERE block_ref ~ $3`,
        [from, to, `rel \\d+/${oid}/`],
      );
      bytes += Number(rows[0].bytes);
    } catch {
      lost = true; // the segment was recycled before we read it
    }
    from = to;
  };
  const loop = (async () => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    while (running) {
      await step();
      await sleep(1000);
    }
    await step();
  })();
  return async () => {
    running = false;
    await loop;
    return { bytes, lost };
  };
}

/** Memory of the keys under the prefix, and the server's used_memory. */
async function redisMemory(redis: BenchApp['infra']['redis'], prefix: string) {
  let bytes = 0;
  let keys = 0;
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
    const pipeline = redis.pipeline();
    for (const key of batch as string[]) pipeline.memory('USAGE', key);
    for (const [, n] of (await pipeline.exec()) ?? []) bytes += Number(n ?? 0);
    keys += (batch as string[]).length;
  }
  const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  return { bytes, keys, used };
}

function probe(n: number, report: (lines: string[]) => void) {
  return async (b: BenchApp) => {
    const client = new pg.Client({ connectionString: b.config.DATABASE_URL });
    await client.connect();
    // The scratch database is dropped under it if the run fails.
    client.on('error', () => {});
    const before = (await client.query(dbStats)).rows[0];
    const tablesBefore = new Map((await client.query(tableStats)).rows.map((r) => [r.table, r]));
    const walClient = new pg.Client({ connectionString: b.config.DATABASE_URL });
    await walClient.connect();
    walClient.on('error', () => {});
    const walOwn = walOfDatabase(walClient, before.lsn, before.oid);
    const prefix = b.config.QUEUE_PREFIX;
    const redis = b.infra.redis.duplicate({ enableOfflineQueue: true });
    await redis.ping();
    const mem0 = await redisMemory(redis, prefix);
    let peak = { ...mem0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = await redisMemory(redis, prefix);
        peak = {
          bytes: Math.max(peak.bytes, m.bytes),
          keys: Math.max(peak.keys, m.keys),
          used: Math.max(peak.used, m.used),
        };
        await sleep(250);
      }
    })();
    const commands = { client: 0, lua: 0 };
    const monitor = await b.infra.redis.duplicate().monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((a) => a.startsWith(`${prefix}:`))) return;
      if (source === 'lua') commands.lua++;
      else commands.client++;
    });

    return async () => {
      sampling = false;
      await sampler;
      monitor.disconnect();
      const end = await redisMemory(redis, prefix);
      // Backends flush their counters when idle, but at most once a second, and a pending flush
      // waits up to 10 s (PGSTAT_IDLE_INTERVAL): the api's pool is still open.
      await sleep(11_000);
      const after = (await client.query(dbStats)).rows[0];
      const rows = (await client.query(tableStats)).rows
        .map((r) => {
          const t = tablesBefore.get(r.table);
          return {
            table: r.table as string,
            ins: Number(r.ins) - Number(t?.ins ?? 0),
            upd: Number(r.upd) - Number(t?.upd ?? 0),
            del: Number(r.del) - Number(t?.del ?? 0),
          };
        })
        .filter((r) => r.ins + r.upd + r.del > 0)
        .sort((x, y) => y.ins + y.upd - (x.ins + x.upd));
      const walAll = Number(
        (await client.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [after.lsn, before.lsn])).rows[0]
          .d,
      );
      const own = await walOwn();
      await walClient.end();
      const per = (x: number) => (x / n).toFixed(2);
      const sum = (k: 'ins' | 'upd' | 'del') => rows.reduce((a, r) => a + r[k], 0);
      const lines = [
        `postgres per variant: ${per(sum('ins'))} tuples inserted, ${per(sum('upd'))} updated, ${per(sum('del'))} deleted; ${per(Number(after.xacts) - Number(before.xacts))} transactions`,
        ...rows.map(
          (r) => `  ${r.table.padEnd(20)} ins ${per(r.ins)}  upd ${per(r.upd)}  del ${per(r.del)}`,
        ),
        `  WAL ${(own.bytes / n / 1024).toFixed(1)} KiB per variant attributed to this database (lower bound${own.lost ? '; some segments recycled before read' : ''}), ${(walAll / n / 1024).toFixed(1)} KiB cluster-wide (upper bound, shared server)`,
        `redis per variant: ${per(commands.client)} commands sent naming the prefix + ${per(commands.lua)} run inside Lua scripts`,
        `  keys under the prefix: peak ${peak.keys} keys / ${(peak.bytes / 1024).toFixed(0)} KiB = ${((peak.bytes - mem0.bytes) / n).toFixed(0)} B per variant in flight; at the end ${end.keys} keys / ${(end.bytes / 1024).toFixed(0)} KiB (${((end.bytes - mem0.bytes) / n).toFixed(0)} B per variant retained)`,
        `  server used_memory peak delta ${((peak.used - mem0.used) / 1024 / 1024).toFixed(1)} MiB (shared server: noisy)`,
      ];
      lines.push(...(await metricRowCost(client)));
      report(lines);
      redis.disconnect();
      await client.end();
    };
  };
}

/** 30 days of metrics for every variant by plain INSERT: bytes on disk and WAL per row. */
async function metricRowCost(client: pg.Client) {
  const lsn = (await client.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
  const { rowCount } = await client.query(
    `INSERT INTO metrics (tenant_id, variant_id, campaign_id, date, platform, impressions, clicks,
       conversions, spend_usd, video_views, revenue_usd)
     SELECT v.tenant_id, v.id, v.campaign_id, DATE '2026-01-01' + d, 'meta', 1000 + d, 10 + d, d,
       12.5, 500, 30.25
     FROM variants v, generate_series(0, 29) d`,
  );
  await client.query('VACUUM ANALYZE metrics');
  const { rows } = await client.query(
    `SELECT pg_table_size('metrics') AS heap, pg_indexes_size('metrics') AS idx,
       pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS wal`,
    [lsn],
  );
  const n = rowCount ?? 1;
  const r = rows[0];
  return [
    `metric rows: ${n} by plain INSERT: heap ${(Number(r.heap) / n).toFixed(0)} B + indexes ${(Number(r.idx) / n).toFixed(0)} B per row on disk, ${(Number(r.wal) / n).toFixed(0)} B WAL per row (cluster-wide)`,
  ];
}

export async function main() {
  const n = 60;
  const concurrency = 8;
  const instant = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 0 } });
  let lines: string[] = [];
  try {
    const r = await scenario({
      variants: n,
      fake: instant,
      env: {
        RENDER_CONCURRENCY: String(concurrency),
        OPENAI_RPM: '1000000',
        OPENAI_MAX_CONCURRENT: '1000',
        RENDER_POLL_INTERVAL_MS: '20',
      },
      probe: probe(n, (l) => {
        lines = l;
      }),
    });
    console.log(
      `variant cost, ${n} variants on an instant gateway, no overlay, worker concurrency ${concurrency}: ${(n / r.seconds).toFixed(1)} variants/s`,
    );
    for (const line of lines) console.log(line);
    console.log(
      `cpu per variant: ${((r.cpu / n) * 1000).toFixed(1)} ms in the worker (process + ffmpeg children)`,
    );
  } finally {
    await instant.close();
  }
}

if (import.meta.main) await main();
