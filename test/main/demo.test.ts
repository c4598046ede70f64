import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runDemo } from '../../src/main/demo.ts';
import { testConfig } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { removeKeysUnder } from '../helpers/redis.ts';

let db: TestDatabase;
let dir: string;
let prefix: string | undefined;
beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  dir = await mkdtemp(join(tmpdir(), 'amx-demo-'));
});
afterAll(async () => {
  // The demo's queues live under the config's prefix: remove them like every test file does.
  if (prefix) {
    const redis = new Redis(inject('redisUrl'));
    await removeKeysUnder(redis, prefix);
    await redis.quit();
  }
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('admatrix demo', () => {
  it('migrates, renders the 24 example variants with both logos and says where they are', {
    timeout: 120_000,
  }, async () => {
    let text = '';
    const out = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          text += chunk.toString();
          done();
        },
      }),
      { isTTY: false },
    ) as unknown as NodeJS.WriteStream;
    const config = testConfig({
      DATABASE_URL: db.url,
      STORAGE_DIR: join(dir, 'storage'),
      WORK_DIR: join(dir, 'work'),
      LOG_LEVEL: 'silent',
    });
    prefix = config.QUEUE_PREFIX;
    const result = await runDemo(config, out);
    expect(text).toContain('= 24 variants');
    expect(text).toMatch(/done {6}24 ready, 0 failed/);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT video_sha256)::int AS distinct_videos FROM variants WHERE run_id = $1 AND status = 'ready'`,
      [result.runId],
    );
    expect(rows[0]).toEqual({ n: 24, distinct_videos: 24 });
    const path = text.match(/ (\/\S+storage\/\S+)/)?.[1];
    expect(path).toBeDefined();
    expect((await stat(path!)).size).toBeGreaterThan(1000);
  });
});
