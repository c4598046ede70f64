import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runCli } from '../helpers/process.ts';
import { removeKeysUnder, testPrefix } from '../helpers/redis.ts';

describe('configuration', () => {
  it('lists every problem in one error', () => {
    const err = (() => {
      try {
        loadConfig({ DATABASE_URL: 'mysql://x', PORT: 'eighty', DEFAULT_PROVIDER: 'openai' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: /),
      'REDIS_URL: is required',
      expect.stringMatching(/^PORT: /),
    ]);
  });

  it('checks settings against each other', () => {
    expect(() =>
      loadConfig({
        DATABASE_URL: 'postgres://h/db',
        REDIS_URL: 'redis://h',
        DEFAULT_PROVIDER: 'openai',
      }),
    ).toThrow(/OPENAI_API_KEY: required when DEFAULT_PROVIDER=openai/);
  });

  it('fills defaults and treats empty values as unset', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://h/db',
      REDIS_URL: 'redis://h',
      PORT: '',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      PORT: 3000,
      LOG_LEVEL: 'debug',
      DEFAULT_PROVIDER: 'local',
      RATE_LIMIT_PER_MINUTE: 600,
    });
  });
});

describe('the admatrix command', () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    [migrated, empty] = await Promise.all([
      createTestDatabase(),
      createTestDatabase({ migrated: false }),
    ]);
  });
  // The run's own prefix: a fixed one was shared by every run on the Redis, and never removed.
  const prefix = testPrefix();
  afterAll(async () => {
    await Promise.all([migrated.drop(), empty.drop()]);
    const redis = new Redis(inject('redisUrl'));
    await removeKeysUnder(redis, prefix);
    redis.disconnect();
  });
  const env = (db: TestDatabase) => ({
    DATABASE_URL: db.url,
    REDIS_URL: inject('redisUrl'),
    LOG_LEVEL: 'info',
    QUEUE_PREFIX: prefix,
  });

  it('stops with one message listing every bad variable', async () => {
    const p = runCli(['api'], { DATABASE_URL: 'nope', PORT: '-1' });
    expect(await p.exited()).toBe(1);
    expect(p.output()).toMatch(
      /Invalid configuration:\n {2}- DATABASE_URL: .*\n {2}- REDIS_URL: is required\n {2}- PORT: /,
    );
  });

  it('refuses to start against an un-migrated database, saying what to run', async () => {
    for (const role of ['api', 'worker']) {
      const p = runCli([role], env(empty));
      expect(await p.exited()).toBe(1);
      expect(p.output()).toMatch(/not migrated.*npm run db:migrate/);
    }
  });

  it('migrates, then creates a key that is printed once', async () => {
    const m = runCli(['migrate'], env(empty));
    expect(await m.exited()).toBe(0);
    const created = runCli(
      ['keys', 'create', '--tenant', 'cli-co', '--scopes', 'campaigns:read,reports:read'],
      env(empty),
    );
    expect(await created.exited()).toBe(0);
    const key = created.output().match(/amx_[A-Za-z0-9_-]{43}/)?.[0];
    expect(key).toBeDefined();
    const listed = runCli(['keys', 'list'], env(empty));
    expect(await listed.exited()).toBe(0);
    expect(listed.output()).toContain('cli-co');
    expect(listed.output()).toContain('campaigns:read,reports:read');
    expect(listed.output()).not.toContain(key);
    const bad = runCli(['keys', 'create', '--tenant', 'x', '--scopes', 'root'], env(empty));
    expect(await bad.exited()).toBe(1);
    expect(bad.output()).toContain('unknown scope(s): root');
  });

  it('serves, then shuts down cleanly on SIGTERM', async () => {
    const api = runCli(['api'], { ...env(migrated), PORT: '0', HOST: '127.0.0.1' });
    const [, url] = await api.waitForOutput(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    api.child.kill('SIGTERM');
    const code = await api.exited();
    expect({ code, out: api.output() }).toMatchObject({ code: 0 });
    // The shutdown is logged from its start to its end. By time, not by line order: the two
    // lines can reach the pipe in either order when the process exits right after them.
    const lines = api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; time: number });
    const start = lines.find((l) => l.msg.startsWith('shutting down'));
    const end = lines.find((l) => l.msg === 'api stopped');
    expect(start && end && start.time <= end.time, api.output()).toBe(true);

    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const worker = runCli(['worker'], {
      ...env(migrated),
      WORKER_METRICS_PORT: port,
      HOST: '127.0.0.1',
    });
    await worker.waitForOutput(/worker started/);
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('# TYPE render_duration_seconds histogram');
    worker.child.kill('SIGTERM');
    expect(await worker.exited()).toBe(0);
  });
});
